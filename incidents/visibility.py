"""What each user may see, as SQL conditions: the visibility half of the access rule.

Re-exported by :mod:`incidents.policy`, which callers import; kept apart only so that each
module stays short. A condition that cannot be computed denies (``false()``), logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec

import sqlalchemy as sa

from auth.models import AuditEvent, User
from incidents.models import (
    CapacityAssistance,
    CaseMission,
    CaseState,
    Comment,
    Defendant,
    Incident,
    IncidentState,
    Job,
    JudicialCase,
    StageEvent,
    Victim,
    case_incidents,
)

log = logging.getLogger(__name__)

Condition = sa.ColumnElement[bool]
P = ParamSpec("P")


# Visibility: SQL conditions -----------------------------------------------------------------


def _denying_condition(rule: Callable[P, Condition]) -> Callable[P, Condition]:
    """A visibility condition that cannot be computed denies, never allows."""

    @wraps(rule)
    def safe(*args: P.args, **kwargs: P.kwargs) -> Condition:
        try:
            return rule(*args, **kwargs)
        except Exception:
            log.exception("access rule %s failed; denying", rule.__name__)
            return sa.false()

    return safe


def concerns(state: str) -> Condition:
    """Incidents that concern the State, as the spec defines it: read from
    ``incident_states``, which :mod:`incidents.concerned` keeps to that rule."""
    # Uncorrelated: never tied to a query that joins the table itself. PostgreSQL answers
    # it as a semi-join, probing the table's primary key (incident first) while it walks a
    # list in its order, or reading the State's index range for counts and aggregates.
    concerning = (
        sa.select(IncidentState.incident_id).where(IncidentState.state == state).correlate(None)
    )
    return Incident.id.in_(concerning)


@_denying_condition
def visible_incidents(user: User | None) -> Condition:
    """The SQL condition an incident must meet for the user to see it."""
    return sa.and_(Incident.deleted_at.is_(None), _incident_rule(user))


def _incident_rule(user: User | None) -> Condition:
    if user is None or not user.is_authenticated:
        return sa.false()
    validated = Incident.status == "validated"
    match user.role:
        case "admin":
            return sa.true()
        case "analyst":
            return validated
        case "mission":
            return Incident.mission_code.in_(sorted(user.mission_codes))
        case "member_state" if user.state_code:
            return sa.and_(validated, concerns(user.state_code))
    return sa.false()


@dataclass(frozen=True)
class IncidentListing:
    """The incidents a user sees, as a list builds them: ``condition`` over ``Incident``;
    for a Member State's focal point, also ``state``, whose rows of ``incident_states`` the
    list joins in place of :func:`concerns` (which ``condition`` then leaves out), so that
    it can page through them in their index's date order; for an officer of several
    missions, their ``missions``, whose ranges of the incidents' index a page reads one
    each."""

    condition: Condition
    state: str | None = None
    missions: tuple[str, ...] = ()


def incident_listing(user: User | None) -> IncidentListing:
    """:func:`visible_incidents` for a list (:func:`incidents.filters.listed_incidents`)."""
    try:
        if (
            user is not None
            and user.is_authenticated
            and user.role == "member_state"
            and user.state_code
        ):
            validated = sa.and_(Incident.deleted_at.is_(None), Incident.status == "validated")
            return IncidentListing(validated, user.state_code)
        if user is not None and user.is_authenticated and user.role == "mission":
            missions = tuple(sorted(user.mission_codes))
            return IncidentListing(visible_incidents(user), missions=missions)
    except Exception:
        log.exception("access rule incident_listing failed; denying")
        return IncidentListing(sa.false())
    return IncidentListing(visible_incidents(user))


@_denying_condition
def visible_victims(user: User | None) -> Condition:
    """Victims (undeleted) of the incidents the user sees."""
    seen = sa.select(Incident.id).where(visible_incidents(user)).correlate(None)
    return sa.and_(Victim.deleted_at.is_(None), Victim.incident_id.in_(seen))


@_denying_condition
def visible_cases(user: User | None) -> Condition:
    """The SQL condition a judicial case must meet for the user to see it. A case a Member
    State opened is seen, until validated, by those who keep it and the prosecuting State
    only (and a rejected one stays with them)."""
    return sa.and_(JudicialCase.deleted_at.is_(None), _case_rule(user))


def _case_rule(user: User | None) -> Condition:
    if user is None or not user.is_authenticated:
        return sa.false()
    validated = JudicialCase.review_status == "validated"
    match user.role:
        case "admin":
            return sa.true()
        case "mission":
            # Officers keep the cases of their missions' incidents, reviewed or not (so
            # see them): the rows :mod:`incidents.concerned` keeps, one index range per
            # mission in list order.
            return JudicialCase.id.in_(_cases_of_missions(user))
        case "member_state":
            # Prosecuted by the State, reviewed or not; or reviewed and linked to an
            # incident its focal points see. Both are rows :mod:`incidents.concerned`
            # keeps, in the order of a list of cases.
            seen = sa.select(CaseState.case_id).where(CaseState.state == user.state_code)
            prosecuted = JudicialCase.prosecuting_state_code == user.state_code
            return sa.and_(JudicialCase.id.in_(seen.correlate(None)), sa.or_(validated, prosecuted))
    through_incident = (
        sa.exists()
        .where(case_incidents.c.case_id == JudicialCase.id)
        .where(case_incidents.c.incident_id == Incident.id)
        .where(visible_incidents(user))
        .correlate(JudicialCase)
    )
    return sa.and_(validated, through_incident)


def _cases_of_missions(user: User) -> sa.Select[int]:
    missions = sorted(user.mission_codes)
    return (
        sa.select(CaseMission.case_id).where(CaseMission.mission_code.in_(missions)).correlate(None)
    )


@dataclass(frozen=True)
class CaseListing:
    """The cases a user sees, as a list builds them: ``condition`` over ``JudicialCase``;
    for a focal point or an officer, also the rows of ``case_states`` or ``case_missions``
    that hold them (``rows``, whose ``key`` is one of ``values``: the State, the missions),
    which the list reads in its index's order in place of the membership ``condition``
    then leaves out (:func:`incidents.api.access.newest_cases`)."""

    condition: Condition
    rows: type[CaseState] | type[CaseMission] | None = None
    key: str = ""
    values: tuple[str, ...] = ()


def case_listing(user: User | None) -> CaseListing:
    """:func:`visible_cases` for a list."""
    try:
        if user is not None and user.is_authenticated and user.role == "member_state":
            if not user.state_code:
                return CaseListing(sa.false())
            state = user.state_code
            validated = JudicialCase.review_status == "validated"
            prosecuted = JudicialCase.prosecuting_state_code == state
            condition = sa.and_(JudicialCase.deleted_at.is_(None), sa.or_(validated, prosecuted))
            return CaseListing(condition, CaseState, "state", (state,))
        if user is not None and user.is_authenticated and user.role == "mission":
            missions = tuple(sorted(user.mission_codes))
            if not missions:
                return CaseListing(sa.false())
            undeleted = JudicialCase.deleted_at.is_(None)
            return CaseListing(undeleted, CaseMission, "mission_code", missions)
    except Exception:
        log.exception("access rule case_listing failed; denying")
        return CaseListing(sa.false())
    return CaseListing(visible_cases(user))


@_denying_condition
def visible_defendants(user: User | None) -> Condition:
    """Defendants (undeleted) of the cases the user sees; pending and rejected ones only
    for those who keep the case or report its progress."""
    seen = sa.select(JudicialCase.id).where(visible_cases(user)).correlate(None)
    reporting = sa.select(JudicialCase.id).where(_reporting_cases(user)).correlate(None)
    return sa.and_(
        Defendant.deleted_at.is_(None),
        Defendant.case_id.in_(seen),
        sa.or_(Defendant.review_status == "validated", Defendant.case_id.in_(reporting)),
    )


def _reporting_cases(user: User | None) -> Condition:
    """Cases whose progress the user reports (keeps them, or its State prosecutes them);
    as :func:`may_report_progress`, in SQL over ``JudicialCase``."""
    if user is None or not user.is_authenticated:
        return sa.false()
    match user.role:
        case "admin":
            return sa.true()
        case "mission":
            # Every incident of the case counts, deleted or not, as in keeps_case.
            return JudicialCase.id.in_(_cases_of_missions(user))
        case "member_state" if user.state_code:
            return JudicialCase.prosecuting_state_code == user.state_code
    return sa.false()


@_denying_condition
def visible_stage_events(user: User | None) -> Condition:
    """Undeleted stage events of the cases the user sees; pending and rejected ones only
    for those who keep the case or report its progress."""
    return sa.and_(
        StageEvent.deleted_at.is_(None),
        event_case_is(visible_cases(user)),
        sa.or_(StageEvent.review_status == "validated", event_case_is(_reporting_cases(user))),
    )


def event_case_is(condition: Condition) -> Condition:
    """Whether a stage event's case meets ``condition``, asked of each event
    (:func:`asked_of_each`): the events a query reads are few (a case's, those pending),
    while hashing every case a user sees read 80,000 of an officer's at a million
    incidents."""
    return asked_of_each(StageEvent, JudicialCase.id == StageEvent.case_id, condition)


def asked_of_each(row: type, *conditions: Condition) -> Condition:
    """Whether ``conditions`` hold for a row of ``row`` (correlated), asked of each row by
    a scalar subquery, which PostgreSQL cannot turn into a join or a hash: for the few rows
    a query reads, tested against a table of which a user may see most (its cases or
    incidents), where the planner, expecting more rows, hashed the whole table."""
    return sa.select(sa.true()).where(*conditions).correlate(row).scalar_subquery()


def visible_events(user: User, case: JudicialCase) -> sa.Select[StageEvent]:
    """The case's events this user sees, in the order they happened."""
    return (
        sa.select(StageEvent)
        .where(StageEvent.case_id == case.id, visible_stage_events(user))
        .order_by(StageEvent.occurred_on, StageEvent.id)
    )


@_denying_condition
def visible_assistance(user: User | None) -> Condition:
    """Assistance records: all for admins and analysts, their missions' for mission
    officers, those their State received for Member States."""
    rule: Condition = sa.false()
    if user is not None and user.is_authenticated:
        if user.role in ("admin", "analyst"):
            rule = sa.true()
        elif user.role == "mission":
            rule = CapacityAssistance.mission_code.in_(sorted(user.mission_codes))
        elif user.role == "member_state" and user.state_code:
            rule = CapacityAssistance.recipient_state_code == user.state_code
    return sa.and_(CapacityAssistance.deleted_at.is_(None), rule)


@_denying_condition
def visible_comments(user: User | None) -> Condition:
    """The SQL condition a comment must meet for the user to read it, within a subject the
    user already sees.

    Clarification threads belong to the State that opened them and the mission: a State's
    focal points read their State's threads (with what the mission answers in them) and
    what the mission addresses to every reader; mission officers and administrators read
    every thread. HQ analysts, who take part in no conversation, read none.
    """
    if user is None or not user.is_authenticated:
        return sa.false()
    undeleted = Comment.deleted_at.is_(None)
    if user.role in ("admin", "mission"):
        return undeleted
    if user.role == "member_state" and user.state_code:
        in_thread = sa.or_(
            Comment.thread_state_code.is_(None), Comment.thread_state_code == user.state_code
        )
        return sa.and_(undeleted, in_thread)
    return sa.false()


@_denying_condition
def hidden_incidents_known(user: User | None) -> Condition:
    """The incidents out of the user's sight whose existence the user may still be told of,
    as a count ("and 2 other incidents outside your access"): validated, undeleted ones.
    Drafts and deleted incidents of others are never counted."""
    known = sa.and_(Incident.deleted_at.is_(None), Incident.status == "validated")
    if user is not None and user.is_authenticated and user.role == "member_state":
        # A validated, undeleted incident is hidden from a focal point when it does not
        # concern the State. Asked per incident (an anti-join probing the key), not as
        # the negation of :func:`concerns`, which PostgreSQL answers by hashing every
        # incident concerning the State (a host State's grow with the data).
        concerning = sa.exists().where(
            IncidentState.incident_id == Incident.id, IncidentState.state == user.state_code
        )
        return sa.and_(known, ~concerning)
    return sa.and_(known, sa.not_(visible_incidents(user)))


@_denying_condition
def visible_audit_entries(user: User | None, *, keeps_record: bool) -> Condition:
    """The audit entries about a record the user may open that the user may read, as a SQL
    condition over ``AuditEvent`` (the caller names the record).

    Everyone reads their own entries; admins all; mission officers those of the records
    they keep (``keeps_record``). Nobody else learns who else looked at or changed it.
    """
    if user is None or not user.is_authenticated:
        return sa.false()
    if user.role == "admin" or (user.role == "mission" and keeps_record):
        return sa.true()
    return AuditEvent.user_id == user.id


def visible_jobs(user: User | None) -> Condition:
    """A background job is seen by its owner, and by administrators; by nobody else."""
    if user is None or not user.is_authenticated:
        return sa.false()
    if user.role == "admin":
        return sa.true()
    return Job.owner_id == user.id


def may_view_job(user: User, job: Job) -> bool:
    """The same rule for a job in hand (the policy module is full; the rule lives here)."""
    return user.is_authenticated and (user.role == "admin" or job.owner_id == user.id)
