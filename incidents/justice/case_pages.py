"""What the case pages show: the cases of an incident, and a case's dossier for one user."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth.models import User
from capdb.i18n import current_locale
from capdb.vocabularies import JUDICIAL_STAGE, JURISDICTION, REVIEW_STATUS
from incidents import policy
from incidents.justice.cases import (
    active_defendants,
    cases_of_incident,
    defendant_labels,
    today,
)
from incidents.justice.stages import days_from_incident, days_since_last_update, last_updates
from incidents.models import (
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
    case_incidents,
)
from incidents.policy import (
    hidden_incidents_known,
    person_label,
    sees_defendant_identity,
    visible_incidents,
)

# What the pages show ------------------------------------------------------------------------


def stage_label(code: str | None, locale: str) -> str:
    return JUDICIAL_STAGE.label(code, locale) if code else _("No stage yet")


def case_panel(db: Session, user: User, incident: Incident) -> dict[str, Any]:
    """What the incident page shows of the incident's cases, for this user."""
    locale = current_locale()
    cases = cases_of_incident(db, user, incident)
    updated = last_updates(db, cases)
    on_day = today()
    rows = [
        {
            "id": case.id,
            "title": case.title(),
            "prosecuting_state": case.prosecuting_state.name(locale),
            "stage": stage_label(case.current_stage, locale),
            "days_since_update": (on_day - updated[case.id]).days,
            "url": url_for("cases.detail", case_id=case.id),
            "review": review_mark(case.review_status, locale),
        }
        for case in cases
    ]
    may_open = policy.may_open_case(user, incident)
    return {
        "cases": rows,
        "may_open": may_open,
        "open_url": url_for("cases.new_case", incident=incident.id) if may_open else None,
    }


def review_mark(review_status: str, locale: str) -> str:
    """What marks a record that is not validated ("Pending validation", "Rejected"); empty
    for a validated one."""
    return "" if review_status == "validated" else REVIEW_STATUS.label(review_status, locale)


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
    review: str = ""
    review_reason: str = ""
    reviewable: bool = False
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
    adds_defendants: bool = False
    review: str = ""
    reviews_case: bool = False
    opened_by: str = ""


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
    defendants = active_defendants(db, user, case)
    labels = defendant_labels(user, case, defendants)
    events = db.scalars(policy.visible_events(user, case)).all()
    rows = [_event_row(user, event, labels, first_seen, locale) for event in events]
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
            review=review_mark(d.review_status, locale),
            review_reason=d.review_reason or "",
            reviewable=policy.may_validate_defendant(user, d),
            events=[r for r, e in zip(rows, events, strict=True) if e.defendant_id == d.id],
        )
        for d in defendants
    ]
    keeps = policy.keeps_case(user, case)
    return Dossier(
        case=case,
        title=case.title(),
        incidents=incidents,
        unseen_incidents=unseen_incidents(db, user, case),
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
        adds_defendants=policy.may_add_defendant(user, case),
        review=review_mark(case.review_status, locale),
        reviews_case=policy.may_validate_case(user, case),
        opened_by=person_label(user, case.created_by),
    )


def unseen_incidents(db: Session, user: User, case: JudicialCase) -> int:
    """How many of the case's incidents the user may not open but may know of: drafts and
    deleted incidents are not counted, so that nobody learns they exist."""
    count = db.scalar(
        sa.select(sa.func.count())
        .select_from(case_incidents)
        .join(Incident, Incident.id == case_incidents.c.incident_id)
        .where(case_incidents.c.case_id == case.id, hidden_incidents_known(user))
    )
    return count or 0


def _event_row(
    user: User, event: StageEvent, labels: dict[int, str], first_seen: date | None, locale: str
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
        entered_by=person_label(user, event.entered_by),
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
