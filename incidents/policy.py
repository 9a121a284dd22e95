"""The access rule: what each user may see, and what each user may do, in one place.

Pages, API, exports, maps, statistics, PDFs and the CLI all ask this module; nothing else
decides. It answers two kinds of question:

- **visibility**, as SQL conditions (:func:`visible_incidents`, :func:`visible_victims`,
  :func:`visible_cases`, :func:`visible_defendants`, :func:`visible_stage_events`,
  :func:`visible_assistance`), so that no list or figure counts a record its viewer could
  not open; the ``*_or_404`` loaders answer 404 for a record out of scope, as if it did
  not exist;
- **capabilities**, one small function per verb on one object (``may_edit(user,
  incident)``...), which callers turn into 403 on a record the user may see.

The rule (see the product spec, "Roles and the access rule"):

- admin: everything.
- analyst: validated incidents, and the cases and assistance records that go with them.
- mission: the incidents of the user's own missions, drafts included; keeps their record.
- member_state: validated incidents that concern the user's State (it hosts the mission,
  the incident happened there, or a victim is of its nationality or from its contingent),
  and the cases its State prosecutes; it opens cases on those incidents and adds their
  defendants and stages, pending until the mission validates them
  (:mod:`incidents.policy_cases`).

A case is seen by whoever sees one of its incidents, and by the State prosecuting it; a
case or defendant pending validation only by those who keep the case and that State.

An error inside the policy denies: a visibility condition becomes ``false()``, a verb
answers False; both are logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext as _
from sqlalchemy.orm import Session, object_session

from auth import audit
from auth.models import User
from capdb.db import MAX_ID
from capdb.i18n import current_locale
from capdb.reference import Mission, missions_among
from capdb.vocabularies import ROLE
from incidents.models import (
    CapacityAssistance,
    Comment,
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
    Victim,
)
from incidents.policy_cases import denying as _denying
from incidents.policy_cases import enters_pending as enters_pending
from incidents.policy_cases import keeps_case as keeps_case
from incidents.policy_cases import may_open_national_case as may_open_national_case
from incidents.policy_cases import may_validate_case as may_validate_case
from incidents.policy_cases import may_validate_defendant as may_validate_defendant
from incidents.policy_cases import prosecutes as prosecutes
from incidents.policy_saved import may_delete_view as may_delete_view
from incidents.policy_saved import may_share_views as may_share_views
from incidents.policy_saved import visible_saved_views as visible_saved_views
from incidents.visibility import CaseListing as CaseListing
from incidents.visibility import Condition as Condition
from incidents.visibility import case_listing as case_listing
from incidents.visibility import concerns as concerns
from incidents.visibility import hidden_incidents_known as hidden_incidents_known
from incidents.visibility import visible_assistance as visible_assistance
from incidents.visibility import visible_audit_entries as visible_audit_entries
from incidents.visibility import visible_cases as visible_cases
from incidents.visibility import visible_comments as visible_comments
from incidents.visibility import visible_defendants as visible_defendants
from incidents.visibility import visible_events as visible_events
from incidents.visibility import visible_incidents as visible_incidents
from incidents.visibility import visible_stage_events as visible_stage_events
from incidents.visibility import visible_victims as visible_victims

log = logging.getLogger(__name__)
# A verb on one incident, as views pass them around.
IncidentVerb = Callable[[User, Incident], bool]

UN_STAFF = ("mission", "admin")


def _signed_in(user: User | None) -> bool:
    return user is not None and user.is_authenticated


# Loading a named record: 404 when out of scope ----------------------------------------------


def _one_or_404(db: Session, model: Any, record_id: int, condition: Condition) -> Any:
    record = None
    if 0 < record_id <= MAX_ID:
        record = db.scalar(sa.select(model).where(model.id == record_id, condition))
    if record is None:
        abort(404)
    return record


def incident_or_404(db: Session, user: User, incident_id: int) -> Incident:
    """The incident if the user may see it; 404 otherwise. Member States' views are audited."""
    incident: Incident = _one_or_404(db, Incident, incident_id, visible_incidents(user))
    if user.role == "member_state":
        audit.record(db, "view", user=user, target=incident)
    return incident


def victim_or_404(db: Session, user: User, victim_id: int) -> Victim:
    """The victim if the user sees its incident; 404 otherwise (audited as the incident)."""
    victim: Victim = _one_or_404(db, Victim, victim_id, visible_victims(user))
    incident_or_404(db, user, victim.incident_id)
    return victim


def case_or_404(db: Session, user: User, case_id: int) -> JudicialCase:
    """The case if the user may see it; 404 otherwise. Member States' views are audited."""
    case: JudicialCase = _one_or_404(db, JudicialCase, case_id, visible_cases(user))
    if user.role == "member_state":
        audit.record(db, "view", user=user, target=case)
    return case


