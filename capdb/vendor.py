"""Third-party browser assets, installed as Python packages and served by capdb itself.

No page asks another host for anything: Leaflet and the like come from ``xstatic``
packages that the set-up installs.
"""

from __future__ import annotations

import importlib

from flask import Blueprint, abort, send_from_directory, url_for
from werkzeug.wrappers import Response

from capdb.security import public

# name in the URL -> the xstatic module holding the files
PACKAGES = {"leaflet": "xstatic.pkg.leaflet"}
ONE_WEEK = 7 * 24 * 3600

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@bp.get("/<package>/<path:filename>")
@public
def asset(package: str, filename: str) -> Response:
    if package not in PACKAGES:
        abort(404)
    module = importlib.import_module(PACKAGES[package])
    return send_from_directory(module.BASE_DIR, filename, max_age=ONE_WEEK)


def url(package: str, filename: str) -> str:
    """The URL of a vendored file, for templates."""
    return url_for("vendor.asset", package=package, filename=filename)
