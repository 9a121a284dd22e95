"""What the API takes and gives for maps and reference data, and the fields the features'
schemas are made of; incidents and victims are in :mod:`incidents.recording.schemas`, the
query of the shared filter in :mod:`incidents.api.queries`.

The schemas validate requests field by field and are, through flask-smorest, the OpenAPI
document itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from capdb import db
from capdb.db import MAX_ID
from capdb.reference import PLACES, Country, countries_of
from capdb.vocabularies import (
    ATTACK_CONTEXT,
    GEO_PRECISION,
    LOCATION_TYPE,
    MEANS_OF_ATTACK,
    VERIFICATION_STATUS,
    Vocabulary,
)
from incidents.filters import DEFAULT_PER_PAGE, MAX_PER_PAGE, country_codes, mission_codes

PERSONAL = "Personal data: present only when the access rule lets the viewer see it."
MAX_GEOJSON_PER_PAGE = 5000
DEFAULT_GEOJSON_PER_PAGE = 1000

Problems = dict[str, Any]


class Schema(ma.Schema):
    """Refuses fields it does not know: nothing is mass-assigned by accident."""

    class Meta:
        unknown = ma.RAISE


# Fields ------------------------------------------------------------------------------------


class Text(fields.String):
    """Text with surrounding blanks removed, as the forms do, and nothing a database
    cannot store (PostgreSQL refuses NUL characters; lone surrogates are not UTF-8)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if not _storable(text):
            raise ma.ValidationError(_("This text holds characters that are not allowed."))
        return text.strip()


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


class Code(Text):
    """A mission's acronym or a country's ISO alpha-3 code, in any case."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return super()._deserialize(value, attr, data, **kwargs).upper()


def at_most(count: int) -> validate.Length:
    return validate.Length(max=count, error=_l("Use at most {max} characters."))


class LiveCodes:
    """A vocabulary's codes as they are when asked: admins add terms without a release."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocabulary = vocabulary

    def __iter__(self) -> Iterator[str]:
        return iter(self.vocabulary.codes)

    def __contains__(self, code: object) -> bool:
        return code in self.vocabulary


def one_of(vocabulary: Vocabulary) -> validate.OneOf:
    """Any code of the vocabulary, retired ones included (old records hold them; whether a
    new value may be retired is the rules' to say)."""
    return validate.OneOf(LiveCodes(vocabulary), error=_l("Choose one of the listed values."))


def vocabulary_field(vocabulary: Vocabulary, **kwargs: Any) -> fields.String:
    description = f"A code of the {vocabulary.name} vocabulary (GET /api/v1/vocabularies)."
    kwargs.setdefault("metadata", {"description": description})
    return fields.String(validate=one_of(vocabulary), **kwargs)


AllowedValues = Callable[[Session], list[str]]
F = TypeVar("F", bound=fields.Field[Any])

# Not an "x-" key: apispec copies those into the document as they are.
ALLOWED_VALUES = "capdb_allowed_values"


def listing(field: F, values: AllowedValues | None) -> F:
    """The field, its allowed values listed (as ``enum``) in the OpenAPI document.

    For values that are reference data in the database (missions, countries), which the
    document reads when it is written (:func:`document_allowed_values`).
    """
    if values is not None:
        field.metadata = {**field.metadata, ALLOWED_VALUES: values}
    return field


def document_allowed_values(self: Any, field: fields.Field[Any], **kwargs: Any) -> dict[str, Any]:
    """An apispec attribute function: the ``enum`` of a field given by :func:`listing`."""
    values = field.metadata.get(ALLOWED_VALUES)
    if values is None:
        return {}
    enum: list[str | None] = list(values(db.session()))
    return {"enum": [*enum, None] if field.allow_none else enum}


def known_country(kinds: frozenset[str]) -> Callable[[str], None]:
    """A country of these kinds (capdb.reference: PLACES, STATES, NATIONALITIES)."""

    def check(code: str) -> None:
        country = db.session().get(Country, code) if len(code) == 3 else None
        if country is None or country.kind not in kinds:
            raise ma.ValidationError(_("Choose a country from the list."))

    return check


