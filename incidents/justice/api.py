"""Judicial cases through the API: the cases the viewer may see, opening one, its defendants,
and its stages, where a prosecuting State's updates wait, pending, for the mission.

Who may do what is the policy's decision (incidents.policy), as on the case pages.
"""

from __future__ import annotations

from typing import Any, NoReturn

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from capdb.clock import now
from incidents import policy
from incidents.api import resources
from incidents.api.access import (
    newest_cases,
    session,
    viewer,
    with_case,
    with_defendant,
    with_stage_event,
)
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort, refused
from incidents.api.idempotency import idempotent
from incidents.api.schemas import ErrorSchema
from incidents.errors import InputError, NotAllowedError, StaleEditError
from incidents.justice import cases, review, stages
from incidents.justice.schemas import (
    CaseInput,
    CasePage,
    CaseQuery,
    CaseSchema,
    DefendantInput,
    DefendantList,
    DefendantPatch,
    DefendantSchema,
    RejectInput,
    StageEventInput,
    StageEventList,
    StageEventSchema,
)
from incidents.models import Defendant, Incident, JudicialCase, StageEvent, case_incidents
from incidents.policy import sees_defendant_identity, visible_incidents

blp = api_blueprint(
    "api_cases", __name__, "Judicial cases, their defendants and stages of proceedings."
)

DEFENDANT_FIELDS = tuple(DefendantInput().fields)


# Cases ----------------------------------------------------------------------------------------


@blp.route("/cases", methods=["GET"])
@blp.arguments(CaseQuery, location="query", error_status_code=400)
@blp.response(200, CasePage)
def list_cases(query: dict[str, Any]) -> dict[str, Any]:
    """The cases the viewer may see, newest first, one page at a time."""
    db, user = session(), viewer()
    statement = sa.select(JudicialCase)
    if user.role == "mission":  # whether it sees who the defendants are: by the incidents
        statement = statement.options(selectinload(JudicialCase.incidents))
    if "incident" in query:
        statement = statement.where(
            sa.exists().where(
                case_incidents.c.case_id == JudicialCase.id,
                case_incidents.c.incident_id == query["incident"],
                case_incidents.c.incident_id == Incident.id,
                visible_incidents(user),
            )
        )
    if "stage" in query:
        statement = statement.where(JudicialCase.current_stage == query["stage"])
    items, next_cursor = newest_cases(db, policy.case_listing(user), statement, query)
    return {"items": resources.judicial_cases(db, user, items), "next_cursor": next_cursor}


@blp.route("/cases/<int:case_id>", methods=["GET"])
@with_case()
@blp.response(200, CaseSchema)
def get_case(case: JudicialCase) -> dict[str, Any]:
    """One case, with its defendants and the incidents the viewer may open."""
    return resources.judicial_case(session(), viewer(), case)


@blp.route("/cases", methods=["POST"])
@idempotent
@blp.arguments(CaseInput)
@blp.response(201, CaseSchema)
def open_case(values: dict[str, Any]) -> dict[str, Any]:
    """Open a case on incidents of the user's mission; or, for a Member State's focal
    point, on incidents that concern its State, prosecuted by its State and pending until
    the mission validates it."""
    db, user = session(), viewer()
    wanted: list[int] = list(dict.fromkeys(values["incidents"]))
    found = {
        i.id: i
        for i in db.scalars(
            sa.select(Incident).where(Incident.id.in_(wanted), visible_incidents(user))
        )
    }
    missing = [str(n) for n in wanted if n not in found]
    if missing:
        message = _("No incident you can see has the id %(ids)s.", ids=", ".join(missing))
        abort(422, errors={"incidents": [message]})
    if not all(policy.may_open_case(user, found[n]) for n in wanted):
        abort(403, message=_("You may not open a case on this incident."))
    fields = cases.CaseFields(
        prosecuting_state_code=values["prosecuting_state_code"],
        jurisdiction=values["jurisdiction"],
        national_reference=values["national_reference"] or None,
        charges=values["charges"],
    )
    try:
        case = cases.open_case(db, user, [found[n] for n in wanted], fields)
    except NotAllowedError:
        abort(403, message=_("You may not open a case on this incident."))
    except InputError as error:
        refused(error)
    return resources.judicial_case(db, user, case)


