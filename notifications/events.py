"""From what happened to who is told: one INSERT ... SELECT per event, in its transaction.

Each listener hears a signal of the incidents feature (:mod:`incidents.signals`), sent
inside the transaction of the change. It writes a notification for every user whom the
event concerns and who may see the record (:mod:`incidents.policy_audience`), with the
delivery each of them chose (else the role's default, else "at once"), in one statement:
nobody is looked at one by one in Python, and the change and its notifications commit or
roll back together. The job worker mails them afterwards (:mod:`notifications.delivery`).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from auth.models import User
from capdb import jobs
from capdb.clock import now
from capdb.db import UtcDateTime
from incidents.models import Comment, Incident, JudicialCase, StageEvent
from incidents.policy_audience import (
    case_keepers,
    comment_audience,
    incident_audience,
    stage_event_audience,
)
from incidents.signals import (
    comment_posted,
    incident_step,
    stage_event_recorded,
    stage_update_reviewed,
)
from notifications.models import (
    SHIPPED_DELIVERY,
    Notification,
    NotificationDefault,
    NotificationPreference,
)

log = logging.getLogger(__name__)

DELIVER_TASK = "notifications.deliver"
Condition = sa.ColumnElement[bool]


def notify(
    db: Session,
    kind: str,
    recipients: Condition,
    *,
    actor: User,
    subject: Incident | JudicialCase,
    statement: sa.Insert | None = None,
    **params: object,
) -> int:
    """Write the kind's notification for every recipient but the actor; answers how many
    were written (-1 when the database does not say).

    ``statement`` is one :func:`_insert` already built with ``recipients`` in bound
    parameters (``params``), for the events that happen most.
    """
    reference, mission = _names(subject)
    values = {
        "kind": kind,
        "incident_id": subject.id if isinstance(subject, Incident) else None,
        "case_id": subject.id if isinstance(subject, JudicialCase) else None,
        "reference": reference,
        "mission": mission,
        "actor": actor.id,
        "created_at": now(),
    }
    result = db.execute(
        statement if statement is not None else _insert(recipients), values | params
    )
    count = int(getattr(result, "rowcount", -1))
    if count:
        deliver_after_commit(db)
    return count


def _insert(recipients: Condition) -> sa.Insert:
    """INSERT ... SELECT of the notifications of one event, every value a bound parameter."""
    own = aliased(NotificationPreference)
    default = aliased(NotificationDefault)
    kind = sa.bindparam("kind", type_=sa.String)
    rows = (
        sa.select(
            User.id,
            kind,
            sa.bindparam("incident_id", type_=sa.Integer),
            sa.bindparam("case_id", type_=sa.Integer),
            sa.bindparam("reference", type_=sa.String),
            sa.bindparam("mission", type_=sa.String),
            sa.func.coalesce(own.delivery, default.delivery, SHIPPED_DELIVERY),
            sa.bindparam("created_at", type_=UtcDateTime()),
        )
        .outerjoin(own, sa.and_(own.user_id == User.id, own.kind == kind))
        .outerjoin(default, sa.and_(default.role == User.role, default.kind == kind))
        .where(recipients, User.id != sa.bindparam("actor", type_=sa.Integer))
    )
    columns = ["user_id", "kind", "incident_id", "case_id", "reference", "mission_code"]
    # The table, not the mapped class: the ORM would take the parameters for rows to insert.
    table = cast(sa.Table, Notification.__table__)
    return sa.insert(table).from_select([*columns, "delivery", "created_at"], rows)


def _names(subject: Incident | JudicialCase) -> tuple[str | None, str | None]:
    """The incident's reference and mission; a case's mission is its first incident's."""
    if isinstance(subject, Incident):
        return subject.reference, subject.mission_code
    missions = sorted({incident.mission_code for incident in subject.incidents})
    return None, (missions[0] if missions else None)


