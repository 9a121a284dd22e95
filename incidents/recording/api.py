"""Incidents through the API: the filtered list and its map, recording, editing with a
version check, soft deletion, and the verification workflow.

The rules are the pages' own: the policy (``incidents.policy``) decides who may record,
edit and take each workflow step, the recording services refuse what it denies, and the
input is checked as the incident form checks it.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any, NoReturn

from flask import Response, current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from auth import audit
from auth.access import requires
from auth.models import User
from capdb.clock import now
from capdb.reference import Mission
from incidents import policy
from incidents.api import resources
from incidents.api.access import session, viewer, with_incident
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort
from incidents.api.idempotency import idempotent
from incidents.api.queries import GeoQuery, IncidentQuery
from incidents.api.schemas import (
    ErrorSchema,
    FeatureCollectionSchema,
)
from incidents.errors import NotAllowedError
from incidents.filters import CursorError, Page, listed_incidents, page_of
from incidents.models import Incident
from incidents.recording import rules, workflow
from incidents.recording import service as recording
from incidents.recording.schemas import (
    IncidentInput,
    IncidentPage,
    IncidentPatch,
    IncidentReplace,
    IncidentSchema,
    ReturnInput,
    WorkflowInput,
    incident_problems,
    retired_in_replacement,
)
from incidents.recording.service import IncidentFields, VictimFields
from incidents.totals import total

blp = api_blueprint(
    "api_incidents", __name__, "Incidents: the filtered list and map, recording, the workflow."
)

INCIDENT_FIELDS = tuple(f.name for f in dataclass_fields(IncidentFields))
VICTIM_FIELDS = tuple(f.name for f in dataclass_fields(VictimFields))
PATCHABLE = tuple(name for name in IncidentPatch().fields if name != "version")


# Reading ------------------------------------------------------------------------------------


@blp.route("/incidents", methods=["GET"])
@blp.arguments(IncidentQuery, location="query", error_status_code=400)
@blp.response(200, IncidentPage)
def list_incidents(query: dict[str, Any]) -> dict[str, Any]:
    """The incidents the viewer may see that match the filter, one page at a time."""
    user = viewer()
    statement = listed_incidents(user, query["filters"]).options(selectinload(Incident.victims))
    page = _page(session(), statement, query, sort=query["sort"])
    filters = query["filters"]
    counted = total(
        session(),
        listed_incidents(user, filters),
        exact=query["exact_total"],
        seen_by=(user, filters),
    )
    return {
        "items": [resources.incident(user, record) for record in page.items],
        "next_cursor": page.next_cursor,
        "total": counted.count,
        "total_exact": counted.exact,
    }


def _page(db: Session, statement: Any, query: dict[str, Any], *, sort: str = "-date") -> Page:
    try:
        return page_of(
            db,
            statement,
            sort=sort,
            cursor=query.get("cursor"),
            per_page=query["per_page"],
            q=query["filters"].q,
        )
    except CursorError as error:
        abort(400, errors={"cursor": [str(error)]})


@blp.route("/incidents.geojson", methods=["GET"])
@blp.arguments(GeoQuery, location="query", error_status_code=400)
@blp.response(200, FeatureCollectionSchema, content_type="application/geo+json")
def incidents_geojson(query: dict[str, Any]) -> Response:
    """The filtered incidents as GeoJSON points, without personal data, a page at a time."""
    db, user, filters = session(), viewer(), query["filters"]
    page = _page(db, listed_incidents(user, filters), query)
    counts = recording.casualties(db, [record.id for record in page.items])
    collection = {
        "type": "FeatureCollection",
        "features": [resources.feature(r, counts[r.id]) for r in page.items],
        "next_cursor": page.next_cursor,
    }
    audit.record(
        db,
        "export",
        user=user,
        detail={"format": "geojson", "filters": filters.as_args(), "count": len(page.items)},
    )
    body = current_app.json.dumps(FeatureCollectionSchema().dump(collection))
    return Response(body, mimetype="application/geo+json")


@blp.route("/incidents/<int:incident_id>", methods=["GET"])
@with_incident()
@blp.response(200, IncidentSchema)
def get_incident(incident: Incident) -> dict[str, Any]:
    """One incident with its victims."""
    return resources.incident(viewer(), incident)


# Recording and editing ----------------------------------------------------------------------


@blp.route("/incidents", methods=["POST"])
@requires(policy.may_record_incidents)
@idempotent
@blp.arguments(IncidentInput)
@blp.response(201, IncidentSchema)
def create_incident(values: dict[str, Any]) -> dict[str, Any]:
    """Record a draft incident with its victims, for one of the user's missions."""
    db, user = session(), viewer()
    fields = incident_fields(db, user, values)
    rows = [recording.VictimRow(None, None, victim_fields(v)) for v in values["victims"]]
    try:
        record = recording.create_incident(db, user, fields, rows)
    except NotAllowedError as refused:
        abort(403, message=refused.message)
    except recording.RecordingError as refused:
        abort(409, message=refused.message)
    return resources.incident(user, record)


def incident_fields(db: Session, user: User, values: dict[str, Any]) -> IncidentFields:
    """The values as the recording service takes them, once the user's mission is checked
    and the country defaulted to the mission's host, as the form does."""
    missions = {m.code: m for m in policy.missions_for(db, user)}
    mission: Mission | None = missions.get(values["mission_code"])
    if mission is None:
        abort(422, errors={"mission": [_("You cannot record incidents for this mission.")]})
    country = rules.country_where(values.get("country_code"), mission)
    if country is None:
        abort(422, errors={"country": [_("Choose the country where it happened.")]})
    chosen = {name: values[name] for name in INCIDENT_FIELDS} | {"country_code": country}
    chosen["perpetrator_name"] = chosen["perpetrator_name"] or None
    return IncidentFields(**chosen)