def defendant_or_404(db: Session, user: User, case: JudicialCase, defendant_id: int) -> Defendant:
    """The case's defendant if the user sees it; 404 when out of scope or of another case,
    whatever the user may do with it (asked afterwards, on the defendant)."""
    condition = sa.and_(visible_defendants(user), Defendant.case_id == case.id)
    defendant: Defendant = _one_or_404(db, Defendant, defendant_id, condition)
    return defendant


def stage_event_or_404(db: Session, user: User, case: JudicialCase, event_id: int) -> StageEvent:
    """The case's stage event if the user sees it; 404 when out of scope (a pending update
    of someone else's case) or of another case."""
    condition = sa.and_(visible_stage_events(user), StageEvent.case_id == case.id)
    event: StageEvent = _one_or_404(db, StageEvent, event_id, condition)
    return event


def assistance_or_404(db: Session, user: User, record_id: int) -> CapacityAssistance:
    record: CapacityAssistance = _one_or_404(
        db, CapacityAssistance, record_id, visible_assistance(user)
    )
    return record


# Capabilities: one function per verb on one object -------------------------------------------


_VISIBILITY: dict[type, Callable[[User | None], Condition]] = {
    Incident: visible_incidents,
    Victim: visible_victims,
    JudicialCase: visible_cases,
    Defendant: visible_defendants,
    StageEvent: visible_stage_events,
    CapacityAssistance: visible_assistance,
}


@_denying
def may_view(user: User, record: Any) -> bool:
    """Whether the user may open the record: the same SQL condition the lists use."""
    condition = _VISIBILITY[type(record)]
    db = object_session(record)
    if db is None:
        return False
    model = type(record)
    return bool(db.scalar(sa.select(sa.exists().where(model.id == record.id, condition(user)))))


@_denying
def keeps_record_of(user: User, incident: Incident) -> bool:
    """Admins, and mission officers of the incident's mission, keep its record (while it
    is not deleted: then only an admin may bring it back, see :func:`may_restore`)."""
    if incident.deleted_at is not None:
        return False
    return user.role == "admin" or (
        user.role == "mission" and incident.mission_code in user.mission_codes
    )


@_denying
def sees_deleted(user: User) -> bool:
    """Deleted records are out of everyone's scope but the admins' (who may restore them)."""
    return user.role == "admin"


# The missions a user records for, and those among which it looks ----------------------------


def missions_for(db: Session, user: User) -> list[Mission]:
    """The missions the user may record incidents and assistance for: an admin's are all
    of them, a mission officer's its own (whose records it keeps)."""
    return missions_among(db, missions_kept(user))


def missions_kept(user: User) -> frozenset[str] | None:
    """The missions whose records the user keeps (records incidents and assistance for):
    None for every mission (admins), an empty set for those who keep none."""
    try:
        if user.role == "admin":
            return None
        return user.mission_codes if user.role == "mission" else frozenset()
    except Exception:
        log.exception("access rule missions_kept failed; denying")
        return frozenset()


def missions_seen(user: User) -> frozenset[str] | None:
    """The missions whose incidents the user may find (the filter's choices): a mission
    officer's own, None for every mission for everyone else (the rule narrows further)."""
    try:
        return user.mission_codes if user.role == "mission" else None
    except Exception:
        log.exception("access rule missions_seen failed; denying")
        return frozenset()


@_denying
def sees_unvalidated(user: User) -> bool:
    """Whether the user sees incidents before their validation (drafts, submitted ones) and
    so may look for them by status: mission officers and admins."""
    return user.role in UN_STAFF


@_denying
def may_record_incidents(user: User) -> bool:
    """Mission officers and admins record incidents (and import them)."""
    return user.role in UN_STAFF


@_denying
def may_edit(user: User, incident: Incident) -> bool:
    """Admins edit any incident; mission officers the drafts (returned ones included) of
    their missions. A victim is edited through its incident."""
    if user.role == "admin":
        return keeps_record_of(user, incident)
    return keeps_record_of(user, incident) and incident.status == "draft"


@_denying
def may_edit_victim(user: User, victim: Victim) -> bool:
    return victim.deleted_at is None and may_edit(user, victim.incident)


@_denying
def may_submit(user: User, incident: Incident) -> bool:
    """The incident's mission (or an admin) submits a draft."""
    return incident.status == "draft" and keeps_record_of(user, incident)


@_denying
def may_validate(user: User, incident: Incident) -> bool:
    """The incident's mission validates a submitted incident, by another officer than its
    author or submitter (admins excepted)."""
    if incident.status != "submitted" or not keeps_record_of(user, incident):
        return False
    return user.role == "admin" or not is_author_or_submitter(user, incident)


def is_author_or_submitter(user: User, incident: Incident) -> bool:
    return user.id in {incident.created_by_id, incident.submitted_by_id}


@_denying
def may_return(user: User, incident: Incident) -> bool:
    """The incident's mission returns a submitted or validated incident to draft."""
    return incident.status in {"submitted", "validated"} and keeps_record_of(user, incident)


