"""The access rule: which incidents and cases a user may see, and whose personal data.

One rule, one place. Every list, page, map, chart, statistic, export and API response
filters with :func:`visible_incidents` or :func:`visible_cases`, so that no figure ever
counts a record its viewer could not open. A record outside the viewer's scope is
answered with 404, as if it did not exist.

- admin: everything.
- analyst: validated incidents.
- mission: the incidents of the user's own missions, drafts included.
- member_state: validated incidents that concern the user's State (it hosts the mission,
  the incident happened there, or a victim is of its nationality or from its contingent).

A case is seen by whoever sees one of its incidents, and by the State prosecuting it.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.reference import mission_hosts
from incidents.models import Incident, JudicialCase, Victim, case_incidents

log = logging.getLogger(__name__)

Condition = sa.ColumnElement[bool]


def concerns(state: str) -> Condition:
    """Incidents that concern the State, as the spec defines it."""
    # Uncorrelated subqueries: PostgreSQL runs each once per query and probes its result per
    # incident (a hashed subplan, while the set fits in work_mem), rather than once per
    # incident; and never correlated to a query that joins victims or hosts itself, which
    # keeps its own rows apart from these.
    missions_hosted = (
        sa.select(mission_hosts.c.mission_code)
        .where(mission_hosts.c.country_code == state)
        .correlate(None)
    )
    incidents_with_victims_of_state = (
        sa.select(Victim.incident_id)
        .where(Victim.deleted_at.is_(None))
        .where(sa.or_(Victim.nationality_code == state, Victim.contributing_country_code == state))
        .correlate(None)
    )
    return sa.or_(
        Incident.country_code == state,
        Incident.mission_code.in_(missions_hosted),
        Incident.id.in_(incidents_with_victims_of_state),
    )


def visible_incidents(user: User | None) -> Condition:
    """The SQL condition an incident must meet for the user to see it."""
    try:
        return sa.and_(Incident.deleted_at.is_(None), _incident_rule(user))
    except Exception:
        # A policy that cannot be computed must deny, never allow.
        log.exception("access rule failed; denying")
        return sa.false()


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


def visible_cases(user: User | None) -> Condition:
    """The SQL condition a judicial case must meet for the user to see it."""
    through_incident = (
        sa.exists()
        .where(case_incidents.c.case_id == JudicialCase.id)
        .where(case_incidents.c.incident_id == Incident.id)
        .where(visible_incidents(user))
        .correlate(JudicialCase)
    )
    rule: Condition = through_incident
    if user is not None and user.is_authenticated and user.role == "member_state":
        rule = sa.or_(rule, JudicialCase.prosecuting_state_code == user.state_code)
    return sa.and_(JudicialCase.deleted_at.is_(None), rule)


def incident_or_404(db: Session, user: User, incident_id: int) -> Incident:
    """The incident if the user may see it; 404 otherwise. Member States' views are audited."""
    incident = db.scalar(
        sa.select(Incident).where(Incident.id == incident_id, visible_incidents(user))
    )
    if incident is None:
        abort(404)
    if user.role == "member_state":
        audit.record(db, "view", user=user, target=incident)
    return incident


def case_or_404(db: Session, user: User, case_id: int) -> JudicialCase:
    """The case if the user may see it; 404 otherwise. Member States' views are audited."""
    case = db.scalar(sa.select(JudicialCase).where(JudicialCase.id == case_id, visible_cases(user)))
    if case is None:
        abort(404)
    if user.role == "member_state":
        audit.record(db, "view", user=user, target=case)
    return case


def sees_victim_identity(user: User, victim: Victim) -> bool:
    """Whether the user may see the victim's name and identifiers.

    Only the incident's mission, admins, and the victim's own State (nationality or
    contributing country) may; everyone else sees the category and counts.
    """
    match user.role:
        case "admin":
            return True
        case "mission":
            return victim.incident.mission_code in user.mission_codes
        case "member_state":
            return user.state_code in (victim.nationality_code, victim.contributing_country_code)
    return False


def sees_defendant_identity(user: User, case: JudicialCase) -> bool:
    """Whether the user may see who the case's defendants are.

    Admins, the missions of the case's incidents and the prosecuting State may.
    """
    match user.role:
        case "admin":
            return True
        case "mission":
            return any(i.mission_code in user.mission_codes for i in case.incidents)
        case "member_state":
            return user.state_code == case.prosecuting_state_code
    return False