def deliver_after_commit(db: Session) -> None:
    """Tell the worker to mail what is due at once, when the transaction commits."""
    if db.info.get("notifications_waiting"):
        return
    db.info["notifications_waiting"] = True

    def tell_the_worker(session: Session) -> None:
        session.info.pop("notifications_waiting", None)
        try:
            jobs.send(DELIVER_TASK)
        except Exception as error:  # the worker's minute round finds them anyway
            log.warning("could not queue the notification job: %s", type(error).__name__)

    sa.event.listen(db, "after_commit", tell_the_worker, once=True)


# The events -----------------------------------------------------------------------------------

STEP_KINDS = {
    "submit": "incident_submitted",
    "validate": "incident_validated",
    "return": "incident_returned",
}


@cache
def _incident_step_insert(kind: str) -> sa.Insert:
    """The statement of a workflow step's notifications, built once per kind."""
    audience = incident_audience(sa.bindparam("incident_id", type_=sa.Integer))
    if kind == "incident_submitted":
        # The mission's validators: its officers but the author and the submitter.
        told = sa.and_(
            audience,
            User.role == "mission",
            User.id != sa.func.coalesce(sa.bindparam("author", type_=sa.Integer), 0),
            User.id != sa.func.coalesce(sa.bindparam("submitter", type_=sa.Integer), 0),
        )
    elif kind == "incident_validated":
        told = sa.and_(audience, User.role == "member_state")
    else:
        told = sa.and_(audience, User.id == sa.bindparam("author", type_=sa.Integer))
    return _insert(told)


def on_incident_step(db: Session, *, incident: Incident, step: str, user: User) -> None:
    kind = STEP_KINDS[step]
    notify(
        db,
        kind,
        sa.true(),
        actor=user,
        subject=incident,
        statement=_incident_step_insert(kind),
        author=incident.created_by_id,
        submitter=incident.submitted_by_id,
    )


def on_stage_event(db: Session, *, event: StageEvent, user: User) -> None:
    audience = stage_event_audience(event)
    if event.review_status == "validated":
        told = sa.and_(audience, User.role == "member_state")
        notify(db, "stage_changed", told, actor=user, subject=event.case)
    elif event.review_status == "pending":
        told = sa.and_(audience, case_keepers(event.case))
        notify(db, "update_pending", told, actor=user, subject=event.case)


def on_update_reviewed(db: Session, *, event: StageEvent, user: User) -> None:
    audience = stage_event_audience(event)
    author = sa.and_(audience, User.id == event.entered_by_id)
    if event.review_status == "validated":
        notify(db, "update_validated", author, actor=user, subject=event.case)
        others = sa.and_(audience, User.role == "member_state", User.id != event.entered_by_id)
        notify(db, "stage_changed", others, actor=user, subject=event.case)
    elif event.review_status == "rejected":
        notify(db, "update_rejected", author, actor=user, subject=event.case)


def on_comment(db: Session, *, comment: Comment, user: User, answers: Comment | None) -> None:
    subject = _subject_of(db, comment)
    if subject is None:
        return
    audience = comment_audience(comment, subject)
    if answers is not None:
        told = sa.and_(audience, User.id == answers.author_id)
        notify(db, "clarification_answered", told, actor=user, subject=subject)
    elif comment.kind == "clarification_request":
        if user.role == "member_state":
            other_side = _keepers_of(subject)
        else:
            other_side = User.role == "member_state"
        told = sa.and_(audience, other_side)
        notify(db, "clarification_requested", told, actor=user, subject=subject)


def _subject_of(db: Session, comment: Comment) -> Incident | JudicialCase | None:
    if comment.incident_id is not None:
        return db.get(Incident, comment.incident_id)
    if comment.case_id is not None:
        return db.get(JudicialCase, comment.case_id)
    return None


def _keepers_of(subject: Incident | JudicialCase) -> Condition:
    """The mission officers who answer for the subject."""
    if isinstance(subject, JudicialCase):
        return case_keepers(subject)
    return sa.and_(incident_audience(subject.id), User.role == "mission")


def connect() -> None:
    """Listen to the incidents feature (connecting the same function again is a no-op)."""
    incident_step.connect(on_incident_step)
    stage_event_recorded.connect(on_stage_event)
    stage_update_reviewed.connect(on_update_reviewed)
    comment_posted.connect(on_comment)
