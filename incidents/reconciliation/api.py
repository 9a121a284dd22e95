"""The reconciliation with the UN's published figures, through the API (scoped like the
page), and the explanations of its differences (HQ)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response
from flask_babel import gettext as _
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from auth.access import requires
from capdb.reference import NATIONALITIES, countries_of
from incidents import policy_reconciliation
from incidents.api.access import session, viewer
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort, refused
from incidents.api.schemas import ErrorSchema, Schema, Text, at_most, listing
from incidents.errors import InputError, StaleEditError
from incidents.filters import mission_codes
from incidents.reconciliation import matching, notes
from incidents.reconciliation.matching import MAX_TOLERANCE, Casualty, Options, Row
from incidents.reconciliation.un_data import UN_PERSONNEL_TYPES
from incidents.un_figures import UnFatality

blp = api_blueprint(
    "api_reconciliation",
    __name__,
    "capdb's fatalities from malicious acts beside the UN's published ones.",
)


def reconciled_missions(db: Session) -> list[str]:
    """What a row names its mission by: a mission's code, or the acronym of the UN's data
    where capdb knows no such mission."""
    unknown = sa.select(UnFatality.mission_acronym).where(UnFatality.mission_code.is_(None))
    return sorted({*mission_codes(db), *db.scalars(unknown.distinct())})


def nationalities(db: Session) -> list[str]:
    return [c.code for c in countries_of(db, NATIONALITIES)]


def row_nationalities(db: Session) -> list[str]:
    """A nationality, or none ("") on a row that is not split by nationality."""
    return ["", *nationalities(db)]


class ReconciliationQuery(Schema):
    mission = listing(Text(load_default=None, validate=at_most(16)), mission_codes)
    year_from = fields.Integer(load_default=None, validate=validate.Range(min=1945, max=2200))
    year_to = fields.Integer(load_default=None, validate=validate.Range(min=1945, max=2200))
    tolerance = fields.Integer(
        load_default=matching.DEFAULT_TOLERANCE,
        validate=validate.Range(min=0, max=MAX_TOLERANCE),
        metadata={"description": "How many days apart two sides' incidents may be."},
    )
    by_nationality = fields.Boolean(load_default=False)
    by_personnel_type = fields.Boolean(load_default=False)


class CasualtySchema(Schema):
    label = fields.String(required=True, metadata={"description": "Reference or casualty id."})
    date = fields.Date(required=True)
    mission = listing(fields.String(required=True), reconciled_missions)
    nationality = listing(fields.String(required=True), nationalities)
    personnel_type = fields.String(required=True)
    incident_id = fields.Integer(allow_none=True)


class RowSchema(Schema):
    mission = listing(fields.String(required=True), reconciled_missions)
    known = fields.Boolean(required=True)
    year = fields.Integer(required=True)
    nationality = listing(fields.String(required=True), row_nationalities)
    personnel_type = fields.String(required=True)
    capdb = fields.Integer(required=True)
    un = fields.Integer(required=True)
    difference = fields.Integer(required=True)
    matched = fields.Integer(required=True)
    unmatched_capdb = fields.List(fields.Nested(CasualtySchema), required=True)
    unmatched_un = fields.List(fields.Nested(CasualtySchema), required=True)
    explanation = fields.String(required=True, allow_none=True)
    explanation_version = fields.Integer(required=True, allow_none=True)


class ReconciliationSchema(Schema):
    source = fields.String(required=True, allow_none=True)
    loaded_at = fields.DateTime(required=True, allow_none=True)
    other_types = fields.Integer(required=True)
    rows = fields.List(fields.Nested(RowSchema), required=True)


class NoteInput(Schema):
    mission = listing(
        Text(required=True, validate=[validate.Length(min=1), at_most(16)]), reconciled_missions
    )
    year = fields.Integer(required=True, validate=validate.Range(min=1945, max=2200))
    nationality = listing(Text(load_default="", validate=at_most(3)), row_nationalities)
    personnel_type = Text(load_default="", validate=validate.OneOf(["", *UN_PERSONNEL_TYPES]))
    text = Text(required=True, validate=at_most(notes.NOTE_MAX))
    version = fields.Integer(load_default=None, allow_none=True)


def _casualty(casualty: Casualty) -> dict[str, Any]:
    return {
        "label": casualty.label, "date": casualty.day, "mission": casualty.mission,
        "nationality": casualty.nationality, "personnel_type": casualty.personnel_type,
        "incident_id": casualty.incident_id,
    }  # fmt: skip


def _row(row: Row) -> dict[str, Any]:
    return {
        "mission": row.mission, "known": row.known, "year": row.year,
        "nationality": row.nationality, "personnel_type": row.personnel_type,
        "capdb": row.capdb, "un": row.un, "difference": row.difference, "matched": row.matched,
        "unmatched_capdb": [_casualty(c) for c in row.unmatched_capdb],
        "unmatched_un": [_casualty(c) for c in row.unmatched_un],
        "explanation": row.note.text if row.note else None,
        "explanation_version": row.note.version if row.note else None,
    }  # fmt: skip


@blp.route("/reconciliation", methods=["GET"])
@requires(policy_reconciliation.may_reconcile)
@blp.arguments(ReconciliationQuery, location="query", error_status_code=400)
@blp.response(200, ReconciliationSchema)
def reconciliation(query: dict[str, Any]) -> dict[str, Any]:
    """Per mission and year (and nationality, personnel type when asked): capdb's victims
    killed, the UN's malicious-act fatalities, the difference, the casualties each side has
    alone, the explanation; within the viewer's scope."""
    mission = (query["mission"] or "").upper() or None
    result = matching.reconcile(session(), viewer(), Options(**(query | {"mission": mission})))
    fatality_set = result.fatality_set
    return {
        "source": fatality_set.source if fatality_set else None,
        "loaded_at": fatality_set.loaded_at if fatality_set else None,
        "other_types": result.other_types,
        "rows": [_row(row) for row in result.rows],
    }


@blp.route("/reconciliation/notes", methods=["PUT"])
@requires(policy_reconciliation.may_explain)
@blp.arguments(NoteInput)
@blp.response(204)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile.")
def explain(values: dict[str, Any]) -> Response:
    """Write, change or (with an empty text) remove the explanation of a difference, on the
    version the writer saw (none for a new one). HQ analysts and admins."""
    key = notes.NoteKey(
        values["mission"].upper(), values["year"], values["nationality"].upper(),
        values["personnel_type"],
    )  # fmt: skip
    try:
        notes.explain(
            session(), key, values["text"], by=viewer(), expected_version=values["version"]
        )
    except StaleEditError:
        abort(409, message=_("The explanation changed meanwhile; nothing was saved."))
    except InputError as error:
        refused(error)
    return Response(status=204)
