"""Who may see a given record, as SQL conditions over users: the access rule read the
other way round, for telling people about a record (notifications).

:mod:`incidents.visibility` answers "which records does this user see"; these answer
"which users see this record", over the ``users`` table, so that the recipients of a
notification are found by one query and never filtered in Python. Both say the same
rule (see :mod:`incidents.policy`); ``tests/test_audience.py`` holds them to it, user by
user, for every role and kind of record. A condition that cannot be computed denies.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from auth.models import User, user_missions
from incidents.models import Comment, Incident, IncidentState, JudicialCase, StageEvent
from incidents.visibility import Condition, _denying_condition

IncidentId = int | sa.BindParameter[int]


def concerned_states(incident_id: IncidentId) -> sa.Select[str]:
    """The States an incident concerns, as kept in ``incident_states`` (see
    :func:`incidents.visibility.concerns`; the session's flush keeps them current)."""
    return sa.select(IncidentState.state).where(IncidentState.incident_id == incident_id)


def _of_missions(missions: sa.Select[str]) -> Condition:
    """Mission officers bound to one of these missions."""
    bound = (
        sa.select(user_missions.c.user_id)
        .where(user_missions.c.mission_code.in_(missions))
        .correlate(None)
    )
    return sa.and_(User.role == "mission", User.id.in_(bound))


@_denying_condition
def incident_audience(incident_id: IncidentId) -> Condition:
    """The active users who see the incident (as :func:`visible_incidents` would).

    The id may be a bound parameter, so that a statement built once serves every incident
    (SQLAlchemy then reuses its compiled form without walking it again).
    """
    live = sa.exists().where(Incident.id == incident_id, Incident.deleted_at.is_(None))
    validated = sa.exists().where(Incident.id == incident_id, Incident.status == "validated")
    mission = sa.select(Incident.mission_code).where(Incident.id == incident_id)
    return sa.and_(
        User.active,
        live,
        sa.or_(
            User.role == "admin",
            sa.and_(User.role == "analyst", validated),
            _of_missions(mission),
            sa.and_(
                User.role == "member_state",
                validated,
                User.state_code.in_(concerned_states(incident_id)),
            ),
        ),
    )


def _case_incidents(case: JudicialCase) -> list[int]:
    return [incident.id for incident in case.incidents]


def case_missions(case: JudicialCase) -> sa.Select[str]:
    return sa.select(Incident.mission_code).where(Incident.id.in_(_case_incidents(case)))


@_denying_condition
def case_audience(case: JudicialCase) -> Condition:
    """The active users who see the case (as :func:`visible_cases` would): those who report
    its progress (administrators, the officers who keep it, the prosecuting State) and,
    once it is validated, whoever sees one of its incidents."""
    if case.deleted_at is not None:
        return sa.false()
    prosecutes = sa.and_(
        User.active,
        User.role == "member_state",
        User.state_code == case.prosecuting_state_code,
    )
    reporting = sa.or_(sa.and_(User.active, User.role == "admin"), case_keepers(case), prosecutes)
    if case.review_status != "validated":
        return reporting
    through_incidents: Iterable[Condition] = (incident_audience(i) for i in _case_incidents(case))
    return sa.or_(reporting, *through_incidents)


@_denying_condition
def case_keepers(case: JudicialCase) -> Condition:
    """Mission officers who keep the case (:func:`incidents.policy.keeps_case`), as SQL."""
    if case.deleted_at is not None:
        return sa.false()
    return sa.and_(User.active, _of_missions(case_missions(case)))


@_denying_condition
def stage_event_audience(event: StageEvent) -> Condition:
    """The active users who see the stage event: the case's audience for a validated one;
    for a pending or rejected one, only those who keep the case or report its progress."""
    if event.deleted_at is not None:
        return sa.false()
    audience = case_audience(event.case)
    if event.review_status == "validated":
        return audience
    reporting = sa.or_(
        User.role == "admin",
        case_keepers(event.case),
        sa.and_(User.role == "member_state", User.state_code == event.case.prosecuting_state_code),
    )
    return sa.and_(audience, reporting)


@_denying_condition
def comment_audience(comment: Comment, subject: Incident | JudicialCase) -> Condition:
    """The active users who read the comment (as :func:`visible_comments` would) about a
    subject they see."""
    if comment.deleted_at is not None:
        return sa.false()
    if isinstance(subject, Incident):
        sees_subject = incident_audience(subject.id)
    else:
        sees_subject = case_audience(subject)
    thread = comment.thread_state_code
    states_reading = User.role == "member_state"
    if thread is not None:
        states_reading = sa.and_(states_reading, User.state_code == thread)
    return sa.and_(sees_subject, sa.or_(User.role.in_(("admin", "mission")), states_reading))
