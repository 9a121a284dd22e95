"""Third-party browser assets, installed as Python packages and served by capdb itself.

No page asks another host for anything: Leaflet and the like come from ``xstatic``
packages that the set-up installs. The files are read once and kept in memory, so that
the compression layer can shrink them (a script to a quarter of its size) for users on
slow links.
"""

from __future__ import annotations

import importlib
import mimetypes
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from capdb.security import public
from capdb.static_versions import FOR_GOOD, VERSION_ARGUMENT, digest

NODE_MODULES = Path(__file__).resolve().parent.parent / "node_modules"
# name in the URL -> where its files are: an xstatic module, or a folder of an npm
# package that `make` installs (see package.json)
PACKAGES: dict[str, str | Path] = {
    "leaflet": "xstatic.pkg.leaflet",
    "leaflet.markercluster": NODE_MODULES / "leaflet.markercluster" / "dist",
    "leaflet.heat": NODE_MODULES / "leaflet.heat" / "dist",
    # IndexedDB made pleasant: the offline drafts and outbox (UMD build, for pages and the
    # service worker alike).
    "idb": NODE_MODULES / "idb" / "build",
}
ONE_WEEK = 7 * 24 * 3600

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@cache
def served_files(package: str) -> Mapping[str, Path]:
    """The files of a package that may be asked for, by their path in the URL.

    Built once per known package by walking its folder, so that a request is answered
    by looking its path up here: an unknown name, however long or strange (``..``, an
    absolute path, a NUL byte, a folder), is simply not found, and never reaches the
    file system. The cache holds one entry per package of :data:`PACKAGES`.
    """
    location = PACKAGES[package]
    folder = location if isinstance(location, Path) else importlib.import_module(location).BASE_DIR
    root = Path(folder)
    files: dict[str, Path] = {}
    # Links to folders are not followed: only what the package itself holds is served.
    for directory, _subfolders, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path
    return files


@cache
def _content(package: str, filename: str) -> bytes:
    # Only ever called with a name of served_files(), so it holds at most every file once.
    return served_files(package)[filename].read_bytes()


@bp.get("/<package>/<path:filename>")
@public
def asset(package: str, filename: str) -> WerkzeugResponse:
    if package not in PACKAGES or filename not in served_files(package):
        abort(404)
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    response = Response(_content(package, filename), mimetype=mimetype)
    if request.args.get(VERSION_ARGUMENT) == digest(served_files(package)[filename]):
        # The URL names this very content: kept for good (capdb/static_versions.py).
        response.headers["Cache-Control"] = FOR_GOOD
    else:
        response.cache_control.public = True
        response.cache_control.max_age = ONE_WEEK
    response.add_etag()
    return response.make_conditional(request)


def url(package: str, filename: str) -> str:
    """The URL of a vendored file, for templates: with the digest of its content, as the
    application's own static files have (capdb.static_versions), so that a new release of
    the package is a new URL, and browsers keep each one for good."""
    path = served_files(package).get(filename) if package in PACKAGES else None
    version = digest(path) if path is not None else ""
    arguments: dict[str, Any] = {VERSION_ARGUMENT: version} if version else {}
    return url_for("vendor.asset", package=package, filename=filename, **arguments)
