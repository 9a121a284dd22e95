"""Third-party browser assets, installed as Python packages and served by capdb itself.

No page asks another host for anything: Leaflet and the like come from ``xstatic``
packages that the set-up installs. The files are read once and kept in memory, so that
the compression layer can shrink them (a script to a quarter of its size) for users on
slow links.
"""

from __future__ import annotations

import importlib
import mimetypes
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, request, url_for
from werkzeug.security import safe_join
from werkzeug.wrappers import Response as WerkzeugResponse

from capdb.security import public

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# name in the URL -> where its files are: an xstatic module, or a folder of an npm
# package that `make` installs (see package.json)
PACKAGES: dict[str, str | Path] = {
    "leaflet": "xstatic.pkg.leaflet",
    "leaflet.markercluster": NODE_MODULES / "leaflet.markercluster" / "dist",
    "leaflet.heat": NODE_MODULES / "leaflet.heat" / "dist",
}
ONE_WEEK = 7 * 24 * 3600

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@cache
def _read(package: str, filename: str) -> bytes | None:
    location = PACKAGES[package]
    folder = location if isinstance(location, Path) else importlib.import_module(location).BASE_DIR
    path = safe_join(str(folder), filename)
    if path is None or not Path(path).is_file():
        return None
    return Path(path).read_bytes()


@bp.get("/<package>/<path:filename>")
@public
def asset(package: str, filename: str) -> WerkzeugResponse:
    data = _read(package, filename) if package in PACKAGES else None
    if data is None:
        abort(404)
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = ONE_WEEK
    response.add_etag()
    return response.make_conditional(request)


def url(package: str, filename: str) -> str:
    """The URL of a vendored file, for templates."""
    return url_for("vendor.asset", package=package, filename=filename)
