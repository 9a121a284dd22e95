"""What the API takes and gives for incidents, victims, maps and reference data (the
query of the shared filter is :mod:`incidents.api.queries`).

The schemas validate requests field by field and are, through flask-smorest, the OpenAPI
document itself. Rules between fields and with the reference data (a time needs an exact
date, a date within the mission's years, a date of death a killed victim...) are those of
:mod:`incidents.recording.rules`, which the form and the import apply too; they are checked on the
loaded values, so that a partial update checks them on the record as it would become.
Input field names are the API's; ``attribute`` maps them onto the model's (``mission`` ->
``mission_code``).

Personal data (a victim's ``name`` and ``identifier``) is left out of a response, key
and all, for viewers the access rule does not let see it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

import marshmallow as ma
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from capdb import db
from capdb.reference import Country, Mission
from capdb.vocabularies import (
    ATTACK_CONTEXT,
    DATE_PRECISION,
    GEO_PRECISION,
    LOCATION_TYPE,
    MEANS_OF_ATTACK,
    OUTCOME,
    PERPETRATOR_TYPE,
    PERSONNEL_CATEGORY,
    SEX,
    VERIFICATION_STATUS,
    Vocabulary,
)
from incidents.filters import (
    DEFAULT_PER_PAGE,
    MAX_PER_PAGE,
    country_codes,
    mission_codes,
)
from incidents.justice.cases import MAX_ID
from incidents.recording import rules
from incidents.recording.service import RETURN_REASON_MAX

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


def one_of(vocabulary: Vocabulary) -> validate.OneOf:
    return validate.OneOf(vocabulary.codes, error=_l("Choose one of the listed values."))


def vocabulary_field(vocabulary: Vocabulary, **kwargs: Any) -> fields.String:
    description = f"A code of the {vocabulary.name} vocabulary (GET /api/v1/vocabularies)."
    kwargs.setdefault("metadata", {"description": description})
    return fields.String(validate=one_of(vocabulary), **kwargs)


AllowedValues = Callable[[Session], list[str]]
F = TypeVar("F", bound=fields.Field[Any])


def listing(field: F, values: AllowedValues | None) -> F:
    """The field, its allowed values listed (as ``enum``) in the OpenAPI document.

    For values that are reference data in the database (missions, countries), which the
    document reads when it is written (:func:`document_allowed_values`).
    """
    if values is not None:
        field.metadata = {**field.metadata, ALLOWED_VALUES: values}
    return field


# Not an "x-" key: apispec copies those into the document as they are.
ALLOWED_VALUES = "capdb_allowed_values"


def document_allowed_values(self: Any, field: fields.Field[Any], **kwargs: Any) -> dict[str, Any]:
    """An apispec attribute function: the ``enum`` of a field given by :func:`listing`."""
    values = field.metadata.get(ALLOWED_VALUES)
    if values is None:
        return {}
    enum: list[str | None] = list(values(db.session()))
    return {"enum": [*enum, None] if field.allow_none else enum}


def known_country(code: str) -> None:
    if len(code) != 3 or db.session().get(Country, code) is None:
        raise ma.ValidationError(_("Choose a country from the list."))


def country_field(**kwargs: Any) -> Code:
    kwargs.setdefault("metadata", {"description": "ISO 3166 alpha-3 code, such as MLI."})
    return listing(Code(validate=known_country, **kwargs), country_codes)


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


# Victims ------------------------------------------------------------------------------------


class VictimInput(Schema):
    """A victim's fields. The rules between them are checked knowing the incident's date:
    by :class:`IncidentInput` for a new incident's victims, by the views otherwise."""

    category = vocabulary_field(PERSONNEL_CATEGORY, required=True)
    nationality = country_field(required=True, attribute="nationality_code")
    contributing_country = country_field(
        allow_none=True,
        load_default=None,
        attribute="contributing_country_code",
        metadata={"description": "For uniformed personnel only: who contributed their unit."},
    )
    unit = Text(allow_none=True, load_default=None, validate=at_most(rules.UNIT_MAX))
    sex = vocabulary_field(SEX, load_default="unknown")
    outcome = vocabulary_field(OUTCOME, required=True)
    date_of_death = fields.Date(
        allow_none=True,
        load_default=None,
        metadata={"description": "Only for a victim who was killed."},
    )
    name = Text(
        allow_none=True,
        load_default=None,
        validate=at_most(rules.NAME_MAX),
        metadata={"description": PERSONAL},
    )


class VictimPatch(VictimInput):
    version = version_field()


def victim_problems(values: Mapping[str, Any], *, incident_date: date | None) -> Problems:
    """What is wrong between a victim's fields (values keyed by model attribute, problems by
    API field)."""
    return dict(rules.victim_problems(values, incident_date=incident_date))


class VictimSchema(Schema):
    id = fields.Integer(required=True)
    category = vocabulary_field(PERSONNEL_CATEGORY, required=True)
    nationality = listing(
        fields.String(required=True, metadata={"description": "ISO alpha-3"}), country_codes
    )
    contributing_country = listing(fields.String(required=True, allow_none=True), country_codes)
    unit = fields.String(required=True, allow_none=True)
    sex = vocabulary_field(SEX, required=True)
    outcome = vocabulary_field(OUTCOME, required=True)
    date_of_death = fields.Date(required=True, allow_none=True)
    name = fields.String(allow_none=True, metadata={"description": PERSONAL})
    identifier = fields.String(allow_none=True, metadata={"description": PERSONAL})
    version = fields.Integer(required=True)


class VictimList(Schema):
    items = fields.List(fields.Nested(VictimSchema), required=True)


# Incidents ----------------------------------------------------------------------------------


