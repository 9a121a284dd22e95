"""Stage events of judicial cases and the stages they derive.

The current stage of a case, and of each defendant, is derived from the stage events:
the latest validated, undeleted event by date, then by id (for the case, among all its
events). It is stored in ``current_stage`` so that lists can filter on it, and
:func:`recompute_stages` runs whenever an event is added, reviewed or deleted.

The State prosecuting a case may report progress: its stage events wait, pending, until a
keeper of the case validates or rejects them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.db import MAX_ID
from capdb.vocabularies import JUDICIAL_STAGE
from incidents import policy
from incidents.errors import InputError, NotAllowedError
from incidents.justice.cases import (
    MAX_NOTE,
    MAX_REASON,
    _flush,
    _require,
    defendant_or_none,
)
from incidents.models import (
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
    case_incidents,
)
from incidents.policy import (
    visible_incidents,
)
from incidents.signals import stage_event_recorded, stage_update_reviewed

# Stage events and the stages they derive ---------------------------------------------------


@dataclass(frozen=True)
class EventFields:
    stage: str
    occurred_on: date
    note: str = ""
    source_document: str | None = None
    defendant_id: int | None = None


def first_incident_on(case: JudicialCase) -> date | None:
    """The date of the case's earliest incident: no event of the case can precede it."""
    dates = [incident.occurred_on for incident in case.incidents]
    return min(dates) if dates else None


def first_incident_seen_on(db: Session, user: User, case: JudicialCase) -> date | None:
    """The date of the case's earliest incident that the user may open."""
    return db.scalar(
        sa.select(sa.func.min(Incident.occurred_on))
        .join(case_incidents, case_incidents.c.incident_id == Incident.id)
        .where(case_incidents.c.case_id == case.id, visible_incidents(user))
    )


def _too_early(db: Session, user: User, case: JudicialCase, occurred_on: date) -> str | None:
    """Why the date is too early, naming only the date of an incident the user sees."""
    earliest = first_incident_on(case)
    if earliest is None or occurred_on >= earliest:
        return None
    seen = first_incident_seen_on(db, user, case)
    if seen is not None and occurred_on < seen:
        return str(_("The date is before the incident of %(date)s.", date=seen.isoformat()))
    # The user opens none of the case's incidents: the rule, and no date.
    return str(_("A stage cannot be dated before any of the case's incidents."))


def _check_event_fields(
    db: Session, user: User, case: JudicialCase, fields: EventFields, on_day: date
) -> None:
    problems: dict[str, str] = {}
    if fields.stage not in JUDICIAL_STAGE:
        problems["stage"] = _("Choose a stage from the list.")
    too_early = _too_early(db, user, case, fields.occurred_on)
    if fields.occurred_on > on_day:
        problems["occurred_on"] = _("The date is in the future.")
    elif too_early is not None:
        problems["occurred_on"] = too_early
    if len(fields.note) > MAX_NOTE:
        problems["note"] = _("At most %(count)d characters.", count=MAX_NOTE)
    if fields.source_document and len(fields.source_document) > 200:
        problems["source_document"] = _("At most %(count)d characters.", count=200)
    if fields.defendant_id is not None and defendant_or_none(db, case, fields.defendant_id) is None:
        problems["subject"] = _("Choose the case or one of its defendants.")
    if problems:
        raise InputError(problems)


def add_stage_event(
    db: Session, user: User, case: JudicialCase, fields: EventFields, *, on_day: date
) -> StageEvent:
    """Record a step of the case or of one defendant.

    A keeper's event counts at once; the prosecuting State's waits, pending, for review.
    """
    if not policy.may_report_progress(user, case):
        raise NotAllowedError
    # A keeper's update counts at once; the prosecuting State's waits for a keeper.
    status = "validated" if policy.keeps_case(user, case) else "pending"
    _check_event_fields(db, user, case, fields, on_day)
    event = StageEvent(
        case_id=case.id,
        defendant_id=fields.defendant_id,
        stage=fields.stage,
        occurred_on=fields.occurred_on,
        note=fields.note,
        source_document=fields.source_document or None,
        entered_by_id=user.id,
        review_status=status,
    )
    db.add(event)
    db.flush()
    if status == "validated":
        recompute_stages(db, case)
    audit.record(
        db,
        "create",
        user=user,
        target=event,
        detail={
            "case": case.id,
            "defendant": fields.defendant_id,
            "stage": fields.stage,
            "review_status": status,
        },
    )
    stage_event_recorded.send(db, event=event, user=user)
    return event