def countries_listed(kinds: frozenset[str]) -> AllowedValues:
    return lambda session: [c.code for c in countries_of(session, kinds)]


def country_field(kinds: frozenset[str] = PLACES, **kwargs: Any) -> Code:
    kwargs.setdefault("metadata", {"description": "ISO 3166 alpha-3 code, such as MLI."})
    return listing(Code(validate=known_country(kinds), **kwargs), countries_listed(kinds))


def record_id(**kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID, error=_l("This is not a valid number.")),
        **kwargs,
    )


def version_field() -> fields.Integer:
    return fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_ID, error=_l("This is not a valid version.")),
        metadata={"description": "The version of the record the change was made on."},
    )


# Errors -------------------------------------------------------------------------------------


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "What went wrong."})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Each invalid field (dotted when nested) with its reasons."},
    )
    current = fields.Dict(metadata={"description": "On a stale change (409): the record now."})


# Paging ------------------------------------------------------------------------------------


def per_page_field(maximum: int = MAX_PER_PAGE, default: int = DEFAULT_PER_PAGE) -> fields.Integer:
    return fields.Integer(
        load_default=default,
        validate=validate.Range(
            min=1, max=maximum, error=_l("Choose a number between {min} and {max}.")
        ),
    )


def id_cursor_field() -> fields.Integer:
    """The cursor of a list paged by id, newest first: the last id of the previous page."""
    return fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID, error=_l("This page link is not valid.")),
        metadata={"description": "The next_cursor of the previous page."},
    )


# GeoJSON ---------------------------------------------------------------------------------


class PointSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["Point"]))
    coordinates = fields.List(
        fields.Float(),
        required=True,
        validate=validate.Length(equal=2),
        metadata={"description": "[longitude, latitude]"},
    )


class FeaturePropertiesSchema(Schema):
    reference = fields.String(required=True)
    mission = listing(fields.String(required=True), mission_codes)
    country = listing(fields.String(required=True), country_codes)
    occurred_on = fields.Date(required=True)
    place = fields.String(required=True)
    geo_precision = vocabulary_field(GEO_PRECISION, required=True)
    means_of_attack = vocabulary_field(MEANS_OF_ATTACK, required=True)
    attack_context = vocabulary_field(ATTACK_CONTEXT, required=True)
    location_type = vocabulary_field(LOCATION_TYPE, required=True)
    status = vocabulary_field(VERIFICATION_STATUS, required=True)
    killed = fields.Integer(required=True)
    injured = fields.Integer(required=True)
    abducted = fields.Integer(required=True)
    detained = fields.Integer(required=True)


class FeatureSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["Feature"]))
    id = fields.Integer(required=True)
    geometry = fields.Nested(PointSchema, required=True, allow_none=True)
    properties = fields.Nested(FeaturePropertiesSchema, required=True)


class FeatureCollectionSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(["FeatureCollection"]))
    features = fields.List(fields.Nested(FeatureSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


# Reference data and statistics -----------------------------------------------------------------


class TermSchema(Schema):
    code = fields.String(required=True)
    en = fields.String(required=True)
    fr = fields.String(required=True)
    retired = fields.Boolean(
        required=True, metadata={"description": "Kept on old records, not offered for new ones."}
    )
    uniformed = fields.Boolean(metadata={"description": "Personnel categories: uniformed."})
    version = fields.Integer(
        metadata={"description": "Of a term admins keep: the version a change is made on."}
    )


class VocabularySchema(Schema):
    title_en = fields.String(required=True)
    title_fr = fields.String(required=True)
    kept = fields.Boolean(
        required=True, metadata={"description": "Admins change its labels and add terms."}
    )
    terms = fields.List(fields.Nested(TermSchema), required=True)


class VocabulariesSchema(Schema):
    vocabularies = fields.Dict(
        keys=fields.String(), values=fields.Nested(VocabularySchema), required=True
    )
