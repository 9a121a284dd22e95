"""Attachments through the API: listing and uploading on incidents, cases and stage events,
and, for one attachment, its details, new file versions, deletion, restoration and the
file itself.

Each route loads the record or attachment through the access rule first (404 when out of
scope, before the body is read); what the viewer may do is then the policy's answer (403).
A refused file answers 422 naming the reason under ``file``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response
from flask_babel import gettext as _

from incidents.api.access import allowed_or_403, session, viewer, with_case, with_incident
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort, refused
from incidents.api.schemas import ErrorSchema
from incidents.attachments import policy, service, uploads
from incidents.attachments.intake import title_from
from incidents.attachments.models import Attachment
from incidents.attachments.policy import Subject
from incidents.attachments.schemas import (
    MULTIPART,
    AttachmentDetail,
    AttachmentList,
    AttachmentPatch,
    AttachmentSchema,
    AttachmentUpload,
    ContentQuery,
    FileUpload,
    MultipartParser,
    RevisionQuery,
)
from incidents.attachments.serving import download
from incidents.errors import InputError, NotAllowedError, StaleEditError
from incidents.models import Incident, JudicialCase, StageEvent

blp = api_blueprint(
    "api_attachments",
    __name__,
    "Documents attached to incidents, cases and stage events, and their files.",
)
blp.ARGUMENTS_PARSER = MultipartParser()  # type: ignore[attr-defined]
blp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {  # type: ignore[attr-defined]
    **blp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,  # type: ignore[attr-defined]
    MULTIPART: "multipart/form-data",
}
View = Callable[..., Any]
BINARY = {
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
}


def resource(attachment: Attachment) -> dict[str, Any]:
    current = attachment.current
    return {
        "id": attachment.id,
        "title": attachment.title,
        "kind": attachment.kind,
        "media_type": current.media_type,
        "size": current.size,
        "sha256": current.sha256,
        "version": current.number,
        "personal_data": attachment.personal_data,
        "filename": current.filename,
        "revision": attachment.revision,
        "incident": attachment.incident_id,
        "case": attachment.case_id,
        "stage_event": attachment.stage_event_id,
        "deleted": attachment.deleted_at is not None,
        "created_at": attachment.created_at,
        "updated_at": attachment.updated_at,
        "versions": [
            {
                "number": f.number,
                "media_type": f.media_type,
                "size": f.size,
                "sha256": f.sha256,
                "filename": f.filename,
                "metadata_kept": f.metadata_kept,
                "uploaded_at": f.uploaded_at,
            }
            for f in attachment.files
        ],
    }


def refuse_oversized(view: View) -> View:
    """422 before the body is read when it announces more than the limit allows."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        reason = uploads.oversized()
        if reason is not None:
            abort(422, errors={"file": [reason]})
        return view(*args, **kwargs)

    return checked


def with_event(view: View) -> View:
    @wraps(view)
    def loaded(*args: Any, **kwargs: Any) -> Any:
        event = policy.stage_event_or_404(session(), viewer(), kwargs.pop("event_id"))
        return view(*args, event=event, **kwargs)

    return loaded


def with_attachment(view: View) -> View:
    @wraps(view)
    def loaded(*args: Any, **kwargs: Any) -> Any:
        found = policy.attachment_or_404(session(), viewer(), kwargs.pop("attachment_id"))
        return view(*args, attachment=found, **kwargs)

    return loaded


def listing(subject: Subject) -> dict[str, Any]:
    return {"items": [resource(a) for a in service.listed(session(), viewer(), subject)]}


def upload(subject: Subject, values: dict[str, Any]) -> dict[str, Any]:
    db, user = session(), viewer()
    allowed_or_403(policy.may_attach(user, subject))
    try:
        staged = uploads.receive(values["file"], keep_metadata=values["keep_metadata"])
        details = service.Details(
            title=values["title"] or title_from(staged.filename),
            kind=values["kind"],
            personal_data=values["personal_data"],
        )
        attachment = service.attach(db, user, subject, staged, details)
    except NotAllowedError as error:
        abort(403, message=error.message)
    except InputError as error:
        refused(error)
    return resource(attachment)


@blp.route("/incidents/<int:incident_id>/attachments", methods=["GET"])
@with_incident()
@blp.response(200, AttachmentList)
def incident_attachments(incident: Incident) -> dict[str, Any]:
    """The incident's attachments that the viewer may see."""
    return listing(incident)