# Defendants -----------------------------------------------------------------------------------


def defendant_resource(case: JudicialCase, defendant: Defendant) -> dict[str, Any]:
    return resources.defendant(defendant, shows_identity=sees_defendant_identity(viewer(), case))


@blp.route("/cases/<int:case_id>/defendants", methods=["GET"])
@with_case()
@blp.response(200, DefendantList)
def list_defendants(case: JudicialCase) -> dict[str, Any]:
    """The case's defendants; who they are only where the viewer may know."""
    return {
        "items": [
            defendant_resource(case, d) for d in cases.active_defendants(session(), viewer(), case)
        ]
    }


@blp.route("/cases/<int:case_id>/defendants/<int:defendant_id>", methods=["GET"])
@with_case()
@with_defendant()
@blp.response(200, DefendantSchema)
def get_defendant(case: JudicialCase, defendant: Defendant) -> dict[str, Any]:
    """One defendant of the case."""
    return defendant_resource(case, defendant)


@blp.route("/cases/<int:case_id>/defendants", methods=["POST"])
@with_case(policy.may_add_defendant)
@idempotent
@blp.arguments(DefendantInput)
@blp.response(201, DefendantSchema)
def add_defendant(values: dict[str, Any], case: JudicialCase) -> dict[str, Any]:
    """Add a defendant to a case the user keeps (or its State prosecutes: pending until the
    mission validates it)."""
    try:
        defendant = cases.add_defendant(session(), viewer(), case, cases.DefendantFields(**values))
    except InputError as error:
        refused(error)
    return defendant_resource(case, defendant)


