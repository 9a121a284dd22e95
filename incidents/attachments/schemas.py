"""What the API takes and gives for attachments.

Uploads are ``multipart/form-data`` (the form's fields and its file in one body), read
through the ``multipart`` location that :class:`MultipartParser` adds to the API's parser.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Request
from flask_babel import lazy_gettext as _l
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from capdb.db import MAX_ID
from capdb.vocabularies import ATTACHMENT_KIND
from incidents.api.blueprint import JsonParser
from incidents.api.schemas import Schema, Text, at_most, vocabulary_field
from incidents.attachments.service import MAX_TITLE

MULTIPART = "multipart"


class MultipartParser(JsonParser):
    """The API's parser, reading a multipart body's fields and files together."""

    __location_map__ = {**JsonParser.__location_map__, MULTIPART: "load_multipart"}  # noqa: RUF012

    def load_multipart(self, req: Request, schema: ma.Schema) -> MultiDictProxy:
        return MultiDictProxy(CombinedMultiDict([req.files, req.form]), schema)


class File(Upload):  # type: ignore[misc]  # flask-smorest has no type hints
    """A file part of the body; text sent in its place is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError(_l("Send a file."))
        return value


def revision_field(**kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=False,
        validate=validate.Range(min=1, max=MAX_ID, error=_l("This is not a valid revision.")),
        metadata={
            "description": "The attachment's revision the change was made on (409 if it "
            "changed since)."
        },
        **kwargs,
    )


def _title(**kwargs: Any) -> Text:
    return Text(validate=at_most(MAX_TITLE), **kwargs)


class AttachmentUpload(Schema):
    file = File(required=True)
    title = _title(load_default="", metadata={"description": "The file's name when left empty."})
    kind = vocabulary_field(ATTACHMENT_KIND, load_default="other")
    personal_data = fields.Boolean(
        load_default=False,
        metadata={"description": "Only those who may see identities list or download it."},
    )
    keep_metadata = fields.Boolean(
        load_default=False,
        metadata={"description": "Keep an image's EXIF (GPS included), stripped otherwise."},
    )


class FileUpload(Schema):
    file = File(required=True)
    revision = revision_field(required=True)
    keep_metadata = fields.Boolean(load_default=False)


class AttachmentPatch(Schema):
    title = _title()
    kind = vocabulary_field(ATTACHMENT_KIND)
    personal_data = fields.Boolean()
    revision = revision_field(required=True)


class RevisionQuery(Schema):
    revision = revision_field(required=True)


class ContentQuery(Schema):
    version = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID, error=_l("This is not a valid version.")),
        metadata={"description": "An earlier version of the file; the newest by default."},
    )


class FileVersionSchema(Schema):
    number = fields.Integer(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    filename = fields.String(required=True)
    metadata_kept = fields.Boolean(required=True)
    uploaded_at = fields.DateTime(required=True)


class AttachmentSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = vocabulary_field(ATTACHMENT_KIND, required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True)
    sha256 = fields.String(required=True)
    version = fields.Integer(
        required=True, metadata={"description": "The number of the file's newest version."}
    )
    personal_data = fields.Boolean(required=True)
    filename = fields.String(required=True)
    revision = fields.Integer(required=True)
    incident = fields.Integer(required=True, allow_none=True)
    case = fields.Integer(required=True, allow_none=True)
    stage_event = fields.Integer(required=True, allow_none=True)
    deleted = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class AttachmentDetail(AttachmentSchema):
    versions = fields.List(fields.Nested(FileVersionSchema), required=True)


class AttachmentList(Schema):
    items = fields.List(fields.Nested(AttachmentSchema), required=True)
