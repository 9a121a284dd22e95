"""What the API takes and gives for judicial cases, their defendants and stages, and
capacity-building assistance.

A defendant's ``alias`` and ``identifier`` are personal data: left out of a response,
key and all, for viewers the access rule does not let see who the defendants are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from capdb import db
from capdb.db import MAX_ID
from capdb.reference import STATES
from capdb.vocabularies import ASSISTANCE_KIND, JUDICIAL_STAGE, JURISDICTION
from incidents.api.queries import filter_argument
from incidents.api.schemas import (
    PERSONAL,
    Code,
    Problems,
    Schema,
    Text,
    at_most,
    country_field,
    id_cursor_field,
    listing,
    per_page_field,
    record_id,
    version_field,
    vocabulary_field,
)
from incidents.filters import country_codes, mission_codes
from incidents.justice import assistance, cases

# Cases ----------------------------------------------------------------------------------------


class CaseInput(Schema):
    incidents = fields.List(
        record_id(),
        required=True,
        validate=validate.Length(
            min=1,
            max=cases.MAX_REFERENCES,
            error=_l("Name between {min} and {max} incidents."),
        ),
        metadata={"description": "Ids of the incidents; a case is opened on the first."},
    )
    prosecuting_state = country_field(STATES, required=True, attribute="prosecuting_state_code")
    jurisdiction = vocabulary_field(JURISDICTION, required=True)
    national_reference = Text(allow_none=True, load_default=None, validate=at_most(120))
    charges = Text(load_default="", validate=at_most(cases.MAX_CHARGES))


def review_status_field() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.OneOf(["pending", "validated", "rejected"]),
        metadata={
            "description": "What a Member State enters is pending until a keeper reviews it."
        },
    )


class DefendantSchema(Schema):
    id = fields.Integer(required=True)
    alias = fields.String(metadata={"description": PERSONAL})
    identifier = fields.String(allow_none=True, metadata={"description": PERSONAL})
    affiliation = fields.String(required=True, allow_none=True)
    current_stage = vocabulary_field(JUDICIAL_STAGE, required=True, allow_none=True)
    verdict = fields.String(required=True, allow_none=True)
    sentence = fields.String(required=True, allow_none=True)
    sentence_months = fields.Integer(required=True, allow_none=True)
    review_status = review_status_field()
    review_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)


class CaseSchema(Schema):
    id = fields.Integer(required=True)
    prosecuting_state = listing(
        fields.String(required=True, metadata={"description": "ISO alpha-3"}), country_codes
    )
    jurisdiction = vocabulary_field(JURISDICTION, required=True)
    national_reference = fields.String(required=True, allow_none=True)
    charges = fields.String(required=True)
    current_stage = vocabulary_field(JUDICIAL_STAGE, required=True, allow_none=True)
    incidents = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "The case's incidents that the viewer may open."},
    )
    defendants = fields.List(fields.Nested(DefendantSchema), required=True)
    review_status = review_status_field()
    review_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)


class CasePage(Schema):
    items = fields.List(fields.Nested(CaseSchema), required=True)
    next_cursor = fields.Integer(required=True, allow_none=True)


class CaseQuery(Schema):
    incident = fields.Integer(
        validate=validate.Range(min=1, max=MAX_ID, error=_l("This is not a valid number.")),
        metadata={"description": "Only the cases of this incident."},
    )
    stage = vocabulary_field(JUDICIAL_STAGE)
    per_page = per_page_field()
    cursor = id_cursor_field()


# Defendants -----------------------------------------------------------------------------------


class DefendantInput(Schema):
    alias = Text(
        required=True,
        validate=[validate.Length(min=1, error=_l("This field is required.")), at_most(200)],
        metadata={"description": PERSONAL},
    )
    identifier = Text(allow_none=True, load_default=None, validate=at_most(64))
    affiliation = Text(allow_none=True, load_default=None, validate=at_most(200))
    verdict = Text(allow_none=True, load_default=None, validate=at_most(200))
    sentence = Text(allow_none=True, load_default=None, validate=at_most(200))
    sentence_months = fields.Integer(
        strict=True,
        allow_none=True,
        load_default=None,
        validate=validate.Range(
            min=0,
            max=cases.MAX_SENTENCE_MONTHS,
            error=_l("Enter a number of months between 0 and {max}."),
        ),
    )


class DefendantPatch(DefendantInput):
    version = version_field()


class DefendantList(Schema):
    items = fields.List(fields.Nested(DefendantSchema), required=True)


# Stage events ---------------------------------------------------------------------------------


class StageEventInput(Schema):
    stage = vocabulary_field(JUDICIAL_STAGE, required=True)
    occurred_on = fields.Date(required=True)
    note = Text(load_default="", validate=at_most(cases.MAX_NOTE))
    source_document = Text(allow_none=True, load_default=None, validate=at_most(200))
    defendant = record_id(
        allow_none=True,
        load_default=None,
        attribute="defendant_id",
        metadata={"description": "The defendant the step concerns; the whole case if null."},
    )


class StageEventSchema(Schema):
    id = fields.Integer(required=True)
    defendant = fields.Integer(required=True, allow_none=True)
    stage = vocabulary_field(JUDICIAL_STAGE, required=True)
    occurred_on = fields.Date(required=True)
    note = fields.String(required=True)
    source_document = fields.String(required=True, allow_none=True)
    review_status = review_status_field()
    review_reason = fields.String(allow_none=True)
    version = fields.Integer(required=True)


class StageEventList(Schema):
    items = fields.List(fields.Nested(StageEventSchema), required=True)


class RejectInput(Schema):
    reason = Text(
        required=True,
        validate=[
            validate.Length(min=1, error=_l("Say why the update is rejected.")),
            at_most(cases.MAX_REASON),
        ],
    )


# Capacity-building assistance -------------------------------------------------------------------


class AssistanceInput(Schema):
    recipient_state = country_field(STATES, required=True, attribute="recipient_state_code")
    mission = listing(Code(required=True, attribute="mission_code"), mission_codes)
    kind = vocabulary_field(ASSISTANCE_KIND, required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(allow_none=True, load_default=None)
    participants = fields.Integer(
        strict=True,
        load_default=0,
        validate=validate.Range(
            min=0,
            max=assistance.MAX_PARTICIPANTS,
            error=_l("Enter a number between {min} and {max}."),
        ),
    )
    description = Text(load_default="", validate=at_most(assistance.MAX_DESCRIPTION))
    cases = fields.List(
        record_id(),
        load_default=list,
        validate=validate.Length(
            max=assistance.MAX_LINKED_CASES, error=_l("Link at most {max} cases.")
        ),
        metadata={"description": "Ids of the cases the assistance supported."},
    )


class AssistancePatch(AssistanceInput):
    version = version_field()


class AssistanceSchema(Schema):
    id = fields.Integer(required=True)
    recipient_state = listing(fields.String(required=True), country_codes)
    mission = listing(fields.String(required=True), mission_codes)
    kind = vocabulary_field(ASSISTANCE_KIND, required=True)
    started_on = fields.Date(required=True)
    ended_on = fields.Date(required=True, allow_none=True)
    participants = fields.Integer(required=True)
    description = fields.String(required=True)
    cases = fields.List(
        fields.Integer(),
        required=True,
        metadata={"description": "The linked cases that the viewer may open."},
    )
    version = fields.Integer(required=True)


FILTER_BY_NAME = {field.name: field for field in assistance.FILTER_FIELDS}


class AssistanceQuery(Schema):
    """The assistance list's filter and pages. The filter's fields document the query;
    reading it is :func:`incidents.justice.assistance.parse_filter`'s, as on the page, so that
    a value the page refuses the API refuses too (a value given twice included)."""

    state = filter_argument(FILTER_BY_NAME["state"])
    mission = filter_argument(FILTER_BY_NAME["mission"])
    kind = filter_argument(FILTER_BY_NAME["kind"])
    per_page = per_page_field()
    cursor = id_cursor_field()

    def load(  # type: ignore[override]
        self,
        data: Mapping[str, Any],
        *,
        unknown: Literal["exclude", "include", "raise"] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        chosen, errors = assistance.parse_filter(db.session(), data)
        problems: Problems = {name: [reason] for name, reason in errors.items()}
        others = {key: data[key] for key in data if key not in FILTER_BY_NAME}
        rest: dict[str, Any] = {}
        try:
            rest = super().load(others, unknown=unknown, **kwargs)
        except ma.ValidationError as error:
            problems |= error.messages if isinstance(error.messages, dict) else {}
        if problems:
            raise ma.ValidationError(problems)
        return {**rest, "filter": chosen}


class AssistancePage(Schema):
    items = fields.List(fields.Nested(AssistanceSchema), required=True)
    next_cursor = fields.Integer(required=True, allow_none=True)