@blp.route("/cases/<int:case_id>/defendants/<int:defendant_id>", methods=["PATCH"])
@with_case()
@with_defendant(policy.may_edit_defendant)
@blp.arguments(DefendantPatch(partial=DEFENDANT_FIELDS))
@blp.response(200, DefendantSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def update_defendant(
    values: dict[str, Any], case: JudicialCase, defendant: Defendant
) -> dict[str, Any]:
    """Change some of a defendant's fields, on the version the change was made on."""
    version = values.pop("version")
    merged = {name: getattr(defendant, name) for name in DEFENDANT_FIELDS} | values
    try:
        cases.update_defendant(
            session(), viewer(), defendant, cases.DefendantFields(**merged), version=version
        )
    except StaleEditError:
        # A refused flush leaves the session unusable; the answer rolls back anyway.
        session().rollback()
        abort(
            409,
            message=_("The defendant changed since this version; nothing was saved."),
            current=DefendantSchema().dump(defendant_resource(case, defendant)),
        )
    except InputError as error:
        refused(error)
    return defendant_resource(case, defendant)


# Stage events ---------------------------------------------------------------------------------


def event_resource(case: JudicialCase, event: StageEvent) -> dict[str, Any]:
    return resources.stage_event(event, reports=policy.may_report_progress(viewer(), case))


@blp.route("/cases/<int:case_id>/events", methods=["GET"])
@with_case()
@blp.response(200, StageEventList)
def list_stage_events(case: JudicialCase) -> dict[str, Any]:
    """The case's stages of proceedings, oldest first; pending and rejected updates only for
    those who keep the case or report on it."""
    events = session().scalars(policy.visible_events(viewer(), case))
    return {"items": [event_resource(case, event) for event in events]}


@blp.route("/cases/<int:case_id>/events", methods=["POST"])
@with_case(policy.may_report_progress)
@idempotent
@blp.arguments(StageEventInput)
@blp.response(201, StageEventSchema)
def add_stage_event(values: dict[str, Any], case: JudicialCase) -> dict[str, Any]:
    """Record a stage of the case or of one defendant. The mission's count at once; the
    prosecuting State's wait, pending, until the mission validates them."""
    try:
        event = stages.add_stage_event(
            session(), viewer(), case, stages.EventFields(**values), on_day=cases.today()
        )
    except NotAllowedError:
        abort(403)
    except InputError as error:
        refused(error, renamed={"subject": "defendant"})
    return event_resource(case, event)


def review_refused(error: InputError) -> NoReturn:
    if "review" in error.problems:
        abort(409, message=error.problems["review"])
    refused(error)


@blp.route("/cases/<int:case_id>/events/<int:event_id>/validate", methods=["POST"])
@with_case()
@with_stage_event(stages.goes_to_review)
@idempotent
@blp.response(200, StageEventSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already reviewed.")
def validate_stage_event(case: JudicialCase, event: StageEvent) -> dict[str, Any]:
    """Accept a prosecuting State's pending update: it now counts for the stages."""
    try:
        stages.validate_update(session(), viewer(), event, at=now())
    except NotAllowedError:
        abort(403)
    except InputError as error:
        review_refused(error)
    return event_resource(case, event)


@blp.route("/cases/<int:case_id>/events/<int:event_id>/reject", methods=["POST"])
@with_case()
@with_stage_event(stages.goes_to_review)
@idempotent
@blp.arguments(RejectInput)
@blp.response(200, StageEventSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already reviewed.")
def reject_stage_event(
    values: dict[str, Any], case: JudicialCase, event: StageEvent
) -> dict[str, Any]:
    """Refuse a prosecuting State's pending update, saying why."""
    try:
        stages.reject_update(session(), viewer(), event, values["reason"], at=now())
    except NotAllowedError:
        abort(403)
    except InputError as error:
        review_refused(error)
    return event_resource(case, event)


# The mission's review of the cases and defendants a Member State entered ------------------


def _review(record: review.Reviewed, reason: str | None) -> None:
    try:
        if reason is None:
            review.validate(session(), viewer(), record, at=now())
        else:
            review.reject(session(), viewer(), record, reason, at=now())
    except NotAllowedError:
        abort(403)
    except InputError as error:
        review_refused(error)


@blp.route("/cases/<int:case_id>/validate", methods=["POST"])
@with_case(review.goes_to_review)
@idempotent
@blp.response(200, CaseSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already reviewed.")
def validate_case(case: JudicialCase) -> dict[str, Any]:
    """Accept a case a Member State opened: everyone who sees its incidents now sees it."""
    _review(case, None)
    return resources.judicial_case(session(), viewer(), case)


@blp.route("/cases/<int:case_id>/reject", methods=["POST"])
@with_case(review.goes_to_review)
@idempotent
@blp.arguments(RejectInput)
@blp.response(200, CaseSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already reviewed.")
def reject_case(values: dict[str, Any], case: JudicialCase) -> dict[str, Any]:
    """Refuse a case a Member State opened, saying why."""
    _review(case, values["reason"])
    return resources.judicial_case(session(), viewer(), case)


@blp.route("/cases/<int:case_id>/defendants/<int:defendant_id>/validate", methods=["POST"])
@with_case()
@with_defendant(review.goes_to_review)
@idempotent
@blp.response(200, DefendantSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already reviewed.")
def validate_defendant(case: JudicialCase, defendant: Defendant) -> dict[str, Any]:
    """Accept a defendant the prosecuting State added."""
    _review(defendant, None)
    return defendant_resource(case, defendant)


@blp.route("/cases/<int:case_id>/defendants/<int:defendant_id>/reject", methods=["POST"])
@with_case()
@with_defendant(review.goes_to_review)
@idempotent
@blp.arguments(RejectInput)
@blp.response(200, DefendantSchema)
@blp.alt_response(409, schema=ErrorSchema, description="Already reviewed.")
def reject_defendant(
    values: dict[str, Any], case: JudicialCase, defendant: Defendant
) -> dict[str, Any]:
    """Refuse a defendant the prosecuting State added, saying why."""
    _review(defendant, values["reason"])
    return defendant_resource(case, defendant)
