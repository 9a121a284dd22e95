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
from incidents.jobs.models import Job
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


# What a user may learn of other users and of records out of sight ---------------------------
#
# Mail addresses are personal data: only the United Nations staff who run the system (mission
# officers, administrators) and the person themself see them. Everyone else sees a role and a
# State or mission. Clarification threads belong to the State that opened them and the
# mission; a focal point never reads another State's conversation.
#
# These imports stand here, not at the top, so that this section merges apart from the rest.

from flask_babel import gettext as _  # noqa: E402

from auth.models import AuditEvent  # noqa: E402
from capdb.i18n import current_locale  # noqa: E402
from capdb.vocabularies import ROLE  # noqa: E402
from incidents.models import Comment  # noqa: E402


def sees_address(user: User, other: User) -> bool:
    """Whether the user may see the other user's mail address."""
    return user.id == other.id or user.role in ("mission", "admin")


def person_label(user: User, other: User | None) -> str:
    """How another user is named to this user: the address where allowed, else role and State.

    For example "Focal point, Chad", "Mission MINUSMA", "HQ analyst".
    """
    if other is None:
        return ""
    if sees_address(user, other):
        return other.email
    match other.role:
        case "member_state":
            state = other.state.name(current_locale()) if other.state else ""
            return str(_("Focal point, %(state)s", state=state))
        case "mission":
            return str(_("Mission %(missions)s", missions=", ".join(sorted(other.mission_codes))))
    return ROLE.label(other.role, current_locale())


def visible_comments(user: User | None) -> Condition:
    """The SQL condition a comment must meet for the user to read it, within a subject the
    user already sees.

    A State's focal points read the threads their State opened (with what the mission
    answers in them) and what the mission addresses to every reader; the United Nations side
    (mission officers, administrators, HQ analysts, these read-only) reads every thread.
    """
    try:
        undeleted = Comment.deleted_at.is_(None)
        if user is None or not user.is_authenticated:
            return sa.false()
        if user.role in ("admin", "mission", "analyst"):
            return undeleted
        if user.role == "member_state" and user.state_code:
            return sa.and_(
                undeleted,
                sa.or_(
                    Comment.thread_state_code.is_(None),
                    Comment.thread_state_code == user.state_code,
                ),
            )
        return sa.false()
    except Exception:
        log.exception("comment rule failed; denying")
        return sa.false()


def sees_audit_entry(user: User, entry: AuditEvent, *, keeps_record: bool) -> bool:
    """Whether the user may see an audit entry about a record it may open.

    Everyone sees their own entries; admins see all; mission officers see the entries of the
    records they keep. Nobody else learns who else looked at or changed the record.
    """
    if entry.user_id is not None and entry.user_id == user.id:
        return True
    if user.role == "admin":
        return True
    return user.role == "mission" and keeps_record


def hidden_incidents_known(user: User | None) -> Condition:
    """The incidents out of the user's sight whose existence the user may still be told of,
    as a count ("and 2 other incidents outside your access"): validated, undeleted ones.
    Drafts and deleted incidents of others are never counted."""
    return sa.and_(
        Incident.deleted_at.is_(None),
        Incident.status == "validated",
        sa.not_(visible_incidents(user)),
    )


def incident_if_visible(db: Session, user: User, incident_id: int | None) -> Incident | None:
    """The incident of this id if the user may open it, else None: what points at an
    incident (a duplicate link, a change) names it only to those who may open it."""
    if incident_id is None:
        return None
    return db.scalar(sa.select(Incident).where(Incident.id == incident_id, visible_incidents(user)))


# Background jobs ----------------------------------------------------------------------------


def visible_jobs(user: User) -> Condition:
    """A job is seen by its owner, and by administrators; by nobody else."""
    if user.role == "admin":
        return sa.true()
    return Job.owner_id == user.id


def may_view_job(user: User, job: Job) -> bool:
    return user.role == "admin" or job.owner_id == user.id


def job_or_404(db: Session, user: User, job_id: int) -> Job:
    """The job if the user may see it; 404 otherwise, as if it did not exist."""
    job = db.get(Job, job_id)
    if job is None or not may_view_job(user, job):
        abort(404)
    return job
