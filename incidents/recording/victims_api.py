"""Victims through the API: listed under their incident, added, changed and removed one at
a time, each change an edit of the incident under the same rules as the incident form
(drafts only for mission officers; the incident's version moves with it)."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask_babel import gettext as _

from auth.models import User
from incidents import policy
from incidents.api import resources
from incidents.api.access import session, viewer, with_incident, with_victim
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort
from incidents.api.idempotency import idempotent
from incidents.api.schemas import ErrorSchema
from incidents.errors import NotAllowedError
from incidents.models import Incident, Victim
from incidents.recording import service as recording
from incidents.recording.api import VICTIM_FIELDS, current_values, incident_fields, victim_fields
from incidents.recording.rules import MAX_VICTIMS
from incidents.recording.schemas import (
    IncidentSchema,
    VictimInput,
    VictimList,
    VictimPatch,
    VictimSchema,
    victim_problems,
)

blp = api_blueprint("api_victims", __name__, "Victims of incidents; names only where allowed.")

PATCHABLE = tuple(name for name in VictimPatch().fields if name != "version")


@blp.route("/incidents/<int:incident_id>/victims", methods=["GET"])
@with_incident()
@blp.response(200, VictimList)
def list_victims(incident: Incident) -> dict[str, Any]:
    """The incident's victims."""
    user = viewer()
    return {"items": [resources.victim(user, v) for v in incident.victims if v.deleted_at is None]}


@blp.route("/incidents/<int:incident_id>/victims", methods=["POST"])
@with_incident(policy.may_edit)
@idempotent
@blp.arguments(VictimInput)
@blp.response(201, VictimSchema)
def add_victim(values: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Add a victim to a draft incident."""
    current = [v for v in incident.victims if v.deleted_at is None]
    if len(current) >= MAX_VICTIMS:
        abort(
            422, errors={"victims": [_("At most %(max)d victims per incident.", max=MAX_VICTIMS)]}
        )
    summary = _edit(incident, recording.VictimRow(None, None, _checked(values, incident)))
    return resources.victim(viewer(), session().get_one(Victim, summary.added[0]))


def _checked(
    values: dict[str, Any], incident: Incident, stored: Victim | None = None
) -> recording.VictimFields:
    before = {name: getattr(stored, name) for name in VICTIM_FIELDS} if stored else None
    problems = victim_problems(values, incident_date=incident.occurred_on, stored=before)
    if problems:
        abort(422, errors=problems)
    return victim_fields(values)


def _edit(incident: Incident, row: recording.VictimRow) -> recording.EditSummary:
    """Save one victim row as an edit of the incident, on its current version."""
    db, user = session(), viewer()
    fields = incident_fields(db, user, current_values(incident))
    try:
        return recording.update_incident(
            db, user, incident, fields, [row], loaded_version=incident.version
        )
    except NotAllowedError as refused:
        abort(403, message=refused.message)
    except recording.StaleEditError:
        abort(
            409,
            message=_("The victim changed since this version; nothing was saved."),
            current=_current(user, incident, row.victim_id),
        )


def _current(user: User, incident: Incident, victim_id: int | None) -> dict[str, Any]:
    """The victim as it now is; the incident, when the victim is new."""
    for victim in incident.victims:
        if victim.id == victim_id:
            return dict(VictimSchema().dump(resources.victim(user, victim)))
    return dict(IncidentSchema().dump(resources.incident(user, incident)))


@blp.route("/victims/<int:victim_id>", methods=["GET"])
@with_victim()
@blp.response(200, VictimSchema)
def get_victim(victim: Victim) -> dict[str, Any]:
    """One victim."""
    return resources.victim(viewer(), victim)


@blp.route("/victims/<int:victim_id>", methods=["PATCH"])
@with_victim(policy.may_edit_victim)
@blp.arguments(VictimPatch(partial=PATCHABLE))
@blp.response(200, VictimSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def update_victim(values: dict[str, Any], victim: Victim) -> dict[str, Any]:
    """Change some of a victim's fields, on the version the change was made on."""
    version = values.pop("version")
    merged = {name: getattr(victim, name) for name in VICTIM_FIELDS} | values
    _edit(
        victim.incident,
        recording.VictimRow(victim.id, version, _checked(merged, victim.incident, victim)),
    )
    return resources.victim(viewer(), victim)


@blp.route("/victims/<int:victim_id>", methods=["DELETE"])
@with_victim(policy.may_delete)
@blp.response(204)
def delete_victim(victim: Victim) -> Response:
    """Remove a victim from a draft incident; the incident's history keeps it."""
    _edit(victim.incident, recording.VictimRow(victim.id, victim.version, None))
    return Response(status=204)
