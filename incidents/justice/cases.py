"""Judicial cases: opening them, their defendants, stage events and derived stages.

The current stage of a case, and of each defendant, is derived from the stage events:
the latest validated, undeleted event by date, then by id (for the case, among all its
events). It is stored in ``current_stage`` so that lists can filter on it, and
:func:`recompute_stages` runs whenever an event is added, reviewed or deleted.

Missions of the case's incidents and admins keep a case. The State prosecuting it may
report progress: its stage events wait, pending, until a keeper validates or rejects them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from auth import audit
from auth.models import User
from capdb.clock import now
from capdb.db import utcnow
from capdb.i18n import current_locale
from capdb.reference import Country
from capdb.vocabularies import JUDICIAL_STAGE, JURISDICTION, REVIEW_STATUS
from incidents import policy
from incidents.models import (
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
    case_incidents,
)
from incidents.policy import MAX_ID as MAX_ID
from incidents.policy import (
    sees_defendant_identity,
    visible_cases,
    visible_events,
    visible_incidents,
)

MAX_REFERENCES = 50
MAX_NOTE = 5000
MAX_REASON = 2000
MAX_CHARGES = 10000
MAX_SENTENCE_MONTHS = 1200


class InputError(ValueError):
    """Input a service refuses, with one reason per form field."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in problems.items()))
        self.problems = problems


class StaleEditError(Exception):
    """The record changed after the form editing it was opened."""


class NotAllowedError(PermissionError):
    """The user may see the record but not make this change."""


def today() -> date:
    """Today's date in UTC, by the application's clock."""
    return now().date()


# Who may do what is the policy's (incidents.policy); these services refuse what it denies.


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowedError


# Opening and editing a case ----------------------------------------------------------------


@dataclass(frozen=True)
class CaseFields:
    prosecuting_state_code: str
    jurisdiction: str
    national_reference: str | None = None
    charges: str = ""


def parse_references(text: str | None) -> list[str]:
    """Incident references typed in a box, separated by commas, semicolons or spaces."""
    seen: dict[str, None] = {}
    for reference in re.split(r"[\s,;]+", text or ""):
        if reference:
            seen[reference.upper()] = None
    return list(seen)


def incidents_by_reference(
    db: Session, user: User, references: Sequence[str], *, field_name: str = "other_incidents"
) -> list[Incident]:
    """The incidents the user sees with these references; any other reference is refused.

    An unknown reference and one the user may not see get the same answer.
    """
    if not references:
        return []
    if len(references) > MAX_REFERENCES:
        raise InputError(
            {field_name: _("Link at most %(count)d incidents at once.", count=MAX_REFERENCES)}
        )
    found = db.scalars(
        sa.select(Incident).where(
            sa.func.upper(Incident.reference).in_(references), visible_incidents(user)
        )
    ).all()
    by_reference: dict[str, list[Incident]] = {}
    for incident in found:
        by_reference.setdefault(incident.reference.upper(), []).append(incident)
    missing = [r for r in references if r not in by_reference]
    if missing:
        raise InputError(
            {
                field_name: _(
                    "No incident you can see has the reference %(references)s.",
                    references=", ".join(missing),
                )
            }
        )
    ambiguous = [r for r, matches in by_reference.items() if len(matches) > 1]
    if ambiguous:
        raise InputError(
            {
                field_name: _(
                    "Several incidents have the reference %(references)s; ask an administrator.",
                    references=", ".join(ambiguous),
                )
            }
        )
    return [by_reference[r][0] for r in references]


def _check_case_fields(db: Session, fields: CaseFields) -> None:
    problems: dict[str, str] = {}
    if db.get(Country, fields.prosecuting_state_code) is None:
        problems["prosecuting_state"] = _("Choose a State from the list.")
    if fields.jurisdiction not in JURISDICTION:
        problems["jurisdiction"] = _("Choose a jurisdiction from the list.")
    if fields.national_reference and len(fields.national_reference) > 120:
        problems["national_reference"] = _("At most %(count)d characters.", count=120)
    if len(fields.charges) > MAX_CHARGES:
        problems["charges"] = _("At most %(count)d characters.", count=MAX_CHARGES)
    if problems:
        raise InputError(problems)