def _keeper(user: User, record: Any) -> bool:
    """Whether the user keeps the record: its incident's or its case's keeper."""
    if isinstance(record, Incident):
        return keeps_record_of(user, record)
    if isinstance(record, Victim):
        return keeps_record_of(user, record.incident)
    if isinstance(record, JudicialCase):
        return keeps_case(user, record)
    if isinstance(record, Defendant | StageEvent):
        return keeps_case(user, record.case)
    if isinstance(record, CapacityAssistance):
        return may_edit_assistance(user, record)
    return False


@_denying
def may_delete(user: User, record: Any) -> bool:
    """Those who keep a record delete it (soft deletion, which an admin can undo); a victim
    is removed as an edit of its incident, so only from what its keeper may edit."""
    if record.deleted_at is not None:
        return False
    if isinstance(record, Victim):
        return may_edit_victim(user, record)
    return _keeper(user, record)


@_denying
def may_see_history(user: User, record: Any) -> bool:
    """Those who keep a record see its versions and who changed it."""
    return _keeper(user, record)


@_denying
def may_restore(user: User, record: Any) -> bool:
    """Restoring an earlier version: those who keep the record. Bringing back a deleted
    record (undelete): admins only, since nobody else sees deleted records."""
    if record.deleted_at is not None:
        return sees_deleted(user)
    return _keeper(user, record)


@_denying
def may_open_case(user: User, incident: Incident) -> bool:
    """Mission officers of the incident's mission and admins open cases on it; so does a
    focal point of a State it concerns, for its State to prosecute (pending validation)."""
    return keeps_record_of(user, incident) or may_open_national_case(user, incident)


@_denying
def may_edit_case(user: User, case: JudicialCase) -> bool:
    """Those who keep the case edit it, link incidents to it and review its updates."""
    return keeps_case(user, case)


@_denying
def may_add_defendant(user: User, case: JudicialCase) -> bool:
    """Keepers add defendants; the prosecuting State too, pending validation."""
    return keeps_case(user, case) or prosecutes(user, case)


@_denying
def may_edit_defendant(user: User, defendant: Defendant) -> bool:
    return keeps_case(user, defendant.case)


@_denying
def may_report_progress(user: User, case: JudicialCase) -> bool:
    """Keepers record stage events that count at once; the prosecuting State's wait,
    pending, for a keeper to validate them."""
    return keeps_case(user, case) or prosecutes(user, case)


@_denying
def may_validate_update(user: User, event: StageEvent) -> bool:
    """A keeper of the case validates (or rejects) a pending update."""
    return event.review_status == "pending" and keeps_case(user, event.case)


@_denying
def may_comment(user: User, subject: Incident | JudicialCase) -> bool:
    """Member States and the United Nations side (missions, admins) comment on what they
    see; analysts read only."""
    return user.role in ("member_state", *UN_STAFF) and may_view(user, subject)


@_denying
def may_answer(user: User, request: Comment) -> bool:
    """Who answers a request for clarification: the other side of the conversation (a
    State's focal point answers the mission, the mission or an admin answers a State), in
    a thread the user reads, about a subject the user may comment on."""
    if request.kind != "clarification_request" or request.deleted_at is not None:
        return False
    asker = request.author
    if user.role == "member_state":
        other_side = asker.role in UN_STAFF
        reads_thread = request.thread_state_code in (None, user.state_code)
    else:
        other_side = asker.role == "member_state"
        reads_thread = user.role in UN_STAFF
    if not (other_side and reads_thread):
        return False
    db = object_session(request)
    if db is None:
        return False
    if request.incident_id is not None:
        subject: Incident | JudicialCase | None = db.get(Incident, request.incident_id)
    else:
        subject = db.get(JudicialCase, request.case_id)
    return subject is not None and may_comment(user, subject)


@_denying
def may_record_assistance(user: User) -> bool:
    return user.role in UN_STAFF


@_denying
def may_edit_assistance(user: User, record: CapacityAssistance) -> bool:
    """Admins, and mission officers of the mission that gave the assistance."""
    if record.deleted_at is not None:
        return False
    if user.role == "admin":
        return True
    return user.role == "mission" and record.mission_code in user.mission_codes


@_denying
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


@_denying
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


@_denying
def may_export(user: User, record: Incident | JudicialCase | None = None) -> bool:
    """Every signed-in user exports what it sees (lists filtered by :func:`visible_incidents`;
    a dossier of a record it may open)."""
    if not _signed_in(user):
        return False
    return record is None or may_view(user, record)


# What a user may learn of other users and of records out of sight ---------------------------
#
# Mail addresses are personal data: only the United Nations staff who run the system (mission
# officers, administrators) and the person themself see them. Everyone else sees a role and a
# State or mission. Clarification threads belong to the State that opened them and the
# mission; a focal point never reads another State's conversation.


@_denying
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


def incident_if_visible(db: Session, user: User, incident_id: int | None) -> Incident | None:
    """The incident of this id if the user may open it, else None: what points at an
    incident (a duplicate link, a change) names it only to those who may open it."""
    if incident_id is None:
        return None
    return db.scalar(sa.select(Incident).where(Incident.id == incident_id, visible_incidents(user)))
