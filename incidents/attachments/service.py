"""What users do with attachments: attach, replace the file, change the details, delete,
restore, download. Each asks the policy first, flushes, and writes the audit trail; the
request commits.

A new file's words are extracted by a job (:mod:`incidents.attachments.text`), sent once
the transaction that recorded the file has committed.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from auth import audit
from auth.models import User
from capdb import jobs
from capdb.clock import now
from capdb.vocabularies import ATTACHMENT_KIND
from incidents.attachments import policy
from incidents.attachments.intake import Staged
from incidents.attachments.models import Attachment, AttachmentFile
from incidents.attachments.policy import Subject
from incidents.attachments.storage import storage
from incidents.errors import InputError, NotAllowedError, StaleEditError
from incidents.models import Incident, JudicialCase

TEXT_TASK = "capdb.attachment_text"
MAX_TITLE = 200


@dataclass(frozen=True)
class Details:
    """What the user says of a document: its title, kind and whether it holds personal data."""

    title: str
    kind: str
    personal_data: bool


def check_details(details: Details) -> None:
    problems = {}
    if not details.title.strip():
        problems["title"] = _("Give the document a title.")
    elif len(details.title) > MAX_TITLE:
        problems["title"] = _("Use at most %(count)d characters.", count=MAX_TITLE)
    elif any(ord(c) < 32 or ord(c) == 127 for c in details.title):
        problems["title"] = _("Control characters are not allowed.")
    if details.kind not in ATTACHMENT_KIND:
        problems["kind"] = _("Choose one of the kinds listed.")
    if problems:
        raise InputError(problems)


def _subject_columns(subject: Subject) -> dict[str, int]:
    if isinstance(subject, Incident):
        return {"incident_id": subject.id}
    if isinstance(subject, JudicialCase):
        return {"case_id": subject.id}
    return {"stage_event_id": subject.id}


def _keep(db: Session, staged: Staged, attachment: Attachment, user: User) -> AttachmentFile:
    """Put the staged file in storage and record it as the attachment's next version."""
    storage().put(staged.sha256, staged.path)
    number = attachment.files[-1].number + 1 if attachment.files else 1
    kept = AttachmentFile(
        attachment=attachment,
        number=number,
        sha256=staged.sha256,
        size=staged.size,
        media_type=staged.media_type,
        filename=staged.filename,
        metadata_kept=staged.metadata_kept,
        uploaded_by_id=user.id,
        uploaded_at=now(),
        text_state="pending",
    )
    db.add(kept)
    return kept


def _extract_after_commit(db: Session, file: AttachmentFile) -> None:
    file_id = file.id

    def send(_session: Session) -> None:
        jobs.send(TEXT_TASK, file_id)

    sa.event.listen(db, "after_commit", send, once=True)


def _flush(db: Session) -> None:
    try:
        db.flush()
    except StaleDataError as error:
        raise StaleEditError from error


def attach(
    db: Session, user: User, subject: Subject, staged: Staged, details: Details
) -> Attachment:
    """A new attachment on the record, its staged file as version 1."""
    try:
        if not policy.may_attach(user, subject):
            raise NotAllowedError(_("You may not attach documents to this record."))
        check_details(details)
    except BaseException:
        staged.discard()
        raise
    attachment = Attachment(
        **_subject_columns(subject),
        title=details.title.strip(),
        kind=details.kind,
        personal_data=details.personal_data,
        created_by_id=user.id,
    )
    db.add(attachment)
    kept = _keep(db, staged, attachment, user)
    db.flush()
    audit.record(
        db,
        "create",
        user=user,
        target=attachment,
        detail={**_subject_columns(subject), "file": 1, "sha256": kept.sha256},
    )
    _extract_after_commit(db, kept)
    return attachment


def replace(
    db: Session, user: User, attachment: Attachment, staged: Staged, *, revision: int
) -> AttachmentFile:
    """A new version of the attachment's file; the earlier ones stay downloadable."""
    try:
        if not policy.may_change_attachment(user, attachment):
            raise NotAllowedError(_("You may not replace this document."))
        if revision != attachment.revision:
            raise StaleEditError
    except BaseException:
        staged.discard()
        raise
    kept = _keep(db, staged, attachment, user)
    # A new file is a change of the attachment: its revision rises, checked against others.
    attachment.updated_at = now()
    _flush(db)
    audit.record(
        db,
        "update",
        user=user,
        target=attachment,
        detail={"file": kept.number, "sha256": kept.sha256},
    )
    _extract_after_commit(db, kept)
    return kept


def change_details(
    db: Session, user: User, attachment: Attachment, details: Details, *, revision: int
) -> None:
    if not policy.may_change_attachment(user, attachment):
        raise NotAllowedError(_("You may not change this document."))
    if revision != attachment.revision:
        raise StaleEditError
    check_details(details)
    wanted = {"title": details.title.strip(), "kind": details.kind}
    wanted["personal_data"] = details.personal_data  # type: ignore[assignment]
    changed = sorted(name for name, value in wanted.items() if getattr(attachment, name) != value)
    for name in changed:
        setattr(attachment, name, wanted[name])
    _flush(db)
    audit.record(db, "update", user=user, target=attachment, detail={"fields": changed})


def delete(db: Session, user: User, attachment: Attachment, *, revision: int) -> None:
    """Soft deletion: the attachment leaves the lists; its record's keepers may restore it."""
    if not policy.may_delete_attachment(user, attachment):
        raise NotAllowedError(_("You may not delete this document."))
    if revision != attachment.revision:
        raise StaleEditError
    attachment.deleted_at, attachment.deleted_by_id = now(), user.id
    _flush(db)
    audit.record(db, "delete", user=user, target=attachment)


def restore(db: Session, user: User, attachment: Attachment) -> None:
    if not policy.may_restore_attachment(user, attachment):
        raise NotAllowedError(_("Only those who keep the record restore its documents."))
    attachment.deleted_at = attachment.deleted_by_id = None
    _flush(db)
    audit.record(db, "restore", user=user, target=attachment, detail={"undeleted": True})


def file_to_download(
    db: Session, user: User, attachment: Attachment, number: int | None = None
) -> AttachmentFile | None:
    """The version asked for (the newest by default), its download written to the audit
    trail; None if the attachment has no such version."""
    if number is None:
        chosen: AttachmentFile | None = attachment.current
    else:
        chosen = next((f for f in attachment.files if f.number == number), None)
    if chosen is not None:
        audit.record(
            db,
            "export",
            user=user,
            target=attachment,
            detail={"file": chosen.number, "sha256": chosen.sha256},
        )
    return chosen


def listed(db: Session, user: User, subject: Subject) -> list[Attachment]:
    """The record's attachments the user sees, oldest first."""
    return list(
        db.scalars(
            sa.select(Attachment)
            .where(policy.attachments_of(subject), policy.visible_attachments(user))
            .order_by(Attachment.id)
        )
    )


def deleted(db: Session, user: User, subject: Subject) -> list[Attachment]:
    """The record's deleted attachments, for those who keep it (to restore them)."""
    return list(
        db.scalars(
            sa.select(Attachment)
            .where(policy.attachments_of(subject), policy.deleted_attachments_kept(user))
            .order_by(Attachment.id)
        )
    )