def open_case(
    db: Session, user: User, incidents: Sequence[Incident], fields: CaseFields
) -> JudicialCase:
    """Open a case on the incidents; the user must be able to open one on the first."""
    _require(bool(incidents) and policy.may_open_case(user, incidents[0]))
    _check_case_fields(db, fields)
    unique = list({incident.id: incident for incident in incidents}.values())
    case = JudicialCase(
        prosecuting_state_code=fields.prosecuting_state_code,
        jurisdiction=fields.jurisdiction,
        national_reference=fields.national_reference or None,
        charges=fields.charges,
        created_by_id=user.id,
        incidents=unique,
    )
    db.add(case)
    db.flush()
    audit.record(db, "create", user=user, target=case, detail={"incidents": [i.id for i in unique]})
    return case


def update_case(
    db: Session,
    user: User,
    case: JudicialCase,
    fields: CaseFields,
    *,
    version: int,
    more_incidents: Sequence[Incident] = (),
) -> None:
    """Change the case's fields and link more incidents, unless it changed meanwhile."""
    _require(policy.may_edit_case(user, case))
    if version != case.version:
        raise StaleEditError
    _check_case_fields(db, fields)
    wanted = {
        "prosecuting_state_code": fields.prosecuting_state_code,
        "jurisdiction": fields.jurisdiction,
        "national_reference": fields.national_reference or None,
        "charges": fields.charges,
    }
    changed = sorted(name for name, value in wanted.items() if getattr(case, name) != value)
    for name in changed:
        setattr(case, name, wanted[name])
    linked = [i for i in more_incidents if i not in case.incidents]
    if linked:
        case.incidents.extend(linked)
        # Linking alone is a new version of the case too, checked and kept.
        case.updated_at = utcnow()
    _flush(db)
    audit.record(
        db,
        "update",
        user=user,
        target=case,
        detail={"fields": changed, "linked_incidents": [i.id for i in linked]},
    )


def _flush(db: Session) -> None:
    try:
        db.flush()
    except StaleDataError as error:
        raise StaleEditError from error


# Defendants -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefendantFields:
    alias: str
    identifier: str | None = None
    affiliation: str | None = None
    verdict: str | None = None
    sentence: str | None = None
    sentence_months: int | None = None


def _check_defendant_fields(fields: DefendantFields) -> None:
    problems: dict[str, str] = {}
    if not fields.alias.strip():
        problems["alias"] = _("This field is required.")
    limits = {
        "alias": 200,
        "identifier": 64,
        "affiliation": 200,
        "verdict": 200,
        "sentence": 200,
    }
    for name, limit in limits.items():
        value = getattr(fields, name)
        if value and len(value) > limit:
            problems[name] = _("At most %(count)d characters.", count=limit)
    months = fields.sentence_months
    if months is not None and not 0 <= months <= MAX_SENTENCE_MONTHS:
        problems["sentence_months"] = _(
            "Enter a number of months between 0 and %(max)d.", max=MAX_SENTENCE_MONTHS
        )
    if problems:
        raise InputError(problems)


def _defendant_values(fields: DefendantFields) -> dict[str, Any]:
    return {
        "alias": fields.alias.strip(),
        "identifier": fields.identifier or None,
        "affiliation": fields.affiliation or None,
        "verdict": fields.verdict or None,
        "sentence": fields.sentence or None,
        "sentence_months": fields.sentence_months,
    }


def add_defendant(
    db: Session, user: User, case: JudicialCase, fields: DefendantFields
) -> Defendant:
    _require(policy.may_add_defendant(user, case))
    _check_defendant_fields(fields)
    defendant = Defendant(case_id=case.id, **_defendant_values(fields))
    db.add(defendant)
    db.flush()
    # The audit trail names the record, never the person: aliases are personal data.
    audit.record(db, "create", user=user, target=defendant, detail={"case": case.id})
    return defendant