def victim_fields(values: dict[str, Any]) -> VictimFields:
    chosen = {name: values[name] for name in VICTIM_FIELDS}
    chosen["unit"] = chosen["unit"] or None
    chosen["name"] = chosen["name"] or None
    return VictimFields(**chosen)


def current_values(incident: Incident) -> dict[str, Any]:
    return {name: getattr(incident, name) for name in INCIDENT_FIELDS}


@blp.route("/incidents/<int:incident_id>", methods=["PATCH"])
@with_incident(policy.may_edit)
@blp.arguments(IncidentPatch(partial=PATCHABLE))
@blp.response(200, IncidentSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def update_incident(values: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Change some of a draft's fields, on the version the change was made on.

    Victims are changed through their own endpoints.
    """
    db, user = session(), viewer()
    version = values.pop("version")
    merged = current_values(incident) | values
    problems = incident_problems(merged, current_values(incident))
    if problems:
        abort(422, errors=problems)
    try:
        recording.update_incident(
            db, user, incident, incident_fields(db, user, merged), [], loaded_version=version
        )
    except recording.StaleEditError:
        stale(user, incident)
    except NotAllowedError as refused:
        abort(403, message=refused.message)
    return resources.incident(user, incident)


@blp.route("/incidents/<int:incident_id>", methods=["PUT"])
@with_incident(policy.may_edit)
@idempotent
@blp.arguments(IncidentReplace)
@blp.response(200, IncidentSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def replace_incident(values: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Replace a draft's fields and victims, on the version the change was made on.

    Victims with an ``id`` (and the ``version`` they were loaded at) are changed, those
    without are added, and the incident's other victims are removed: the incident form's
    edit, sent whole (the offline outbox sends it so).
    """
    db, user = session(), viewer()
    ids = [v["id"] for v in values["victims"] if v["id"] is not None]
    if len(ids) != len(set(ids)):
        abort(422, errors={"victims": [_("The same victim appears twice.")]})
    held = {v.id: {name: getattr(v, name) for name in VICTIM_FIELDS} for v in incident.victims}
    problems = retired_in_replacement(values, current_values(incident), held)
    if problems:
        abort(422, errors=problems)
    rows = [recording.VictimRow(v["id"], v["version"], victim_fields(v)) for v in values["victims"]]
    kept = set(ids)
    rows += [
        recording.VictimRow(v.id, v.version, None)
        for v in incident.victims
        if v.deleted_at is None and v.id not in kept
    ]
    try:
        recording.update_incident(
            db,
            user,
            incident,
            incident_fields(db, user, values),
            rows,
            loaded_version=values["version"],
        )
    except recording.StaleEditError:
        stale(user, incident)
    except NotAllowedError as refused:
        abort(403, message=refused.message)
    return resources.incident(user, incident)


def stale(user: User, incident: Incident) -> NoReturn:
    abort(
        409,
        message=_("The incident changed since this version; nothing was saved."),
        current=IncidentSchema().dump(resources.incident(user, incident)),
    )


@blp.route("/incidents/<int:incident_id>", methods=["DELETE"])
@with_incident(policy.may_delete)
@blp.response(204)
def delete_incident(incident: Incident) -> Response:
    """Delete an incident; an administrator can restore it."""
    incident.deleted_at = now()
    audit.record(session(), "delete", user=viewer(), target=incident)
    return Response(status=204)


# The verification workflow ------------------------------------------------------------------


def _take(incident: Incident, version: int, step: Any, *args: str) -> dict[str, Any]:
    """Take a workflow step on the version the client saw, with the pages' rules."""
    db, user = session(), viewer()
    if version != incident.version:
        stale(user, incident)
    try:
        step(db, user, incident, *args)
    except NotAllowedError as refused:
        abort(403, message=refused.message)
    except recording.InvalidTransitionError as refused:
        abort(
            409,
            message=refused.message,
            current=IncidentSchema().dump(resources.incident(user, incident)),
        )
    except recording.RecordingError as refused:
        abort(422, errors={"reason": [refused.message]})
    return resources.incident(user, incident)


@blp.route("/incidents/<int:incident_id>/submit", methods=["POST"])
@with_incident(policy.keeps_record_of)
@idempotent
@blp.arguments(WorkflowInput)
@blp.response(200, IncidentSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile, or not a draft.")
def submit_incident(values: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Submit a draft for validation."""
    return _take(incident, values["version"], workflow.submit)


@blp.route("/incidents/<int:incident_id>/validate", methods=["POST"])
@with_incident(policy.keeps_record_of)
@idempotent
@blp.arguments(WorkflowInput)
@blp.response(200, IncidentSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile, or not submitted.")
def validate_incident(values: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Validate a submitted incident; another officer than its author or submitter does."""
    return _take(incident, values["version"], workflow.validate)


@blp.route("/incidents/<int:incident_id>/return", methods=["POST"])
@with_incident(policy.keeps_record_of)
@idempotent
@blp.arguments(ReturnInput)
@blp.response(200, IncidentSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile, or still a draft.")
def return_incident(values: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Return a submitted or validated incident to draft, saying why."""
    return _take(incident, values["version"], workflow.return_to_draft, values["reason"])
