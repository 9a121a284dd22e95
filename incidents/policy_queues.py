"""What waits for a user, as SQL conditions: the work queues of the home page.

Each condition is a verb of :mod:`incidents.policy` over a whole table (what the user
may validate, answer, act on) within what :mod:`incidents.visibility` lets it see, so
that each queue is one scoped query. ``tests/test_queues.py`` holds each to its verb.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, aliased

from auth.models import User
from incidents.models import (
    Comment,
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
    case_incidents,
)
from incidents.visibility import (
    Condition,
    _denying_condition,
    visible_cases,
    visible_comments,
    visible_incidents,
    visible_stage_events,
)

# A case at one of these stages has ended; it is never stalled.
ENDED_STAGES = ("final", "closed_without_action", "transferred")
UN_ROLES = ("mission", "admin")


def _not_by(column: InstrumentedAttribute[int | None], user: User) -> Condition:
    return sa.or_(column.is_(None), column != user.id)


@_denying_condition
def incidents_to_validate(user: User) -> Condition:
    """Submitted incidents the user may validate (:func:`incidents.policy.may_validate`)."""
    if user.role not in UN_ROLES:
        return sa.false()
    rule = sa.and_(visible_incidents(user), Incident.status == "submitted")
    if user.role == "admin":
        return rule
    return sa.and_(
        rule, _not_by(Incident.created_by_id, user), _not_by(Incident.submitted_by_id, user)
    )


def _kept_cases(user: User) -> sa.Select[int]:
    """The cases the user keeps (:func:`incidents.policy.keeps_case`)."""
    kept = sa.select(JudicialCase.id).where(JudicialCase.deleted_at.is_(None))
    if user.role == "admin":
        return kept
    if user.role != "mission":
        return kept.where(sa.false())
    return kept.where(
        JudicialCase.id.in_(
            sa.select(case_incidents.c.case_id)
            .join(Incident, Incident.id == case_incidents.c.incident_id)
            .where(Incident.mission_code.in_(sorted(user.mission_codes)))
        )
    )


@_denying_condition
def updates_to_validate(user: User) -> Condition:
    """Pending progress updates the user may review (``may_validate_update``)."""
    return sa.and_(
        visible_stage_events(user),
        StageEvent.review_status == "pending",
        StageEvent.case_id.in_(_kept_cases(user)),
    )


@_denying_condition
def cases_to_validate(user: User) -> Condition:
    """Cases waiting for the user's review (``may_validate_case``,
    ``may_validate_defendant``): opened by a Member State, or with a defendant it added,
    still pending, on a case the user keeps."""
    pending_defendants = sa.select(Defendant.case_id).where(
        Defendant.review_status == "pending", Defendant.deleted_at.is_(None)
    )
    return sa.and_(
        visible_cases(user),
        JudicialCase.id.in_(_kept_cases(user)),
        sa.or_(JudicialCase.review_status == "pending", JudicialCase.id.in_(pending_defendants)),
    )


@_denying_condition
def returned_incidents(user: User) -> Condition:
    """The user's own incidents returned to draft, with the reason to act on."""
    return sa.and_(
        visible_incidents(user),
        Incident.status == "draft",
        Incident.return_reason.is_not(None),
        Incident.created_by_id == user.id,
    )


def _side(role: InstrumentedAttribute[str]) -> sa.ColumnElement[str]:
    return sa.case((role == "member_state", "state"), else_="un")


@_denying_condition
def requests_awaiting_answer(user: User) -> Condition:
    """Open requests for clarification from the other side that the user may answer, as
    :mod:`incidents.comments.threads` tells them answered: by a later comment of the
    user's side in the same thread, on the same subject, that the user reads."""
    if user.role not in ("member_state", *UN_ROLES):
        return sa.false()
    mine = "state" if user.role == "member_state" else "un"
    asker, later, answerer = aliased(User), aliased(Comment), aliased(User)
    asked_by_other_side = (
        sa.select(asker.id).where(_side(asker.role) != mine, asker.id == Comment.author_id)
    ).exists()
    answered = (
        sa.select(later.id)
        .join(answerer, answerer.id == later.author_id)
        .where(
            later.id > Comment.id,
            later.deleted_at.is_(None),
            sa.or_(
                sa.and_(later.incident_id == Comment.incident_id),
                sa.and_(later.case_id == Comment.case_id),
            ),
            _side(answerer.role) == mine,
            sa.or_(
                later.thread_state_code.is_(None),
                Comment.thread_state_code.is_(None),
                later.thread_state_code == Comment.thread_state_code,
            ),
            _reads(user, later),
        )
    ).exists()
    subject_seen = sa.or_(
        Comment.incident_id.in_(sa.select(Incident.id).where(visible_incidents(user))),
        Comment.case_id.in_(sa.select(JudicialCase.id).where(visible_cases(user))),
    )
    return sa.and_(
        visible_comments(user),
        Comment.kind == "clarification_request",
        asked_by_other_side,
        subject_seen,
        sa.not_(answered),
    )


def _reads(user: User, comment: type[Comment]) -> Condition:
    """:func:`visible_comments` over an alias of the comments."""
    if user.role == "member_state":
        return sa.or_(
            comment.thread_state_code.is_(None), comment.thread_state_code == user.state_code
        )
    return sa.true()


@_denying_condition
def stalled_cases(user: User, *, changed_since: date, opened_before: datetime) -> Condition:
    """Cases the user sees, not ended, with no counting stage event dated since
    ``changed_since`` and opened before ``opened_before``."""
    recent = (
        sa.select(StageEvent.id)
        .where(
            StageEvent.case_id == JudicialCase.id,
            StageEvent.review_status == "validated",
            StageEvent.deleted_at.is_(None),
            StageEvent.occurred_on >= changed_since,
        )
        .exists()
    )
    return sa.and_(
        visible_cases(user),
        sa.or_(
            JudicialCase.current_stage.is_(None), JudicialCase.current_stage.not_in(ENDED_STAGES)
        ),
        JudicialCase.created_at < opened_before,
        sa.not_(recent),
    )
