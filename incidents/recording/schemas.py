"""What the API takes and gives for incidents and victims.

The fields are those declared in :mod:`incidents.fields`: their API names,
``attribute`` mapping them onto the model's (``mission`` -> ``mission_code``), vocabularies,
lengths and defaults come from there; what only the API says (documentation, the ranges
it documents) is here. Rules between fields and with the reference data are those of
:mod:`incidents.recording.rules`, which the form and the import apply too; they are
checked on the loaded values, so that a partial update checks them on the record as it
would become.

Personal data (a victim's ``name`` and ``identifier``) is left out of a response, key
and all, for viewers the access rule does not let see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from capdb import db
from capdb.reference import Mission
from incidents.api.schemas import (
    PERSONAL,
    Code,
    Problems,
    Schema,
    Text,
    at_most,
    country_field,
    listing,
    version_field,
    vocabulary_field,
)
from incidents.fields import INCIDENT_FIELDS, VICTIM_FIELDS, Field, Kind, recorded
from incidents.filters import country_codes, mission_codes
from incidents.recording import rules
from incidents.recording.service import RETURN_REASON_MAX

# The ranges are checked with the rules between fields; here they are documented.
_RANGES = {"latitude": (-90, 90), "longitude": (-180, 180)}
# What responses say of a field beyond its type.
_SERVED_NOTES: dict[str, dict[str, Any]] = {
    "reference": {"example": "MINUSMA-2021-0042"},
    "mission": {"description": "The mission's acronym."},
    "country": {"description": "ISO alpha-3"},
    "nationality": {"description": "ISO alpha-3"},
}


def _metadata(field: Field) -> dict[str, Any]:
    if field.personal:
        return {"description": PERSONAL}
    if field.name in _RANGES:
        low, high = _RANGES[field.name]
        return {"minimum": low, "maximum": high}
    return {"description": field.note} if field.note else {}


def _presence(field: Field) -> dict[str, Any]:
    """Required, or what a request that leaves the field out gets."""
    if field.required and field.default is None:
        return {"required": True}
    if field.nullable:
        return {"allow_none": True, "load_default": None}
    return {"load_default": field.default}


def input_field(field: Field) -> fields.Field[Any]:
    """The field of a request body, as the declaration describes it."""
    kwargs = _presence(field)
    if metadata := _metadata(field):
        kwargs["metadata"] = metadata
    if field.model_attribute != field.name:
        kwargs["attribute"] = field.model_attribute
    if field.kind is Kind.MISSION:
        return listing(Code(**kwargs), mission_codes)
    if field.kind is Kind.COUNTRY:
        return country_field(field.countries, **kwargs)
    if field.kind is Kind.CHOICE and field.vocabulary is not None:
        return vocabulary_field(field.vocabulary, **kwargs)
    if field.kind is Kind.DATE:
        return fields.Date(**kwargs)
    if field.kind is Kind.TIME:
        return fields.Time(**kwargs)
    if field.kind is Kind.DEGREES:
        return fields.Float(**kwargs)
    checks: list[validate.Validator] = []
    if field.required:
        checks.append(validate.Length(min=1, error=field.missing))
    if field.max_length is not None:
        checks.append(at_most(field.max_length))
    return Text(validate=checks, **kwargs)


def served_field(field: Field) -> fields.Field[Any]:
    """The field of a response: always there (personal data aside), null when empty."""
    kwargs: dict[str, Any] = {"required": not field.personal}
    if field.nullable:
        kwargs["allow_none"] = True
    if metadata := _SERVED_NOTES.get(field.name) or (_metadata(field) if field.personal else {}):
        kwargs["metadata"] = metadata
    if field.kind is Kind.CHOICE and field.vocabulary is not None:
        return vocabulary_field(field.vocabulary, **kwargs)
    types = {Kind.DATE: fields.Date, Kind.TIME: fields.Time, Kind.DEGREES: fields.Float}
    # Missions and countries: listed from the reference data in the OpenAPI document.
    listed = {Kind.MISSION: mission_codes, Kind.COUNTRY: country_codes}.get(field.kind)
    return listing(types.get(field.kind, fields.String)(**kwargs), listed)


def input_fields(declared: tuple[Field, ...]) -> dict[str, fields.Field[Any]]:
    return {f.name: input_field(f) for f in recorded(declared)}


def served_fields(declared: tuple[Field, ...]) -> dict[str, fields.Field[Any]]:
    return {f.name: served_field(f) for f in declared if f.served}


# Victims ------------------------------------------------------------------------------------


class VictimInput(Schema.from_dict(input_fields(VICTIM_FIELDS), name="VictimFields")):  # type: ignore[misc]
    """A victim's fields. The rules between them are checked knowing the incident's date:
    by :class:`IncidentInput` for a new incident's victims, by the views otherwise."""


