"""The documents of a case as its printed dossier lists them: what each is, which version
of which file, and the file's SHA-256, so that a printed dossier can be matched to the
files (``sha256sum`` on a download gives the same)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth.models import User
from capdb.i18n import current_locale
from capdb.vocabularies import ATTACHMENT_KIND
from incidents.attachments.models import Attachment
from incidents.attachments.policy import visible_attachments
from incidents.models import JudicialCase, StageEvent


@dataclass(frozen=True)
class DossierLine:
    title: str
    kind: str
    record: str
    filename: str
    version: int
    size: int
    sha256: str
    uploaded_at: datetime
    personal_data: bool


def case_documents(db: Session, user: User, case: JudicialCase) -> list[DossierLine]:
    """The documents the user may open on the case, its stage events and its incidents."""
    event_ids = sa.select(StageEvent.id).where(StageEvent.case_id == case.id)
    incident_ids = [incident.id for incident in case.incidents]
    found = db.scalars(
        sa.select(Attachment)
        .where(
            visible_attachments(user),
            sa.or_(
                Attachment.case_id == case.id,
                Attachment.stage_event_id.in_(event_ids),
                Attachment.incident_id.in_(incident_ids),
            ),
        )
        .order_by(Attachment.id)
    ).all()
    locale = current_locale()
    references = {incident.id: incident.reference for incident in case.incidents}
    lines = []
    for attachment in found:
        current = attachment.current
        lines.append(
            DossierLine(
                title=attachment.title,
                kind=ATTACHMENT_KIND.label(attachment.kind, locale),
                record=_record(attachment, references, db),
                filename=current.filename,
                version=current.number,
                size=current.size,
                sha256=current.sha256,
                uploaded_at=current.uploaded_at,
                personal_data=attachment.personal_data,
            )
        )
    return lines


def _record(attachment: Attachment, references: dict[int, str], db: Session) -> str:
    if attachment.incident_id is not None:
        return str(_("Incident %(reference)s", reference=references[attachment.incident_id]))
    if attachment.case_id is not None:
        return str(_("The case"))
    event = db.get_one(StageEvent, attachment.stage_event_id)
    return str(_("Stage event of %(date)s", date=event.occurred_on.isoformat()))
