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
from incidents.models import Comment, Defendant, Incident, JudicialCase, StageEvent
from incidents.scope_models import CaseMission
from incidents.visibility import (
    Condition,
    _denying_condition,
    asked_of_each,
    event_case_is,
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
    """The cases the user keeps (:func:`incidents.policy.keeps_case`): those of its
    missions' incidents, deleted or not, as ``case_missions`` holds them."""
    kept = sa.select(JudicialCase.id).where(JudicialCase.deleted_at.is_(None))
    if user.role == "admin":
        return kept
    if user.role != "mission":
        return kept.where(sa.false())
    missions = sorted(user.mission_codes)
    return kept.where(
        JudicialCase.id.in_(
            sa.select(CaseMission.case_id).where(CaseMission.mission_code.in_(missions))
        )
    )


@_denying_condition
def updates_to_validate(user: User) -> Condition:
    """Pending progress updates the user may review (``may_validate_update``)."""
    return sa.and_(
        visible_stage_events(user),
        StageEvent.review_status == "pending",
        StageEvent.deleted_at.is_(None),  # as the partial index of what is pending says
        event_case_is(JudicialCase.id.in_(_kept_cases(user))),
    )


@_denying_condition
def cases_to_validate(user: User) -> Condition:
    """Cases waiting for the user's review (``may_validate_case``,
    ``may_validate_defendant``): opened by a Member State, or with a defendant it added,
    still pending, on a case the user keeps."""
    # One list of ids from the two partial indexes of what is pending, rather than an OR
    # that made PostgreSQL read every case.
    pending = sa.union(
        sa.select(JudicialCase.id).where(
            JudicialCase.review_status == "pending", JudicialCase.deleted_at.is_(None)
        ),
        sa.select(Defendant.case_id).where(
            Defendant.review_status == "pending", Defendant.deleted_at.is_(None)
        ),
    )
    return sa.and_(
        visible_cases(user), JudicialCase.id.in_(_kept_cases(user)), JudicialCase.id.in_(pending)
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

    def answer_on(same_subject: Condition) -> sa.Exists:
        return (
            sa.select(later.id)
            .join(answerer, answerer.id == later.author_id)
            .where(
                same_subject,
                later.id > Comment.id,
                later.deleted_at.is_(None),
                _side(answerer.role) == mine,
                sa.or_(
                    later.thread_state_code.is_(None),
                    Comment.thread_state_code.is_(None),
                    later.thread_state_code == Comment.thread_state_code,
                ),
                _reads(user, later),
            )
        ).exists()

    # One test per subject, each an index range: under one OR, PostgreSQL read every later
    # comment for each request (minutes with 7,000 requests, at a million incidents).
    answered = sa.or_(
        answer_on(later.incident_id == Comment.incident_id),
        answer_on(later.case_id == Comment.case_id),
    )
    # Per request, one probe of its incident or case (as an IN, PostgreSQL compared each
    # request with every incident its officer sees: 370,000 for MINUSMA at a million).
    subject_seen = sa.or_(
        asked_of_each(Comment, Incident.id == Comment.incident_id, visible_incidents(user)),
        asked_of_each(Comment, JudicialCase.id == Comment.case_id, visible_cases(user)),
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
    # A scalar subquery, asked of each case: as an anti-join PostgreSQL merged the cases
    # with every stage event (440,000 read at a million incidents for 101 cases).
    a_recent_one = (
        sa.select(StageEvent.id)
        .where(
            StageEvent.case_id == JudicialCase.id,
            StageEvent.review_status == "validated",
            StageEvent.deleted_at.is_(None),
            StageEvent.occurred_on >= changed_since,
        )
        .limit(1)
        .scalar_subquery()
    )
    return sa.and_(
        visible_cases(user),
        sa.or_(
            JudicialCase.current_stage.is_(None), JudicialCase.current_stage.not_in(ENDED_STAGES)
        ),
        JudicialCase.created_at < opened_before,
        a_recent_one.is_(None),
    )
