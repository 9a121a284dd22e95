"""An upload from a page or the API, received with the application's settings."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from capdb.config import current_config
from incidents.attachments import intake
from incidents.attachments.intake import MB, Staged
from incidents.attachments.storage import storage


def oversized() -> str | None:
    """Why the request is refused before its body is read, when it announces a body
    larger than one file of the limit and its form; None otherwise."""
    limit = current_config().max_upload_mb
    length = request.content_length
    if length is not None and length > (limit + 1) * MB:
        message: str = _(
            "The file is larger than %(limit)d MB, the most capdb accepts.", limit=limit
        )
        return message
    return None


def receive(upload: FileStorage, *, keep_metadata: bool = False) -> Staged:
    """Stage and check the uploaded file (:class:`~incidents.errors.InputError` on ``file``)."""
    config = current_config()
    return intake.receive(
        upload.stream,
        upload.filename or "",
        folder=storage().staging_folder(),
        limit_mb=config.max_upload_mb,
        allowed=intake.allowed_types(config.attachment_types),
        keep_metadata=keep_metadata,
    )