@blp.route("/incidents/<int:incident_id>/attachments", methods=["POST"])
@with_incident()
@refuse_oversized
@blp.arguments(AttachmentUpload, location=MULTIPART)
@blp.response(201, AttachmentSchema)
def attach_to_incident(values: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Attach a document to the incident (its mission and admins)."""
    return upload(incident, values)


@blp.route("/cases/<int:case_id>/attachments", methods=["GET"])
@with_case()
@blp.response(200, AttachmentList)
def case_attachments(case: JudicialCase) -> dict[str, Any]:
    """The case's attachments that the viewer may see."""
    return listing(case)


@blp.route("/cases/<int:case_id>/attachments", methods=["POST"])
@with_case()
@refuse_oversized
@blp.arguments(AttachmentUpload, location=MULTIPART)
@blp.response(201, AttachmentSchema)
def attach_to_case(values: dict[str, Any], case: JudicialCase) -> dict[str, Any]:
    """Attach a document to the case (its keepers and the prosecuting State)."""
    return upload(case, values)


@blp.route("/stage-events/<int:event_id>/attachments", methods=["GET"])
@with_event
@blp.response(200, AttachmentList)
def stage_event_attachments(event: StageEvent) -> dict[str, Any]:
    """The stage event's attachments that the viewer may see."""
    return listing(event)


@blp.route("/stage-events/<int:event_id>/attachments", methods=["POST"])
@with_event
@refuse_oversized
@blp.arguments(AttachmentUpload, location=MULTIPART)
@blp.response(201, AttachmentSchema)
def attach_to_stage_event(values: dict[str, Any], event: StageEvent) -> dict[str, Any]:
    """Attach a document to the stage event (the case's keepers and the prosecuting State)."""
    return upload(event, values)


@blp.route("/attachments/<int:attachment_id>", methods=["GET"])
@with_attachment
@blp.response(200, AttachmentDetail)
def get_attachment(attachment: Attachment) -> dict[str, Any]:
    """One attachment, with every version of its file."""
    return resource(attachment)


def _stale(attachment: Attachment) -> Any:
    session().rollback()
    current = policy.attachment_or_404(session(), viewer(), attachment.id)
    abort(
        409,
        message=_("The document changed since this revision; nothing was saved."),
        current=AttachmentDetail().dump(resource(current)),
    )


@blp.route("/attachments/<int:attachment_id>", methods=["PATCH"])
@with_attachment
@blp.arguments(AttachmentPatch)
@blp.response(200, AttachmentDetail)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def change_attachment(values: dict[str, Any], attachment: Attachment) -> dict[str, Any]:
    """Change the title, kind or personal-data mark."""
    allowed_or_403(policy.may_change_attachment(viewer(), attachment))
    details = service.Details(
        title=values.get("title", attachment.title),
        kind=values.get("kind", attachment.kind),
        personal_data=values.get("personal_data", attachment.personal_data),
    )
    try:
        service.change_details(
            session(), viewer(), attachment, details, revision=values["revision"]
        )
    except StaleEditError:
        _stale(attachment)
    except InputError as error:
        refused(error)
    return resource(attachment)


@blp.route("/attachments/<int:attachment_id>/versions", methods=["POST"])
@with_attachment
@refuse_oversized
@blp.arguments(FileUpload, location=MULTIPART)
@blp.response(201, AttachmentDetail)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def replace_file(values: dict[str, Any], attachment: Attachment) -> dict[str, Any]:
    """A new version of the file; the earlier ones stay downloadable."""
    allowed_or_403(policy.may_change_attachment(viewer(), attachment))
    try:
        staged = uploads.receive(values["file"], keep_metadata=values["keep_metadata"])
        service.replace(session(), viewer(), attachment, staged, revision=values["revision"])
    except StaleEditError:
        _stale(attachment)
    except InputError as error:
        refused(error)
    return resource(attachment)


@blp.route("/attachments/<int:attachment_id>", methods=["DELETE"])
@with_attachment
@blp.arguments(RevisionQuery, location="query", error_status_code=400)
@blp.response(204)
@blp.alt_response(409, schema=ErrorSchema, description="Changed meanwhile: `current` holds it.")
def delete_attachment(query: dict[str, Any], attachment: Attachment) -> Response:
    """Delete the attachment; those who keep its record may restore it."""
    allowed_or_403(policy.may_delete_attachment(viewer(), attachment))
    try:
        service.delete(session(), viewer(), attachment, revision=query["revision"])
    except StaleEditError:
        _stale(attachment)
    return Response(status=204)


@blp.route("/attachments/<int:attachment_id>/restore", methods=["POST"])
@with_attachment
@blp.response(200, AttachmentDetail)
def restore_attachment(attachment: Attachment) -> dict[str, Any]:
    """Bring a deleted attachment back (those who keep its record)."""
    allowed_or_403(policy.may_restore_attachment(viewer(), attachment))
    try:
        service.restore(session(), viewer(), attachment)
    except NotAllowedError as error:
        abort(403, message=error.message)
    return resource(attachment)


@blp.route("/attachments/<int:attachment_id>/content", methods=["GET"])
@with_attachment
@blp.arguments(ContentQuery, location="query", error_status_code=400)
@blp.doc(responses={"200": {"description": "The file, as a download.", **BINARY}})
def attachment_content(query: dict[str, Any], attachment: Attachment) -> Response:
    """The file itself (the newest version, or ``version``); every download is audited."""
    found = service.file_to_download(session(), viewer(), attachment, query.get("version"))
    if found is None:
        abort(404, message=_("This document has no such version."))
    return download(found)
