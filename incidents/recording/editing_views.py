"""Recording incidents: the form, the verification workflow and likely duplicates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from auth.access import allowed_or_403, requires, viewer
from auth.models import User
from capdb import db
from capdb.config import current_config
from capdb.i18n import current_locale
from capdb.reference import Country
from capdb.vocabularies import PERSONNEL_CATEGORY, VERIFICATION_STATUS
from incidents import policy
from incidents.errors import NotAllowedError
from incidents.models import Incident
from incidents.policy import incident_or_404
from incidents.recording import drafts, workflow
from incidents.recording import service as recording
from incidents.recording.duplicates import likely_duplicates, link_duplicate
from incidents.recording.forms import DuplicateForm, IncidentForm, ReturnForm, WorkflowForm
from incidents.recording.rules import MAX_VICTIMS

bp = Blueprint("recording", __name__, template_folder="../templates", url_prefix="/incidents")

Page = tuple[str, int]


def detail_url(incident: Incident) -> str:
    return url_for("incidents.detail", incident_id=incident.id)


# The incident form


@bp.route("/new", methods=["GET", "POST"])
@requires(policy.may_record_incidents)
def new() -> Page | Response:
    session, user = db.session(), viewer()
    form = incident_form(session, user, None)
    if form.wants_another_victim:
        form.add_victim_row()
        return render_form(form, None)
    if not form.is_submitted():
        return render_form(form, None)
    if not form.validate():
        return render_form(form, None, status=422)
    claimed, earlier = drafts.claim(session, user, form.draft_key.data)
    if earlier is not None:
        return already_recorded(earlier)
    try:
        incident = recording.create_incident(
            session, user, form.incident_fields(), form.victim_rows()
        )
    except NotAllowedError as refused:
        abort(403, refused.message)
    except recording.RecordingError as refused:  # no free reference after several tries
        flash(refused.message, "error")
        return render_form(form, None, status=409)
    if claimed is not None:
        drafts.answer(claimed, user, incident)
    flash(
        _("Incident %(reference)s was recorded as a draft.", reference=incident.reference), "info"
    )
    return after_save(session, user, incident)


def already_recorded(incident_id: int) -> Response:
    """The draft was recorded already (its answer was lost on the way): to that incident."""
    flash(_("This draft was recorded already; here it is."), "info")
    return redirect(url_for("incidents.detail", incident_id=incident_id), code=303)


@bp.route("/<int:incident_id>/edit", methods=["GET", "POST"])
def edit(incident_id: int) -> Page | Response:
    session, user = db.session(), viewer()
    incident = incident_or_404(session, user, incident_id)
    if not policy.may_edit(user, incident):
        abort(403, _("Only drafts can be edited; return the incident to draft first."))
    form = incident_form(session, user, incident)
    if form.wants_another_victim:
        form.add_victim_row()
        return render_form(form, incident)
    if not form.is_submitted():
        return render_form(form, incident)
    if not form.validate():
        return render_form(form, incident, status=422)
    if form.version.data is None:
        abort(400)
    try:
        changed = recording.update_incident(
            session,
            user,
            incident,
            form.incident_fields(),
            form.victim_rows(),
            loaded_version=form.version.data,
        )
    except recording.StaleEditError as stale:
        current = {v.id: v.version for v in incident.victims if v.deleted_at is None}
        form.rebase(stale.current_version, current)
        return render_form(form, incident, stale=stale, status=409)
    except NotAllowedError as refused:
        abort(403, refused.message)
    if not changed:
        flash(_("Nothing was changed."), "info")
        return redirect(detail_url(incident))
    flash(_("Incident %(reference)s was saved.", reference=incident.reference), "info")
    return after_save(session, user, incident)


def incident_form(session: Session, user: User, incident: Incident | None) -> IncidentForm:
    missions = policy.missions_for(session, user)
    options: dict[str, Any] = {}
    if request.method == "GET":
        options["data"] = IncidentForm.initial_data(incident, missions)
    return IncidentForm(
        missions=missions,
        countries=list(session.scalars(sa.select(Country))),
        victim_ids=[v.id for v in incident.victims if v.deleted_at is None] if incident else [],
        stored=incident,
        **options,
    )


def render_form(
    form: IncidentForm,
    incident: Incident | None,
    *,
    stale: recording.StaleEditError | None = None,
    status: int = 200,
) -> Page:
    page = render_template(
        "incidents/form.html",
        form=form,
        incident=incident,
        stale=stale,
        stale_fields=form.describe(stale.fields) if stale else [],
        stale_victims=describe_victims(stale.victims) if stale else [],
        tile_url=current_config().tile_url,
        borders_url=_borders_url(),
        max_victims=MAX_VICTIMS,
    )
    return page, status


def _borders_url() -> str | None:
    """Where the point picker gets country borders: the endpoint the application names
    (the map's, set by the composition root), if any."""
    endpoint: str | None = current_app.extensions.get("capdb.borders_endpoint")
    return url_for(endpoint) if endpoint else None


def describe_victims(changes: list[recording.ChangedVictim]) -> list[tuple[str, str]]:
    locale = current_locale()
    how = {"added": _("added"), "changed": _("changed"), "removed": _("removed")}
    return [
        (
            f"{PERSONNEL_CATEGORY.label(c.victim.category, locale)}, "
            f"{c.victim.nationality.name(locale)}",
            how[c.how],
        )
        for c in changes
    ]


def after_save(session: Session, user: User, incident: Incident) -> Response:
    """To the likely duplicates, if there are any to look at; to the incident otherwise."""
    if incident.duplicate_of_id is None and likely_duplicates(session, user, incident):
        return redirect(url_for("recording.duplicates", incident_id=incident.id))
    return redirect(detail_url(incident))


# The verification workflow


@bp.post("/<int:incident_id>/submit")
def submit(incident_id: int) -> Response:
    def step(session: Session, user: User, incident: Incident, _form: WorkflowForm) -> str:
        workflow.submit(session, user, incident)
        return str(
            _("Incident %(reference)s was submitted for validation.", reference=incident.reference)
        )

    return workflow_step(incident_id, WorkflowForm, step)


@bp.post("/<int:incident_id>/validate")
def validate(incident_id: int) -> Response:
    def step(session: Session, user: User, incident: Incident, _form: WorkflowForm) -> str:
        workflow.validate(session, user, incident)
        return str(_("Incident %(reference)s was validated.", reference=incident.reference))

    return workflow_step(incident_id, WorkflowForm, step)


@bp.post("/<int:incident_id>/return")
def return_to_draft(incident_id: int) -> Response:
    def step(session: Session, user: User, incident: Incident, form: ReturnForm) -> str:
        workflow.return_to_draft(session, user, incident, form.reason.data)
        return str(_("Incident %(reference)s was returned to draft.", reference=incident.reference))

    return workflow_step(incident_id, ReturnForm, step)


# The step itself, given the validated form (a WorkflowForm); answers the message to show.
Step = Callable[[Session, User, Incident, Any], str]


def workflow_step(incident_id: int, form_class: type[WorkflowForm], step: Step) -> Response:
    """Take a workflow step on the version of the incident its page showed.

    Another role's or person's step is refused with 403, a step the status does not allow
    with 409; a missing reason or a page older than the incident sends the user back to
    it with the reason.
    """
    session, user = db.session(), viewer()
    incident = incident_or_404(session, user, incident_id)
    # Steps are the keepers' of the record; which one they may take now, the step says.
    allowed_or_403(policy.keeps_record_of(user, incident))
    form = form_class()
    back = redirect(detail_url(incident), code=303)
    if not form.validate():
        messages = [str(m) for name, ms in form.errors.items() if name != "version" for m in ms]
        flash(messages[0] if messages else _("The request was incomplete."), "error")
        return back
    if form.version.data != incident.version:
        flash(
            _("The incident changed since you opened it; nothing was done. Check it again."),
            "error",
        )
        return back
    try:
        message = step(session, user, incident, form)
    except NotAllowedError as refused:
        abort(403, refused.message)
    except recording.InvalidTransitionError as refused:
        abort(409, refused.message)
    except recording.RecordingError as refused:
        flash(refused.message, "error")
        return back
    flash(message, "info")
    return back


# Likely duplicates


@bp.route("/<int:incident_id>/duplicates", methods=["GET", "POST"])
def duplicates(incident_id: int) -> Page | Response:
    session, user = db.session(), viewer()
    incident = incident_or_404(session, user, incident_id)
    allowed_or_403(policy.keeps_record_of(user, incident))
    form = DuplicateForm()
    error = None
    if form.is_submitted() and form.validate():
        if form.new_incident.data:
            flash(
                _(
                    "Incident %(reference)s is kept as a new incident.",
                    reference=incident.reference,
                ),
                "info",
            )
            return redirect(detail_url(incident))
        if form.duplicate_of.data is None:
            error = _("Choose the incident this one duplicates, or keep it as a new incident.")
        else:
            try:
                original = link_duplicate(session, user, incident, form.duplicate_of.data)
            except NotAllowedError as refused:
                abort(403, refused.message)
            except recording.NotACandidateError as refused:
                error = refused.message
            else:
                message = _(
                    "Incident %(reference)s is recorded as a duplicate of %(original)s.",
                    reference=incident.reference,
                    original=original.reference,
                )
                flash(message, "info")
                return redirect(detail_url(incident))
    elif form.is_submitted():
        error = _("The request was incomplete.")
    page = render_template(
        "incidents/duplicates.html",
        incident=incident,
        candidates=likely_duplicates(session, user, incident),
        may_link=policy.may_edit(user, incident),
        form=form,
        error=error,
    )
    return page, 422 if error else 200


# What the incident page shows of the workflow (incidents/_workflow.html)


@bp.app_context_processor
def workflow_helpers() -> dict[str, Any]:
    def workflow_panel(incident: Incident, user: User) -> workflow.WorkflowPanel:
        return workflow.workflow_panel(db.session(), user, incident)

    def verification_label(status: str) -> str:
        return VERIFICATION_STATUS.label(status, current_locale())

    return {"workflow_panel": workflow_panel, "verification_label": verification_label}
