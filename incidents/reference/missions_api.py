"""Missions through the API: every signed-in user reads them; admins add, change, close
and delete them (a mission with incidents is closed, never deleted), and add the "other UN
presence" of a country. Changes are checked against the version the client saw."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any, NoReturn

import sqlalchemy as sa
from flask import Response
from flask_babel import gettext as _

from auth.access import requires
from capdb.reference import ACRONYM, ACRONYM_MAX, Mission, MissionVersion
from incidents import policy_reference
from incidents.api.access import session, viewer
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort, refused
from incidents.api.schemas import ErrorSchema
from incidents.errors import InputError, StaleEditError
from incidents.reference import missions
from incidents.reference.schemas import (
    CloseInput,
    DeleteQuery,
    MissionHistory,
    MissionInputSchema,
    MissionList,
    MissionPatch,
    MissionQuery,
    MissionSchema,
    PresenceInput,
    served,
)

blp = api_blueprint(
    "api_missions",
    __name__,
    "Missions: every UN operation since 1948 and the political missions and offices.",
)

View = Callable[..., Any]


def mission_or_404(code: str) -> Mission:
    mission = None
    if len(code) <= ACRONYM_MAX and ACRONYM.fullmatch(code.upper()):
        mission = session().get(Mission, code.upper())
    if mission is None:
        abort(404)
    return mission


def with_mission(view: View) -> View:
    """The view gets the mission named in the path (404 when there is none)."""

    @wraps(view)
    def loaded(*args: Any, **kwargs: Any) -> Any:
        return view(*args, mission=mission_or_404(kwargs.pop("code")), **kwargs)

    return loaded


def resource(mission: Mission) -> dict[str, Any]:
    successors = session().scalars(
        sa.select(Mission.code)
        .where(Mission.predecessor_code == mission.code)
        .order_by(Mission.code)
    )
    return served(mission, list(successors))


@blp.route("/missions", methods=["GET"])
@requires(policy_reference.may_read_reference_data)
@blp.arguments(MissionQuery, location="query", error_status_code=400)
@blp.response(200, MissionList)
def list_missions(query: dict[str, Any]) -> dict[str, Any]:
    """Every mission, by acronym; of one kind, or only the open or closed ones."""
    found = [
        m
        for m in session().scalars(sa.select(Mission).order_by(Mission.code))
        if query["kind"] in (None, m.kind) and query["open"] in (None, not m.is_closed)
    ]
    return {"items": [resource(m) for m in found]}


@blp.route("/missions/<code>", methods=["GET"])
@requires(policy_reference.may_read_reference_data)
@with_mission
@blp.response(200, MissionSchema)
def get_mission(mission: Mission) -> dict[str, Any]:
    """One mission, with its hosts, predecessor and successors."""
    return resource(mission)


@blp.route("/missions/<code>/versions", methods=["GET"])
@requires(policy_reference.may_keep_reference_data)
@with_mission
@blp.response(200, MissionHistory)
def mission_versions(mission: Mission) -> dict[str, Any]:
    """The mission's earlier states, oldest first (admins)."""
    rows = session().scalars(
        sa.select(MissionVersion)
        .where(MissionVersion.mission_code == mission.code)
        .order_by(MissionVersion.id)
    )
    return {
        "items": [
            {"version": v.version, "replaced_at": v.replaced_at, "data": v.data} for v in rows
        ]
    }


def _stale(mission: Mission) -> NoReturn:
    session().rollback()
    abort(
        409,
        message=_("The mission changed since this version; nothing was saved."),
        current=MissionSchema().dump(resource(mission)),
    )


@blp.route("/missions", methods=["POST"])
@requires(policy_reference.may_keep_reference_data)
@blp.arguments(MissionInputSchema)
@blp.response(201, MissionSchema)
def create_mission(values: dict[str, Any]) -> dict[str, Any]:
    """Add a mission (admins)."""
    try:
        mission = missions.add_mission(session(), input_of(values), by=viewer())
    except InputError as error:
        refused(error)
    return resource(mission)


def input_of(values: dict[str, Any]) -> missions.MissionInput:
    return missions.MissionInput(
        code=values["code"],
        kind=values["kind"],
        name_en=values["name_en"],
        name_fr=values["name_fr"],
        started_on=values["started_on"],
        ended_on=values["ended_on"],
        hosts=tuple(values["hosts"]),
        predecessor=values["predecessor"],
        aliases=tuple(dict.fromkeys(values["aliases"])),
    )


@blp.route("/missions/<code>", methods=["PATCH"])
@requires(policy_reference.may_keep_reference_data)
@with_mission
@blp.arguments(MissionPatch)
@blp.response(200, MissionSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def update_mission(values: dict[str, Any], mission: Mission) -> dict[str, Any]:
    """Change some of a mission's fields, on the version the change was made on (admins)."""
    version = values.pop("version")
    current = missions.MissionInput.of(mission)
    if "hosts" in values:
        values["hosts"] = tuple(values["hosts"])
    if "aliases" in values:
        values["aliases"] = tuple(dict.fromkeys(values["aliases"]))
    try:
        missions.update_mission(
            session(), mission, replace(current, **values), by=viewer(), expected_version=version
        )
    except StaleEditError:
        _stale(mission)
    except InputError as error:
        refused(error)
    return resource(mission)


@blp.route("/missions/<code>/close", methods=["POST"])
@requires(policy_reference.may_keep_reference_data)
@with_mission
@blp.arguments(CloseInput)
@blp.response(200, MissionSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def close_mission(values: dict[str, Any], mission: Mission) -> dict[str, Any]:
    """Close a mission on the day it ended; it stays recordable for dates within its
    period (admins)."""
    try:
        missions.close_mission(
            session(), mission, values["ended_on"], by=viewer(), expected_version=values["version"]
        )
    except StaleEditError:
        _stale(mission)
    except InputError as error:
        refused(error)
    return resource(mission)


@blp.route("/missions/<code>", methods=["DELETE"])
@requires(policy_reference.may_keep_reference_data)
@with_mission
@blp.arguments(DeleteQuery, location="query", error_status_code=400)
@blp.response(204)
@blp.alt_response(409, schema=ErrorSchema, description="Named by records: close it instead.")
def delete_mission(query: dict[str, Any], mission: Mission) -> Response:
    """Delete a mission no record names (admins); one with incidents is closed instead."""
    try:
        missions.delete_mission(session(), mission, by=viewer(), expected_version=query["version"])
    except StaleEditError:
        _stale(mission)
    except missions.MissionInUseError as error:
        abort(409, message=error.message, current=MissionSchema().dump(resource(mission)))
    return Response(status=204)


@blp.route("/missions/presences", methods=["POST"])
@requires(policy_reference.may_keep_reference_data)
@blp.arguments(PresenceInput)
@blp.response(201, MissionSchema)
@blp.alt_response(200, schema=MissionSchema, description="It was there already.")
def add_presence(values: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The "other UN presence" of a country, for UN staff there who belong to no mission
    (admins); added if it is not there yet."""
    try:
        mission, added = missions.presence_in(session(), values["country"], by=viewer())
    except InputError as error:
        refused(error)
    return resource(mission), 201 if added else 200