def stage_event_or_none(db: Session, case: JudicialCase, event_id: int) -> StageEvent | None:
    """The case's undeleted stage event of this id."""
    if not 0 < event_id <= MAX_ID:
        return None
    return db.scalar(
        sa.select(StageEvent).where(
            StageEvent.id == event_id,
            StageEvent.case_id == case.id,
            StageEvent.deleted_at.is_(None),
        )
    )


def validate_update(db: Session, user: User, event: StageEvent, *, at: datetime) -> None:
    """Accept a pending update: it now counts for the stages."""
    _check_review(user, event)
    event.review_status = "validated"
    event.reviewed_by_id = user.id
    event.reviewed_at = at
    _flush(db)
    recompute_stages(db, event.case)
    audit.record(
        db, "update", user=user, target=event, detail={"case": event.case_id, "review": "validated"}
    )
    stage_update_reviewed.send(db, event=event, user=user)


def reject_update(db: Session, user: User, event: StageEvent, reason: str, *, at: datetime) -> None:
    """Refuse a pending update, saying why; it never counts for the stages."""
    _check_review(user, event)
    reason = reason.strip()
    if not reason:
        raise InputError({"reason": _("Say why the update is rejected.")})
    if len(reason) > MAX_REASON:
        raise InputError({"reason": _("At most %(count)d characters.", count=MAX_REASON)})
    event.review_status = "rejected"
    event.reviewed_by_id = user.id
    event.reviewed_at = at
    event.review_reason = reason
    _flush(db)
    audit.record(
        db, "update", user=user, target=event, detail={"case": event.case_id, "review": "rejected"}
    )
    stage_update_reviewed.send(db, event=event, user=user)


def goes_to_review(user: User, event: StageEvent) -> bool:
    """Whether a review request goes on to :func:`validate_update` or :func:`reject_update`:
    the policy allows it (``may_validate_update``), or the update is no longer pending,
    which those functions answer with a reason (409) or a refusal (403)."""
    return event.review_status != "pending" or policy.may_validate_update(user, event)


def _check_review(user: User, event: StageEvent) -> None:
    """Refuse a review the policy denies: 403 to a non-keeper, a reason for a reviewed one."""
    if policy.may_validate_update(user, event):
        return
    _require(policy.keeps_case(user, event.case))
    raise InputError({"review": _("This update was already reviewed.")})


def delete_stage_event(db: Session, user: User, event: StageEvent, *, at: datetime) -> None:
    """Soft-delete the event (its history keeps it) and derive the stages again."""
    _require(policy.may_delete(user, event))
    event.deleted_at = at
    _flush(db)
    recompute_stages(db, event.case)
    audit.record(db, "delete", user=user, target=event, detail={"case": event.case_id})


def _counting(case_id: Any) -> list[sa.ColumnElement[bool]]:
    """The conditions of the events that count for stages and updates."""
    return [
        StageEvent.case_id == case_id,
        StageEvent.review_status == "validated",
        StageEvent.deleted_at.is_(None),
    ]


def recompute_stages(db: Session, case: JudicialCase) -> None:
    """Derive the current stage of the case and of each defendant from their events."""
    rows = db.execute(
        sa.select(StageEvent.defendant_id, StageEvent.stage)
        .where(*_counting(case.id))
        .order_by(StageEvent.occurred_on, StageEvent.id)
    ).all()
    latest: dict[int, str] = {}
    for defendant_id, stage in rows:
        if defendant_id is not None:
            latest[defendant_id] = stage
    case_stage = rows[-1].stage if rows else None
    if case.current_stage != case_stage:
        case.current_stage = case_stage
    defendants = db.scalars(sa.select(Defendant).where(Defendant.case_id == case.id))
    for defendant in defendants:
        derived = latest.get(defendant.id)
        if defendant.current_stage != derived:
            defendant.current_stage = derived
    _flush(db)


# Durations --------------------------------------------------------------------------------


def last_updates(db: Session, cases: Sequence[JudicialCase]) -> dict[int, date]:
    """For each case, the date of its latest counting event, or the day it was opened."""
    ids = [case.id for case in cases]
    latest = dict(
        db.execute(
            sa.select(StageEvent.case_id, sa.func.max(StageEvent.occurred_on))
            .where(
                StageEvent.case_id.in_(ids),
                StageEvent.review_status == "validated",
                StageEvent.deleted_at.is_(None),
            )
            .group_by(StageEvent.case_id)
        ).all()
    )
    return {case.id: latest.get(case.id) or case.created_at.date() for case in cases}


def days_since_last_update(db: Session, case: JudicialCase, on_day: date) -> int:
    return (on_day - last_updates(db, [case])[case.id]).days


def days_from_incident(first_incident: date | None, event_on: date) -> int | None:
    return None if first_incident is None else (event_on - first_incident).days
