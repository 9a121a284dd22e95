"""Static file URLs carry a digest of the file, so that browsers may keep them for good.

A URL whose ``v`` is the file's digest is answered ``Cache-Control: public,
max-age=31536000, immutable``: on a satellite link a page then loads its styles and scripts
from the browser's cache without asking again. Any other URL of a static file is answered
``no-cache`` (revalidated with its ETag). A new release changes the digest of every changed
file, hence its URL, and browsers fetch it again. nginx does the same for ``/static``
(deploy/nginx/capdb.conf); :mod:`capdb.vendor` for the third-party assets.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, Response, request

VERSION_ARGUMENT = "v"
FOR_GOOD = "public, max-age=31536000, immutable"


@cache
def digest(path: Path) -> str:
    """The first characters of the file's SHA-256; read once per process."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    except OSError:
        return ""


def init_app(app: Flask) -> None:
    folder = Path(app.static_folder or "")

    def add_version(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint != "static" or VERSION_ARGUMENT in values or "filename" not in values:
            return
        version = digest((folder / values["filename"]).resolve())
        if version:
            values[VERSION_ARGUMENT] = version

    app.url_defaults(add_version)

    def cache_for_good(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            asked = request.args.get(VERSION_ARGUMENT)
            current = digest((folder / filename).resolve()) if filename else ""
            response.headers["Cache-Control"] = (
                FOR_GOOD if asked and asked == current else "no-cache"
            )
        return response

    app.after_request(cache_for_good)