def update_defendant(
    db: Session, user: User, defendant: Defendant, fields: DefendantFields, *, version: int
) -> None:
    _require(policy.may_edit_defendant(user, defendant))
    if version != defendant.version:
        raise StaleEditError
    _check_defendant_fields(fields)
    wanted = _defendant_values(fields)
    changed = sorted(name for name, value in wanted.items() if getattr(defendant, name) != value)
    for name in changed:
        setattr(defendant, name, wanted[name])
    _flush(db)
    audit.record(
        db,
        "update",
        user=user,
        target=defendant,
        detail={"case": defendant.case_id, "fields": changed},
    )


def defendant_or_none(db: Session, case: JudicialCase, defendant_id: int) -> Defendant | None:
    """The case's undeleted defendant of this id."""
    if not 0 < defendant_id <= MAX_ID:
        return None
    return db.scalar(
        sa.select(Defendant).where(
            Defendant.id == defendant_id,
            Defendant.case_id == case.id,
            Defendant.deleted_at.is_(None),
        )
    )


def active_defendants(db: Session, case: JudicialCase) -> list[Defendant]:
    return list(
        db.scalars(
            sa.select(Defendant)
            .where(Defendant.case_id == case.id, Defendant.deleted_at.is_(None))
            .order_by(Defendant.id)
        )
    )


def defendant_labels(
    user: User, case: JudicialCase, defendants: Sequence[Defendant]
) -> dict[int, str]:
    """How each defendant is named to this user: by alias, or as "Defendant 1", "Defendant 2"."""
    if sees_defendant_identity(user, case):
        return {d.id: d.alias for d in defendants}
    return {d.id: _("Defendant %(number)d", number=n) for n, d in enumerate(defendants, 1)}


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


def _check_event_fields(db: Session, case: JudicialCase, fields: EventFields, on_day: date) -> None:
    problems: dict[str, str] = {}
    if fields.stage not in JUDICIAL_STAGE:
        problems["stage"] = _("Choose a stage from the list.")
    earliest = first_incident_on(case)
    if fields.occurred_on > on_day:
        problems["occurred_on"] = _("The date is in the future.")
    elif earliest is not None and fields.occurred_on < earliest:
        problems["occurred_on"] = _("The date is before the incident.")
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
    _check_event_fields(db, case, fields, on_day)
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


# What the pages show ------------------------------------------------------------------------


def case_title(case: JudicialCase) -> str:
    if case.national_reference:
        title = _(
            "Case %(number)d (%(reference)s)", number=case.id, reference=case.national_reference
        )
    else:
        title = _("Case %(number)d", number=case.id)
    return str(title)


def stage_label(code: str | None, locale: str) -> str:
    return JUDICIAL_STAGE.label(code, locale) if code else _("No stage yet")


def case_panel(db: Session, user: User, incident: Incident) -> dict[str, Any]:
    """What the incident page shows of the incident's cases, for this user."""
    locale = current_locale()
    cases = list(
        db.scalars(
            sa.select(JudicialCase)
            .join(case_incidents, case_incidents.c.case_id == JudicialCase.id)
            .where(case_incidents.c.incident_id == incident.id, visible_cases(user))
            .order_by(JudicialCase.id)
        )
    )
    updated = last_updates(db, cases)
    on_day = today()
    rows = [
        {
            "id": case.id,
            "title": case_title(case),
            "prosecuting_state": case.prosecuting_state.name(locale),
            "stage": stage_label(case.current_stage, locale),
            "days_since_update": (on_day - updated[case.id]).days,
            "url": url_for("cases.detail", case_id=case.id),
        }
        for case in cases
    ]
    may_open = policy.may_open_case(user, incident)
    return {
        "cases": rows,
        "may_open": may_open,
        "open_url": url_for("cases.new_case", incident=incident.id) if may_open else None,
    }


@dataclass(frozen=True)
class EventRow:
    id: int
    stage: str
    occurred_on: date
    subject: str
    note: str
    source_document: str
    entered_by: str
    review_status: str
    review_label: str
    review_reason: str
    days_from_incident: int | None


