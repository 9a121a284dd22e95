"""The access rule for attachments: the attachment half of :mod:`incidents.policy`.

``incidents/policy.py`` is full; this module answers the same two questions for
attachments, built on its conditions and verbs, and nothing else decides them:

- **visibility**, as SQL conditions over ``Attachment``: an attachment is seen by whoever
  sees its record (incident, case or stage event, as :func:`incidents.policy.visible_incidents`
  and its siblings say); one marked as holding personal data only by those who may also
  see the identities of that record: for an incident its mission and admins (the names
  of every victim may be in it, and a victim's State sees only its own victims), for a
  case or one of its stage events the admins, the missions of its incidents and the
  prosecuting State (as :func:`incidents.policy.sees_defendant_identity`). A deleted
  attachment is seen only by those who keep its record, who may restore it.
- **capabilities**, one function per verb: attaching to a record, changing (a new file,
  the title, kind or personal-data mark), deleting and restoring an attachment.

Like the rest of the policy, an error inside denies.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Session, object_session

from auth.models import User
from capdb.db import MAX_ID
from incidents.attachments.models import Attachment
from incidents.models import Incident, JudicialCase, StageEvent, case_incidents
from incidents.policy import (
    keeps_case,
    keeps_record_of,
    may_report_progress,
    sees_defendant_identity,
    visible_cases,
    visible_incidents,
    visible_stage_events,
)
from incidents.policy_cases import denying as _denying
from incidents.visibility import Condition, _denying_condition

Subject = Incident | JudicialCase | StageEvent


# Visibility: SQL conditions over Attachment -------------------------------------------------


def _ids(column: Any, condition: Condition) -> sa.Select[Any]:
    return sa.select(column).where(condition).correlate(None)


def _on_subjects(incidents: Condition, cases: Condition, events: Condition) -> Condition:
    """Attachments on the incidents, cases and stage events meeting these conditions."""
    return sa.or_(
        Attachment.incident_id.in_(_ids(Incident.id, incidents)),
        Attachment.case_id.in_(_ids(JudicialCase.id, cases)),
        Attachment.stage_event_id.in_(_ids(StageEvent.id, events)),
    )


def _cases_of_missions(missions: list[str]) -> Condition:
    return JudicialCase.id.in_(
        sa.select(case_incidents.c.case_id)
        .join(Incident, Incident.id == case_incidents.c.incident_id)
        .where(Incident.mission_code.in_(missions))
        .correlate(None)
    )


def _identities_seen(user: User) -> Condition:
    """Attachments on records whose identities the user may see."""
    match user.role:
        case "admin":
            return sa.true()
        case "mission":
            missions = sorted(user.mission_codes)
            cases = _cases_of_missions(missions)
            return _on_subjects(
                Incident.mission_code.in_(missions),
                cases,
                StageEvent.case_id.in_(_ids(JudicialCase.id, cases)),
            )
        case "member_state" if user.state_code:
            prosecuted = JudicialCase.prosecuting_state_code == user.state_code
            return _on_subjects(
                sa.false(), prosecuted, StageEvent.case_id.in_(_ids(JudicialCase.id, prosecuted))
            )
    return sa.false()


@_denying_condition
def visible_attachments(user: User | None) -> Condition:
    """Undeleted attachments of the records the user sees; those holding personal data
    only where the user may see identities."""
    if user is None or not user.is_authenticated:
        return sa.false()
    return sa.and_(
        Attachment.deleted_at.is_(None),
        _on_subjects(visible_incidents(user), visible_cases(user), visible_stage_events(user)),
        sa.or_(Attachment.personal_data.is_(False), _identities_seen(user)),
    )


def _kept_subjects(user: User) -> Condition:
    """Attachments on the records the user keeps (as keeps_record_of and keeps_case)."""
    match user.role:
        case "admin":
            return _on_subjects(
                visible_incidents(user), visible_cases(user), visible_stage_events(user)
            )
        case "mission":
            missions = sorted(user.mission_codes)
            cases = sa.and_(JudicialCase.deleted_at.is_(None), _cases_of_missions(missions))
            return _on_subjects(
                sa.and_(Incident.deleted_at.is_(None), Incident.mission_code.in_(missions)),
                cases,
                sa.and_(
                    StageEvent.deleted_at.is_(None),
                    StageEvent.case_id.in_(_ids(JudicialCase.id, cases)),
                ),
            )
    return sa.false()


@_denying_condition
def deleted_attachments_kept(user: User | None) -> Condition:
    """Deleted attachments the user may still see, to restore them: those of the records
    the user keeps."""
    if user is None or not user.is_authenticated:
        return sa.false()
    return sa.and_(Attachment.deleted_at.is_not(None), _kept_subjects(user))


def attachments_of(subject: Subject) -> Condition:
    """Every attachment of the record, whoever asks (to be combined with a visibility)."""
    if isinstance(subject, Incident):
        return Attachment.incident_id == subject.id
    if isinstance(subject, JudicialCase):
        return Attachment.case_id == subject.id
    return Attachment.stage_event_id == subject.id


# Loading a named attachment or stage event: 404 when out of scope -----------------------------


def attachment_or_404(db: Session, user: User, attachment_id: int) -> Attachment:
    """The attachment if the user sees it (a deleted one if the user keeps its record);
    404 otherwise, as if it did not exist."""
    found = None
    if 0 < attachment_id <= MAX_ID:
        seen = sa.or_(visible_attachments(user), deleted_attachments_kept(user))
        found = db.scalar(sa.select(Attachment).where(Attachment.id == attachment_id, seen))
    if found is None:
        abort(404)
    return found


def stage_event_or_404(db: Session, user: User, event_id: int) -> StageEvent:
    """A stage event named by its id alone (the API's /stage-events/{id}); 404 unless seen."""
    found = None
    if 0 < event_id <= MAX_ID:
        found = db.scalar(
            sa.select(StageEvent).where(StageEvent.id == event_id, visible_stage_events(user))
        )
    if found is None:
        abort(404)
    return found


def subject_of(attachment: Attachment) -> Subject:
    """The record the attachment documents."""
    db = object_session(attachment)
    assert db is not None  # noqa: S101 (a loaded attachment has its session)
    if attachment.incident_id is not None:
        return db.get_one(Incident, attachment.incident_id)
    if attachment.case_id is not None:
        return db.get_one(JudicialCase, attachment.case_id)
    return db.get_one(StageEvent, attachment.stage_event_id)


# Capabilities ---------------------------------------------------------------------------------


@_denying
def sees_identities_in(user: User, subject: Subject) -> bool:
    """Whether the user may see what a personal-data attachment of the record holds."""
    if isinstance(subject, Incident):
        return user.role == "admin" or (
            user.role == "mission" and subject.mission_code in user.mission_codes
        )
    case = subject if isinstance(subject, JudicialCase) else subject.case
    return sees_defendant_identity(user, case)


@_denying
def keeps_subject(user: User, subject: Subject) -> bool:
    """The user keeps the record: its incident's mission or the case's, and admins."""
    if isinstance(subject, Incident):
        return keeps_record_of(user, subject)
    if isinstance(subject, StageEvent):
        return subject.deleted_at is None and keeps_case(user, subject.case)
    return keeps_case(user, subject)


@_denying
def may_attach(user: User, subject: Subject) -> bool:
    """Those who keep a record attach documents to it; a prosecuting State's focal points
    attach to its case and the case's stage events, as they report its progress."""
    if isinstance(subject, Incident):
        return keeps_record_of(user, subject)
    if isinstance(subject, StageEvent):
        return subject.deleted_at is None and may_report_progress(user, subject.case)
    return may_report_progress(user, subject)


@_denying
def may_view_attachment(user: User, attachment: Attachment) -> bool:
    """Whether the user may list and download the attachment: the lists' own condition."""
    db = object_session(attachment)
    if db is None:
        return False
    seen = sa.exists().where(Attachment.id == attachment.id, visible_attachments(user))
    return bool(db.scalar(sa.select(seen)))


@_denying
def may_change_attachment(user: User, attachment: Attachment) -> bool:
    """A new file, title, kind or personal-data mark: the record's keepers, and whoever
    uploaded the attachment while they may still attach to the record."""
    if attachment.deleted_at is not None:
        return False
    subject = subject_of(attachment)
    if keeps_subject(user, subject):
        return True
    return attachment.created_by_id == user.id and may_attach(user, subject)


@_denying
def may_delete_attachment(user: User, attachment: Attachment) -> bool:
    """Deleting is soft: the same users as changing it."""
    return may_change_attachment(user, attachment)


@_denying
def may_restore_attachment(user: User, attachment: Attachment) -> bool:
    """A deleted attachment is brought back by those who keep its record."""
    return attachment.deleted_at is not None and keeps_subject(user, subject_of(attachment))
