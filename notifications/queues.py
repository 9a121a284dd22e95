"""The work queues of each role's home page: what waits for the user, each one query.

Every queue is a single scoped query (:mod:`incidents.policy_queues`) that answers both
its first items and, through a window, how many there are in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth.models import User
from capdb.clock import now
from capdb.config import current_config
from incidents.models import Comment, Incident, JudicialCase, StageEvent
from incidents.policy_queues import (
    cases_to_validate,
    incidents_to_validate,
    requests_awaiting_answer,
    returned_incidents,
    stalled_cases,
    updates_to_validate,
)

SHOWN = 20
# A queue's total is counted up to this many; past it, the home says "100+": a queue of
# thousands (an analyst's stalled cases at a million incidents) costs what one of 100 does.
COUNTED = 100
# Columns kind, id, name, since: one row per item of a queue.
Listing = sa.Select[*tuple[Any, ...]] | sa.CompoundSelect[*tuple[Any, ...]]

# The queues each role's home shows, in order.
ROLE_QUEUES = {
    "mission": ("to_validate", "awaiting_answer", "returned", "stalled"),
    "member_state": ("awaiting_answer",),
    "analyst": ("stalled",),
    "admin": ("to_validate", "awaiting_answer", "stalled"),
}


@dataclass(frozen=True)
class QueueItem:
    label: str
    url: str
    since: datetime | None


@dataclass(frozen=True)
class Queue:
    key: str
    title: str
    total: int
    items: list[QueueItem]
    more: bool = False  # more than ``total`` wait: counting stopped at COUNTED


def _first_and_total(db: Session, rows: Listing) -> tuple[list[sa.Row[Any]], int, bool]:
    """The first rows of a queue, how many it holds up to COUNTED, and whether more."""
    listed = rows.subquery()
    first = list(db.execute(sa.select(listed).order_by(listed.c.since, listed.c.id).limit(SHOWN)))
    if len(first) < SHOWN:
        return first, len(first), False
    some = sa.select(listed.c.id).limit(COUNTED + 1).subquery()
    counted = db.scalar(sa.select(sa.func.count()).select_from(some)) or 0
    return first, min(counted, COUNTED), counted > COUNTED


def _to_validate(user: User) -> Listing:
    incidents = sa.select(
        sa.literal("incident").label("kind"),
        Incident.id.label("id"),
        Incident.reference.label("name"),
        Incident.submitted_at.label("since"),
    ).where(incidents_to_validate(user))
    updates = sa.select(
        sa.literal("update").label("kind"),
        StageEvent.case_id.label("id"),
        sa.null().label("name"),
        StageEvent.created_at.label("since"),
    ).where(updates_to_validate(user))
    cases = sa.select(
        sa.literal("case_review").label("kind"),
        JudicialCase.id.label("id"),
        sa.null().label("name"),
        JudicialCase.created_at.label("since"),
    ).where(cases_to_validate(user))
    return sa.union_all(incidents, updates, cases)


def _awaiting_answer(user: User) -> Listing:
    on_incident = sa.select(
        sa.literal("incident_comment").label("kind"),
        Comment.incident_id.label("id"),
        Incident.reference.label("name"),
        Comment.created_at.label("since"),
    ).join(Incident, Incident.id == Comment.incident_id)
    on_case = sa.select(
        sa.literal("case_comment").label("kind"),
        Comment.case_id.label("id"),
        sa.null().label("name"),
        Comment.created_at.label("since"),
    ).where(Comment.case_id.is_not(None))
    waiting = requests_awaiting_answer(user)
    return sa.union_all(on_incident.where(waiting), on_case.where(waiting))


def _returned(user: User) -> Listing:
    return sa.select(
        sa.literal("incident").label("kind"),
        Incident.id.label("id"),
        Incident.reference.label("name"),
        Incident.updated_at.label("since"),
    ).where(returned_incidents(user))


def _stalled(user: User) -> Listing:
    cutoff = now() - timedelta(days=current_config().stalled_case_days)
    return sa.select(
        sa.literal("case").label("kind"),
        JudicialCase.id.label("id"),
        sa.null().label("name"),
        JudicialCase.created_at.label("since"),
    ).where(stalled_cases(user, changed_since=cutoff.date(), opened_before=cutoff))


def _item(kind: str, record_id: int, name: str | None, since: datetime | None) -> QueueItem:
    if kind == "update":
        label = _("Progress update on case %(number)d", number=record_id)
        return QueueItem(label, url_for("cases.detail", case_id=record_id), since)
    if kind == "case_review":
        label = _("Case %(number)d to review", number=record_id)
        return QueueItem(label, url_for("cases.detail", case_id=record_id), since)
    if kind == "case_comment":
        label = _("Request about case %(number)d", number=record_id)
        url = url_for("cases.detail", case_id=record_id, _anchor="comments")
        return QueueItem(label, url, since)
    if kind == "incident_comment":
        label = _("Request about %(reference)s", reference=name or "")
        url = url_for("incidents.detail", incident_id=record_id, _anchor="comments")
        return QueueItem(label, url, since)
    if kind == "case":
        return QueueItem(
            _("Case %(number)d", number=record_id),
            url_for("cases.detail", case_id=record_id),
            since,
        )
    return QueueItem(name or "", url_for("incidents.detail", incident_id=record_id), since)


QUERIES = {
    "to_validate": _to_validate,
    "awaiting_answer": _awaiting_answer,
    "returned": _returned,
    "stalled": _stalled,
}


def _titles() -> dict[str, str]:
    return {
        "to_validate": _("To validate"),
        "awaiting_answer": _("Awaiting my answer"),
        "returned": _("Returned to me"),
        "stalled": _("Stalled cases"),
    }


def queues_for(db: Session, user: User) -> list[Queue]:
    titles = _titles()
    queues = []
    for key in ROLE_QUEUES.get(user.role, ()):
        rows, total, more = _first_and_total(db, QUERIES[key](user))
        items = [_item(r.kind, r.id, r.name, r.since) for r in rows]
        queues.append(Queue(key, titles[key], total, items, more))
    return queues