@dataclass(frozen=True)
class DefendantRow:
    id: int
    label: str
    identifier: str | None
    affiliation: str
    stage: str
    verdict: str
    sentence: str
    sentence_months: int | None
    events: list[EventRow] = field(default_factory=list)


@dataclass(frozen=True)
class Dossier:
    """The case page for one user: only what that user may see."""

    case: JudicialCase
    title: str
    incidents: list[Incident]
    unseen_incidents: int
    prosecuting_state: str
    jurisdiction: str
    stage: str
    days_since_update: int
    defendants: list[DefendantRow]
    case_events: list[EventRow]
    pending: list[EventRow]
    keeps: bool
    reports: bool
    shows_identity: bool


def dossier(db: Session, user: User, case: JudicialCase, *, on_day: date) -> Dossier:
    locale = current_locale()
    incidents = list(
        db.scalars(
            sa.select(Incident)
            .join(case_incidents, case_incidents.c.incident_id == Incident.id)
            .where(case_incidents.c.case_id == case.id, visible_incidents(user))
            .order_by(Incident.occurred_on, Incident.id)
        )
    )
    # Durations count from the incidents this user may open, and no other.
    first_seen = min((i.occurred_on for i in incidents), default=None)
    defendants = active_defendants(db, case)
    labels = defendant_labels(user, case, defendants)
    events = db.scalars(visible_events(user, case)).all()
    rows = [_event_row(event, labels, first_seen, locale) for event in events]
    shows_identity = sees_defendant_identity(user, case)
    defendant_rows = [
        DefendantRow(
            id=d.id,
            label=labels[d.id],
            identifier=d.identifier if shows_identity else None,
            affiliation=d.affiliation or "",
            stage=stage_label(d.current_stage, locale),
            verdict=d.verdict or "",
            sentence=d.sentence or "",
            sentence_months=d.sentence_months,
            events=[r for r, e in zip(rows, events, strict=True) if e.defendant_id == d.id],
        )
        for d in defendants
    ]
    keeps = policy.keeps_case(user, case)
    return Dossier(
        case=case,
        title=case_title(case),
        incidents=incidents,
        unseen_incidents=len(case.incidents) - len(incidents),
        prosecuting_state=case.prosecuting_state.name(locale),
        jurisdiction=JURISDICTION.label(case.jurisdiction, locale),
        stage=stage_label(case.current_stage, locale),
        days_since_update=days_since_last_update(db, case, on_day),
        defendants=defendant_rows,
        case_events=[r for r, e in zip(rows, events, strict=True) if e.defendant_id is None],
        pending=[r for r in rows if r.review_status == "pending"] if keeps else [],
        keeps=keeps,
        reports=policy.may_report_progress(user, case),
        shows_identity=shows_identity,
    )


def _event_row(
    event: StageEvent, labels: dict[int, str], first_seen: date | None, locale: str
) -> EventRow:
    if event.defendant_id is None:
        subject = _("The case")
    else:
        subject = labels.get(event.defendant_id, _("A removed defendant"))
    return EventRow(
        id=event.id,
        stage=JUDICIAL_STAGE.label(event.stage, locale),
        occurred_on=event.occurred_on,
        subject=subject,
        note=event.note,
        source_document=event.source_document or "",
        entered_by=event.entered_by.email if event.entered_by else "",
        review_status=event.review_status,
        review_label=REVIEW_STATUS.label(event.review_status, locale),
        review_reason=event.review_reason or "",
        days_from_incident=days_from_incident(first_seen, event.occurred_on),
    )


def subject_choices(
    user: User, case: JudicialCase, defendants: Iterable[Defendant]
) -> list[tuple[str, str]]:
    """What a stage event may be about: the case, or one of its defendants."""
    defendants = list(defendants)
    labels = defendant_labels(user, case, defendants)
    return [("", _("The case as a whole"))] + [(str(d.id), labels[d.id]) for d in defendants]
