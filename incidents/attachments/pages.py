"""What the attachment pages show and read: the records' names and links, the list of a
record's documents, and the fields of the forms (checked again by the service)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage

from auth.models import User
from capdb.config import current_config
from capdb.db import MAX_ID
from capdb.i18n import current_locale
from capdb.vocabularies import ATTACHMENT_KIND
from incidents.attachments import policy, service
from incidents.attachments.models import Attachment
from incidents.attachments.policy import Subject
from incidents.attachments.service import Details
from incidents.errors import InputError
from incidents.models import Incident, JudicialCase

TRUE = {"1", "on", "true", "yes"}


def subject_title(subject: Subject) -> str:
    if isinstance(subject, Incident):
        return str(_("Incident %(reference)s", reference=subject.reference))
    if isinstance(subject, JudicialCase):
        return subject.title()
    return str(
        _(
            "Stage event of %(date)s in %(case)s",
            date=subject.occurred_on.isoformat(),
            case=subject.case.title(),
        )
    )


def subject_url(subject: Subject) -> str:
    if isinstance(subject, Incident):
        return url_for("incidents.detail", incident_id=subject.id)
    if isinstance(subject, JudicialCase):
        return url_for("cases.detail", case_id=subject.id)
    return url_for("cases.detail", case_id=subject.case_id) + f"#event-{subject.id}"


def list_url(subject: Subject) -> str:
    if isinstance(subject, Incident):
        return url_for("attachments.incident_attachments", incident_id=subject.id)
    if isinstance(subject, JudicialCase):
        return url_for("attachments.case_attachments", case_id=subject.id)
    return url_for(
        "attachments.stage_event_attachments", case_id=subject.case_id, event_id=subject.id
    )


def kinds() -> list[tuple[str, str]]:
    locale = current_locale()
    return [(term.code, term.label(locale)) for term in ATTACHMENT_KIND]


def kind_label(code: str) -> str:
    return ATTACHMENT_KIND.label(code, current_locale())


@dataclass(frozen=True)
class Row:
    attachment: Attachment
    kind: str


def list_context(db: Any, user: User, subject: Subject) -> dict[str, Any]:
    """What the list page of a record's documents shows this user."""
    keeps = policy.keeps_subject(user, subject)
    return {
        "subject_title": subject_title(subject),
        "subject_url": subject_url(subject),
        "upload_url": list_url(subject),
        "rows": [Row(a, kind_label(a.kind)) for a in service.listed(db, user, subject)],
        "deleted": [Row(a, kind_label(a.kind)) for a in service.deleted(db, user, subject)]
        if keeps
        else [],
        "may_attach": policy.may_attach(user, subject),
        "kinds": kinds(),
        "config_limit": current_config().max_upload_mb,
    }


def flag(name: str) -> bool:
    return request.form.get(name, "").strip().lower() in TRUE


def details_from_form(*, default_title: str = "") -> Details:
    """The title, kind and personal-data mark as sent; refused field by field."""
    title = request.form.get("title", "").strip() or default_title
    kind = request.form.get("kind", "")
    if kind not in ATTACHMENT_KIND:
        raise InputError({"kind": _("Choose one of the kinds listed.")})
    return Details(title=title, kind=kind, personal_data=flag("personal_data"))


def revision_from_form() -> int:
    raw = request.form.get("revision", "")
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise InputError({"revision": _("The form is incomplete; open the page again.")})
    return int(raw)


def files_from_form(name: str = "file") -> list[FileStorage]:
    files = [f for f in request.files.getlist(name) if f.filename]
    if not files:
        raise InputError({"file": _("Choose a file.")})
    return files


def wants_json() -> bool:
    """The page's script sends each file on its own and reads the answer as JSON."""
    return request.accept_mimetypes.best == "application/json"