class VictimPatch(VictimInput):
    version = version_field()


def victim_problems(
    values: Mapping[str, Any],
    *,
    incident_date: date | None,
    stored: Mapping[str, Any] | None = None,
) -> Problems:
    """What is wrong between a victim's fields (values keyed by model attribute, problems by
    API field); ``stored``: the victim's values before a change (None for a new one)."""
    return {
        **rules.retired_problems(values, VICTIM_FIELDS, stored),
        **rules.victim_problems(values, incident_date=incident_date),
    }


class VictimSchema(Schema.from_dict(served_fields(VICTIM_FIELDS), name="VictimServed")):  # type: ignore[misc]
    id = fields.Integer(required=True)
    version = fields.Integer(required=True)


class VictimList(Schema):
    items = fields.List(fields.Nested(VictimSchema), required=True)


# Incidents ----------------------------------------------------------------------------------


class IncidentInput(Schema.from_dict(input_fields(INCIDENT_FIELDS), name="IncidentFields")):  # type: ignore[misc]
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


class VictimReplace(VictimInput):
    """A victim of a whole incident sent again: one it has (``id`` and the ``version`` it
    was loaded at) or a new one (neither)."""

    id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=db.MAX_ID),
        metadata={"description": "The victim's id; none for a new victim."},
    )
    version = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=db.MAX_ID),
        metadata={"description": "The victim's version the change was made on."},
    )

    @ma.validates_schema
    def _version_with_id(self, data: dict[str, Any], **kwargs: Any) -> None:
        if (data.get("id") is None) != (data.get("version") is None):
            raise ma.ValidationError(
                _l("Give both the victim's id and its version, or neither."), "version"
            )


class IncidentReplace(IncidentInput):
    """The whole incident with its victims, and the version the change was made on.

    A retired term is checked by the view (:func:`retired_in_replacement`), which knows
    what the incident and each of its victims held."""

    version = version_field()
    victims = fields.List(
        fields.Nested(VictimReplace),
        required=True,
        validate=validate.Length(
            max=rules.MAX_VICTIMS, error=_l("At most {max} victims per incident.")
        ),
    )

    @ma.validates_schema(skip_on_field_errors=False)
    def _between_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        problems = incident_problems(data, retired=False)
        if problems:
            raise ma.ValidationError(problems)


def retired_in_replacement(
    values: Mapping[str, Any],
    stored: Mapping[str, Any],
    stored_victims: Mapping[int, Mapping[str, Any]],
) -> Problems:
    """The retired terms of a whole incident sent again that neither the incident nor the
    victim of that id holds already (``stored``: values by model attribute)."""
    problems: Problems = dict(rules.retired_problems(values, INCIDENT_FIELDS, stored))
    victims: Problems = {}
    for number, victim in enumerate(values.get("victims") or []):
        before = stored_victims.get(victim["id"]) if victim.get("id") is not None else None
        found = rules.retired_problems(victim, VICTIM_FIELDS, before)
        if found:
            victims[str(number)] = found
    if victims:
        problems["victims"] = victims
    return problems


def incident_problems(
    values: Mapping[str, Any], stored: Mapping[str, Any] | None = None, *, retired: bool = True
) -> Problems:
    """What is wrong between an incident's fields, its victims' included, and with its
    mission (values keyed by model attribute, problems by API field); with ``retired``, a
    retired term that ``stored`` (the incident's values before the change) does not hold.

    Whether the mission exists and the user may record for it is the view's to check.
    """
    code = values.get("mission_code")
    mission = db.session().get(Mission, code) if isinstance(code, str) and code else None
    problems: Problems = {
        **(rules.retired_problems(values, INCIDENT_FIELDS, stored) if retired else {}),
        **rules.incident_problems(values, mission=mission),
    }
    victims: Problems = {}
    for number, victim in enumerate(values.get("victims") or []):
        day = values.get("occurred_on")
        found = (
            victim_problems(victim, incident_date=day)
            if retired
            else dict(rules.victim_problems(victim, incident_date=day))
        )
        if found:
            victims[str(number)] = found
    if victims:
        problems["victims"] = victims
    return problems


class IncidentSchema(Schema.from_dict(served_fields(INCIDENT_FIELDS), name="IncidentServed")):  # type: ignore[misc]
    id = fields.Integer(required=True)
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
    total = fields.Integer(
        required=True,
        metadata={"description": "Incidents matching the filter (at least, if not exact)."},
    )
    total_exact = fields.Boolean(
        required=True,
        metadata={"description": "False above 10,000 unless count=exact was asked."},
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
