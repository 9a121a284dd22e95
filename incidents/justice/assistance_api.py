"""Capacity-building assistance to host States, through the API.

Who sees and records what is the policy's decision (``incidents.policy``), as on the
pages: admins and analysts see every record, mission officers their missions', Member
States what their State received; mission officers and admins record it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from auth.access import requires
from auth.models import User
from incidents import policy
from incidents.api import resources
from incidents.api.access import newest_first, session, viewer, with_assistance
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort, refused
from incidents.api.idempotency import idempotent
from incidents.api.schemas import ErrorSchema
from incidents.errors import InputError, NotAllowedError, StaleEditError
from incidents.justice import assistance
from incidents.justice.schemas import (
    AssistanceInput,
    AssistancePage,
    AssistancePatch,
    AssistanceQuery,
    AssistanceSchema,
)
from incidents.models import CapacityAssistance

blp = api_blueprint(
    "api_assistance", __name__, "Capacity-building assistance given to host States."
)

PATCHABLE = tuple(name for name in AssistancePatch().fields if name != "version")
FIELDS = (
    "recipient_state_code",
    "mission_code",
    "kind",
    "started_on",
    "ended_on",
    "participants",
    "description",
)


def resource(user: User, record: CapacityAssistance) -> dict[str, Any]:
    return resources.assistance_records(session(), user, [record])[0]


@blp.route("/assistance", methods=["GET"])
@blp.arguments(AssistanceQuery, location="query", error_status_code=400)
@blp.response(200, AssistancePage)
def list_assistance(query: dict[str, Any]) -> dict[str, Any]:
    """The assistance records the viewer may see, newest first, one page at a time."""
    db, user = session(), viewer()
    statement = sa.select(CapacityAssistance).where(
        policy.visible_assistance(user), *query["filter"].conditions()
    )
    items, next_cursor = newest_first(db, statement, CapacityAssistance.id, query)
    return {"items": resources.assistance_records(db, user, items), "next_cursor": next_cursor}


@blp.route("/assistance/<int:record_id>", methods=["GET"])
@with_assistance()
@blp.response(200, AssistanceSchema)
def get_assistance(record: CapacityAssistance) -> dict[str, Any]:
    """One assistance record, with the linked cases the viewer may open."""
    return resource(viewer(), record)


def fields_of(values: dict[str, Any]) -> assistance.AssistanceFields:
    return assistance.AssistanceFields(
        **{name: values[name] for name in FIELDS}, case_ids=tuple(dict.fromkeys(values["cases"]))
    )


@blp.route("/assistance", methods=["POST"])
@requires(policy.may_record_assistance)
@idempotent
@blp.arguments(AssistanceInput)
@blp.response(201, AssistanceSchema)
def create_assistance(values: dict[str, Any]) -> dict[str, Any]:
    """Record assistance given by one of the user's missions."""
    user = viewer()
    try:
        record = assistance.create_assistance(session(), user, fields_of(values))
    except NotAllowedError:
        abort(403)
    except InputError as error:
        refused(error)
    return resource(user, record)


@blp.route("/assistance/<int:record_id>", methods=["PATCH"])
@with_assistance(policy.may_edit_assistance)
@blp.arguments(AssistancePatch(partial=PATCHABLE))
@blp.response(200, AssistanceSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def update_assistance(values: dict[str, Any], record: CapacityAssistance) -> dict[str, Any]:
    """Change some of a record's fields, on the version the change was made on. Links to
    cases the user cannot see are kept as they are."""
    db, user = session(), viewer()
    version = values.pop("version")
    current = {name: getattr(record, name) for name in FIELDS}
    current["cases"] = [c.id for c in assistance.linked_cases(db, user, record)]
    try:
        assistance.update_assistance(db, user, record, fields_of(current | values), version=version)
    except StaleEditError:
        # A refused flush leaves the session unusable; the answer rolls back anyway.
        db.rollback()
        abort(
            409,
            message=_("The record changed since this version; nothing was saved."),
            current=AssistanceSchema().dump(resource(user, record)),
        )
    except InputError as error:
        refused(error)
    return resource(user, record)