class IncidentInput(Schema):
    mission = listing(
        Code(
            required=True,
            attribute="mission_code",
            metadata={"description": "The mission's acronym; one the user records incidents for."},
        ),
        mission_codes,
    )
    occurred_on = fields.Date(
        required=True,
        metadata={"description": "Not in the future, nor outside the mission's years."},
    )
    occurred_time = fields.Time(
        allow_none=True,
        load_default=None,
        metadata={"description": "Only with date_precision 'exact'."},
    )
    date_precision = vocabulary_field(DATE_PRECISION, load_default="day")
    country = country_field(
        load_default=None,
        attribute="country_code",
        metadata={"description": "ISO alpha-3; the mission's first host country if left out."},
    )
    place = Text(
        required=True,
        validate=[
            validate.Length(min=1, error=_l("Name the place.")),
            at_most(rules.PLACE_MAX),
        ],
    )
    # The ranges are checked with the rules between fields; here they are documented.
    latitude = fields.Float(
        allow_none=True, load_default=None, metadata={"minimum": -90, "maximum": 90}
    )
    longitude = fields.Float(
        allow_none=True, load_default=None, metadata={"minimum": -180, "maximum": 180}
    )
    geo_precision = vocabulary_field(GEO_PRECISION, load_default="exact")
    means_of_attack = vocabulary_field(MEANS_OF_ATTACK, required=True)
    attack_context = vocabulary_field(ATTACK_CONTEXT, required=True)
    location_type = vocabulary_field(LOCATION_TYPE, required=True)
    perpetrator_type = vocabulary_field(PERPETRATOR_TYPE, required=True)
    perpetrator_name = Text(
        allow_none=True, load_default=None, validate=at_most(rules.PERPETRATOR_NAME_MAX)
    )
    narrative = Text(load_default="", validate=at_most(rules.NARRATIVE_MAX))
    sources = Text(load_default="", validate=at_most(rules.SOURCES_MAX))
    victims = fields.List(
        fields.Nested(VictimInput),
        load_default=list,
        validate=validate.Length(
            max=rules.MAX_VICTIMS, error=_l("At most {max} victims per incident.")
        ),
    )

    @ma.validates_schema(skip_on_field_errors=False)
    def _between_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not kwargs.get("partial"):
            problems = incident_problems(data)
            if problems:
                raise ma.ValidationError(problems)


class IncidentPatch(IncidentInput):
    """Any of the incident's fields, and the version they change; victims have their own
    endpoints."""

    version = version_field()

    class Meta(Schema.Meta):
        exclude = ("victims",)


def incident_problems(values: Mapping[str, Any]) -> Problems:
    """What is wrong between an incident's fields, its victims' included, and with its
    mission (values keyed by model attribute, problems by API field).

    Whether the mission exists and the user may record for it is the view's to check.
    """
    code = values.get("mission_code")
    mission = db.session().get(Mission, code) if isinstance(code, str) and code else None
    problems: Problems = dict(rules.incident_problems(values, mission=mission))
    victims: Problems = {}
    for number, victim in enumerate(values.get("victims") or []):
        found = victim_problems(victim, incident_date=values.get("occurred_on"))
        if found:
            victims[str(number)] = found
    if victims:
        problems["victims"] = victims
    return problems


class IncidentSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"example": "MINUSMA-2021-0042"})
    mission = listing(
        fields.String(required=True, metadata={"description": "The mission's acronym."}),
        mission_codes,
    )
    occurred_on = fields.Date(required=True)
    occurred_time = fields.Time(required=True, allow_none=True)
    date_precision = vocabulary_field(DATE_PRECISION, required=True)
    country = listing(
        fields.String(required=True, metadata={"description": "ISO alpha-3"}), country_codes
    )
    place = fields.String(required=True)
    latitude = fields.Float(required=True, allow_none=True)
    longitude = fields.Float(required=True, allow_none=True)
    geo_precision = vocabulary_field(GEO_PRECISION, required=True)
    admin1 = fields.String(required=True, allow_none=True)
    admin2 = fields.String(required=True, allow_none=True)
    means_of_attack = vocabulary_field(MEANS_OF_ATTACK, required=True)
    attack_context = vocabulary_field(ATTACK_CONTEXT, required=True)
    location_type = vocabulary_field(LOCATION_TYPE, required=True)
    perpetrator_type = vocabulary_field(PERPETRATOR_TYPE, required=True)
    perpetrator_name = fields.String(required=True, allow_none=True)
    narrative = fields.String(required=True)
    sources = fields.String(required=True)
    status = vocabulary_field(VERIFICATION_STATUS, required=True)
    version = fields.Integer(required=True)
    victims = fields.List(fields.Nested(VictimSchema), required=True)
    return_reason = fields.String(
        allow_none=True,
        metadata={"description": "Why it was returned to draft; for those who keep its record."},
    )


class IncidentPage(Schema):
    items = fields.List(fields.Nested(IncidentSchema), required=True)
    next_cursor = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Pass as cursor for the next page; null on the last one."},
    )


class WorkflowInput(Schema):
    version = version_field()


class ReturnInput(WorkflowInput):
    reason = Text(
        required=True,
        validate=[
            validate.Length(min=1, error=_l("Give the reason for returning the incident.")),
            at_most(RETURN_REASON_MAX),
        ],
    )


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


class VocabularySchema(Schema):
    title_en = fields.String(required=True)
    title_fr = fields.String(required=True)
    terms = fields.List(fields.Nested(TermSchema), required=True)


class VocabulariesSchema(Schema):
    vocabularies = fields.Dict(
        keys=fields.String(), values=fields.Nested(VocabularySchema), required=True
    )
