"""What the API takes and gives for comments and requests for clarification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from capdb.vocabularies import COMMENT_KIND
from incidents.api.schemas import Schema, Text, at_most, record_id, vocabulary_field
from incidents.comments import threads as comments


class CommentInput(Schema):
    kind = vocabulary_field(COMMENT_KIND, load_default="comment")
    body = Text(
        required=True,
        validate=[
            validate.Length(min=1, error=_l("Write something first.")),
            at_most(comments.MAX_BODY),
        ],
    )
    answers = record_id(
        allow_none=True,
        load_default=None,
        metadata={"description": "The request for clarification this comment answers."},
    )


class CommentSchema(Schema):
    id = fields.Integer(required=True)
    kind = vocabulary_field(COMMENT_KIND, required=True)
    body = fields.String(required=True)
    author = fields.String(
        required=True,
        metadata={
            "description": "The author's mail address where the reader may see it (mission "
            "staff, admins, the author), otherwise a role and State such as 'Focal point, Chad'."
        },
    )
    side = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf([comments.STATE_SIDE, comments.UN_SIDE]),
    )
    created_at = fields.DateTime(required=True)


class CommentList(Schema):
    items = fields.List(fields.Nested(CommentSchema), required=True)
