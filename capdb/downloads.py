"""Files sent as downloads: named, and kept by no cache on the way or in the browser."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Response

Body = str | bytes | Iterable[str] | Iterable[bytes]


def attachment(body: Body, mimetype: str, filename: str) -> Response:
    """A download of ``body`` (whole, or in pieces as they are made) under ``filename``.

    Every file capdb sends holds case data, so none may linger in a shared cache.
    """
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response
