"""Sending files to the API and reading them back."""

from __future__ import annotations

import io
from typing import Any

from flask import Flask
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from incidents.attachments.storage import Storage
from tests.api.conftest import ApiClient


def multipart(data: bytes, name: str, **fields: Any) -> tuple[bytes, str]:
    """A multipart body of one file and form fields, made in memory; its content type."""
    form: dict[str, Any] = {
        key: str(value).lower() if isinstance(value, bool) else str(value)
        for key, value in fields.items()
    }
    form["file"] = FileStorage(io.BytesIO(data), filename=name)
    boundary, body = encode_multipart(form)
    return body, f"multipart/form-data; boundary={boundary}"


def send(api: ApiClient, path: str, data: bytes, name: str, **fields: Any) -> TestResponse:
    """POST a multipart upload of one file (and form fields) to the API path."""
    body, content_type = multipart(data, name, **fields)
    return api.post(path, data=body, content_type=content_type)


def fetch(api: ApiClient, path: str) -> TestResponse:
    """GET a download, read whole and closed (files are streamed from an open handle)."""
    response = api.get(path)
    response.get_data()
    response.close()
    return response


def kept(app: Flask) -> Storage:
    found: Storage = app.extensions["capdb.storage"]
    return found


def staged_files(app: Flask) -> list[str]:
    """Files waiting in the staging folder: none once a request has ended."""
    return sorted(p.name for p in kept(app).staging_folder().iterdir())
