"""The attachment pages: a record's documents (with the upload form), one document (its
versions, details, replacement, deletion and restoration), and the downloads.

Every route loads the record or the attachment through the access rule first (404 when
out of scope), then asks the policy what the user may do (403). The upload form works
without JavaScript (several files at once, all or nothing); the page's script
(static/js/attachments.js) adds drag and drop and sends each file on its own with its
progress, reading the answer as JSON.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from auth.access import allowed_or_403, viewer
from capdb.db import session
from incidents import policy as record_policy
from incidents.attachments import pages, policy, service, uploads
from incidents.attachments.intake import Staged, title_from
from incidents.attachments.models import Attachment
from incidents.attachments.policy import Subject
from incidents.attachments.serving import download
from incidents.errors import InputError, NotAllowedError, StaleEditError

bp = Blueprint("attachments", __name__, template_folder="templates")

INVALID = 422
Page = str | Response | tuple[str, int] | tuple[Response, int]


# A record's documents -------------------------------------------------------------------------


def _case_event(case_id: int, event_id: int) -> Subject:
    case = record_policy.case_or_404(session(), viewer(), case_id)
    return record_policy.stage_event_or_404(session(), viewer(), case, event_id)


def list_page(subject: Subject, errors: dict[str, str] | None = None) -> Page:
    context = pages.list_context(session(), viewer(), subject)
    page = render_template("attachments/list.html", errors=errors or {}, **context)
    return (page, INVALID) if errors else page


def refused(subject: Subject, problems: dict[str, str]) -> Page:
    if pages.wants_json():
        return jsonify(errors=problems), INVALID
    return list_page(subject, problems)


def _stage_all(keep_metadata: bool) -> list[Staged]:
    """Every file sent, staged and checked; if one is refused, none is kept."""
    staged: list[Staged] = []
    try:
        for upload in pages.files_from_form():
            try:
                staged.append(uploads.receive(upload, keep_metadata=keep_metadata))
            except InputError as error:
                name = upload.filename or ""
                raise InputError({"file": f"{name}: {error.problems['file']}"}) from None
    except BaseException:
        for done in staged:
            done.discard()
        raise
    return staged


def upload(subject: Subject) -> Page:
    user = viewer()
    allowed_or_403(policy.may_attach(user, subject))
    reason = uploads.oversized()
    if reason is not None:
        return refused(subject, {"file": reason})
    try:
        details = pages.details_from_form()
        staged = _stage_all(pages.flag("keep_metadata"))
    except InputError as error:
        return refused(subject, error.problems)
    added = []
    try:
        for number, one in enumerate(staged, start=1):
            title = details.title or title_from(one.filename)
            if details.title and len(staged) > 1:
                title = f"{title} ({number})"
            named = service.Details(title, details.kind, details.personal_data)
            added.append(service.attach(session(), user, subject, one, named))
    except InputError as error:
        # Nothing is recorded (the request rolls back); files already kept are orphans
        # that the sweep removes.
        for one in staged:
            one.discard()
        return refused(subject, error.problems)
    if pages.wants_json():
        shown = [{"id": a.id, "title": a.title, "url": _detail_url(a)} for a in added]
        return jsonify(attached=shown), 201
    flash(
        ngettext("%(num)d document was attached.", "%(num)d documents were attached.", len(added)),
        "info",
    )
    return redirect(pages.list_url(subject))


def _detail_url(attachment: Attachment) -> str:
    return url_for("attachments.detail", attachment_id=attachment.id)


@bp.get("/incidents/<int:incident_id>/attachments")
def incident_attachments(incident_id: int) -> Page:
    return list_page(record_policy.incident_or_404(session(), viewer(), incident_id))


@bp.post("/incidents/<int:incident_id>/attachments")
def attach_to_incident(incident_id: int) -> Page:
    return upload(record_policy.incident_or_404(session(), viewer(), incident_id))


@bp.get("/cases/<int:case_id>/attachments")
def case_attachments(case_id: int) -> Page:
    return list_page(record_policy.case_or_404(session(), viewer(), case_id))


@bp.post("/cases/<int:case_id>/attachments")
def attach_to_case(case_id: int) -> Page:
    return upload(record_policy.case_or_404(session(), viewer(), case_id))


@bp.get("/cases/<int:case_id>/events/<int:event_id>/attachments")
def stage_event_attachments(case_id: int, event_id: int) -> Page:
    return list_page(_case_event(case_id, event_id))


@bp.post("/cases/<int:case_id>/events/<int:event_id>/attachments")
def attach_to_stage_event(case_id: int, event_id: int) -> Page:
    return upload(_case_event(case_id, event_id))


# One document ---------------------------------------------------------------------------------


def _attachment(attachment_id: int) -> Attachment:
    return policy.attachment_or_404(session(), viewer(), attachment_id)


def detail_page(attachment: Attachment, errors: dict[str, str] | None = None) -> Page:
    user, subject = viewer(), policy.subject_of(attachment)
    page = render_template(
        "attachments/detail.html",
        attachment=attachment,
        kind=pages.kind_label(attachment.kind),
        kinds=pages.kinds(),
        subject_title=pages.subject_title(subject),
        subject_url=pages.subject_url(subject),
        list_url=pages.list_url(subject),
        may_change=policy.may_change_attachment(user, attachment),
        may_restore=policy.may_restore_attachment(user, attachment),
        uploaders={f.id: record_policy.person_label(user, f.uploaded_by) for f in attachment.files},
        errors=errors or {},
    )
    return (page, INVALID) if errors else page


@bp.get("/attachments/<int:attachment_id>")
def detail(attachment_id: int) -> Page:
    return detail_page(_attachment(attachment_id))


def _stale(attachment: Attachment) -> Page:
    session().rollback()
    flash(_("The document changed since you opened this page; nothing was saved."), "error")
    return redirect(_detail_url(attachment))


@bp.post("/attachments/<int:attachment_id>")
def change(attachment_id: int) -> Page:
    attachment = _attachment(attachment_id)
    allowed_or_403(policy.may_change_attachment(viewer(), attachment))
    try:
        details = pages.details_from_form()
        revision = pages.revision_from_form()
        service.change_details(session(), viewer(), attachment, details, revision=revision)
    except StaleEditError:
        return _stale(attachment)
    except InputError as error:
        return detail_page(attachment, error.problems)
    flash(_("The document's details were saved."), "info")
    return redirect(_detail_url(attachment))


@bp.post("/attachments/<int:attachment_id>/versions")
def replace(attachment_id: int) -> Page:
    attachment = _attachment(attachment_id)
    allowed_or_403(policy.may_change_attachment(viewer(), attachment))
    reason = uploads.oversized()
    if reason is not None:
        return detail_page(attachment, {"file": reason})
    try:
        revision = pages.revision_from_form()
        (upload,) = pages.files_from_form()[:1]
        staged = uploads.receive(upload, keep_metadata=pages.flag("keep_metadata"))
        service.replace(session(), viewer(), attachment, staged, revision=revision)
    except StaleEditError:
        return _stale(attachment)
    except InputError as error:
        return detail_page(attachment, error.problems)
    flash(_("The new version of the file was saved; the earlier ones stay below."), "info")
    return redirect(_detail_url(attachment))


@bp.post("/attachments/<int:attachment_id>/delete")
def delete(attachment_id: int) -> Page:
    attachment = _attachment(attachment_id)
    allowed_or_403(policy.may_delete_attachment(viewer(), attachment))
    try:
        service.delete(session(), viewer(), attachment, revision=pages.revision_from_form())
    except StaleEditError:
        return _stale(attachment)
    except InputError as error:
        return detail_page(attachment, error.problems)
    flash(_("The document was deleted; those who keep the record can restore it."), "info")
    return redirect(pages.list_url(policy.subject_of(attachment)))


@bp.post("/attachments/<int:attachment_id>/restore")
def restore(attachment_id: int) -> Page:
    attachment = _attachment(attachment_id)
    allowed_or_403(policy.may_restore_attachment(viewer(), attachment))
    try:
        service.restore(session(), viewer(), attachment)
    except NotAllowedError:
        allowed_or_403(False)
    flash(_("The document was restored."), "info")
    return redirect(_detail_url(attachment))


def _download(attachment_id: int, version: int | None) -> Any:
    attachment = _attachment(attachment_id)
    found = service.file_to_download(session(), viewer(), attachment, version)
    if found is None:
        abort(404)
    return download(found)


@bp.get("/attachments/<int:attachment_id>/download")
def download_current(attachment_id: int) -> Any:
    return _download(attachment_id, None)


@bp.get("/attachments/<int:attachment_id>/versions/<int:version>/download")
def download_version(attachment_id: int, version: int) -> Any:
    return _download(attachment_id, version)
