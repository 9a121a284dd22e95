"""The printable dossier of an incident or of a judicial case, as a PDF.

A dossier shows its viewer what the pages show them, and nothing more: the incidents and
cases come through the access rule, victims' and defendants' identities only where
``incidents.policy`` allows, pending stage updates only to those they concern. The audit
history of the record is shown in full to those who keep the record (its mission and
admins); other viewers see only their own entries (``incidents.policy.visible_audit_entries``),
without the details, which may name officers and carry internal reasons. Other users
are named by address only where the policy allows, by role and State otherwise.

The PDF is made by :func:`capdb.pdf.html_to_pdf` with no folder of files: a dossier is
built from the database alone and never makes the server fetch anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import render_template
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from capdb.clock import now
from capdb.i18n import current_locale
from capdb.pdf import html_to_pdf
from capdb.vocabularies import AUDIT_ACTION, OUTCOME, PERSONNEL_CATEGORY, SEX
from incidents.attachments.dossier import case_documents
from incidents.comments import threads as comments
from incidents.justice import case_pages
from incidents.justice.cases import cases_of_incident
from incidents.models import Incident, JudicialCase, Victim
from incidents.policy import (
    keeps_case,
    keeps_record_of,
    person_label,
    sees_victim_identity,
    visible_audit_entries,
)

MAX_AUDIT_ENTRIES = 500
MAX_DETAIL = 300


@dataclass(frozen=True)
class VictimLine:
    nationality: str
    contributing_country: str
    unit: str
    sex: str
    outcome: str
    date_of_death: date | None
    # None when the viewer may not see who the victim is.
    name: str | None
    identifier: str | None


@dataclass(frozen=True)
class VictimGroup:
    category: str
    victims: list[VictimLine]


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    action: str
    actor: str
    detail: str


@dataclass(frozen=True)
class IncidentPart:
    """One incident as a dossier shows it."""

    incident: Incident
    victims: list[VictimGroup]
    victim_count: int


def victims_by_category(db: Session, user: User, incident: Incident) -> IncidentPart:
    locale = current_locale()
    victims = db.scalars(
        sa.select(Victim)
        .where(Victim.incident_id == incident.id, Victim.deleted_at.is_(None))
        .order_by(Victim.id)
    ).all()
    groups: dict[str, list[VictimLine]] = {code: [] for code in PERSONNEL_CATEGORY.codes}
    for victim in victims:
        shown = sees_victim_identity(user, victim)
        groups[victim.category].append(
            VictimLine(
                nationality=victim.nationality.name(locale),
                contributing_country=(
                    victim.contributing_country.name(locale) if victim.contributing_country else ""
                ),
                unit=victim.unit or "",
                sex=SEX.label(victim.sex, locale),
                outcome=OUTCOME.label(victim.outcome, locale),
                date_of_death=victim.date_of_death,
                name=(victim.name or "") if shown else None,
                identifier=(victim.identifier or "") if shown else None,
            )
        )
    return IncidentPart(
        incident=incident,
        victims=[
            VictimGroup(PERSONNEL_CATEGORY.label(code, locale), lines)
            for code, lines in groups.items()
            if lines
        ],
        victim_count=len(victims),
    )


def audit_history(
    db: Session, user: User, target_type: str, target_id: int, *, full: bool
) -> list[AuditLine]:
    """The latest entries of the audit trail about the record that the user may see, oldest
    first; ``full`` when the user keeps the record."""
    locale = current_locale()
    events = db.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.target_type == target_type, AuditEvent.target_id == str(target_id))
        .where(visible_audit_entries(user, keeps_record=full))
        .order_by(AuditEvent.id.desc())
        .limit(MAX_AUDIT_ENTRIES)
    ).all()
    shown = list(reversed(events))
    actors = _actors(db, {e.user_id for e in shown if e.user_id is not None})
    return [
        AuditLine(
            at=event.occurred_at,
            action=AUDIT_ACTION.label(event.action, locale),
            # An entry of no account (the console) names no person.
            actor=person_label(user, actors[event.user_id]) if event.user_id else event.actor,
            detail=_detail(event.detail) if full else "",
        )
        for event in shown
    ]


def _actors(db: Session, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    return {u.id: u for u in db.scalars(sa.select(User).where(User.id.in_(ids)))}


def _detail(detail: dict[str, object]) -> str:
    if not detail:
        return ""
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def _case_dossiers(db: Session, user: User, incident: Incident) -> list[case_pages.Dossier]:
    linked = cases_of_incident(db, user, incident)
    on_day = now().date()
    return [case_pages.dossier(db, user, case, on_day=on_day) for case in linked]


def incident_pdf(db: Session, user: User, incident: Incident) -> bytes:
    """The dossier of an incident the caller has loaded through the access rule."""
    html = render_template(
        "incidents/dossier.html",
        part=victims_by_category(db, user, incident),
        case_dossiers=_case_dossiers(db, user, incident),
        comments=comments.thread(db, user, incident),
        audit=audit_history(
            db, user, "incidents", incident.id, full=keeps_record_of(user, incident)
        ),
        viewer=user,
        generated_at=now(),
    )
    return html_to_pdf(html)


def case_pdf(db: Session, user: User, case: JudicialCase) -> bytes:
    """The dossier of a case the caller has loaded through the access rule."""
    dossier = case_pages.dossier(db, user, case, on_day=now().date())
    html = render_template(
        "incidents/dossier_case.html",
        dossier=dossier,
        parts=[victims_by_category(db, user, incident) for incident in dossier.incidents],
        documents=case_documents(db, user, case),
        comments=comments.thread(db, user, case),
        audit=audit_history(db, user, "judicial_cases", case.id, full=keeps_case(user, case)),
        viewer=user,
        generated_at=now(),
    )
    return html_to_pdf(html)
