"""A kept file sent to its reader: streamed in blocks, as a download, never as a page.

``Content-Disposition: attachment`` makes the browser save the file; ``nosniff`` stops it
guessing another type than the one capdb found; the sandboxing policy
(:data:`capdb.security.FILE_POLICY`) stops anything in the file from running should it
be shown anyway. The SHA-256 goes with it (``Repr-Digest``), as in the dossier.
"""

from __future__ import annotations

import base64
import unicodedata
from urllib.parse import quote

from flask import Response, abort, request
from werkzeug.wsgi import wrap_file

from capdb.security import FILE_POLICY
from incidents.attachments.models import AttachmentFile
from incidents.attachments.storage import BLOCK, MissingFileError, storage


def content_disposition(filename: str) -> str:
    """``attachment`` with the name in ASCII, and in UTF-8 when it has other letters."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = ascii_name.replace('"', "").replace("\\", "") or "document"
    value = f'attachment; filename="{ascii_name}"'
    if ascii_name != filename:
        value += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return value


def download(file: AttachmentFile) -> Response:
    """The file, streamed from storage; 404 if storage has lost it (``files verify`` says)."""
    try:
        handle = storage().open(file.sha256)
    except MissingFileError:
        abort(404)
    response = Response(
        wrap_file(request.environ, handle, BLOCK),
        content_type=file.media_type,
        direct_passthrough=True,
    )
    response.content_length = file.size
    headers = response.headers
    headers["Content-Disposition"] = content_disposition(file.filename)
    headers["Content-Security-Policy"] = FILE_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cache-Control"] = "no-store"
    digest = base64.b64encode(bytes.fromhex(file.sha256)).decode()
    headers["Repr-Digest"] = f"sha-256=:{digest}:"
    return response
