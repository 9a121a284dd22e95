"""Static file URLs carry a digest of the file, so that browsers may keep them long.

nginx serves ``/static`` with a week's cache (deploy/nginx/capdb.conf); a new release
changes the digest of every changed file, hence its URL, and browsers fetch it again.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask

VERSION_ARGUMENT = "v"


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
