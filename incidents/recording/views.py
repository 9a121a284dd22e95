"""The incident list, the incident page, its history, and soft deletion."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth import audit
from auth.access import allowed_or_403, requires, viewer
from auth.models import User
from capdb import db
from capdb.clock import now
from capdb.db import MAX_ID
from capdb.i18n import current_locale
from capdb.vocabularies import VOCABULARIES
from incidents import history, policy, restoring
from incidents.comments.threads import comment_panel
from incidents.filter_choices import filter_choices, preset_filter
from incidents.filters import (
    PAGED,
    from_request,
    listed_incidents,
    page_of,
    shown_args,
    takes_filter,
)
from incidents.justice.case_pages import case_panel
from incidents.models import Incident, Victim
from incidents.policy import incident_or_404, sees_victim_identity
from incidents.recording.restore_checks import restore_problems
from incidents.recording.restore_page import difference_rows, problem_rows
from incidents.recording.service import casualties
from incidents.totals import total

Page = tuple[str, int]

bp = Blueprint("incidents", __name__, template_folder="../templates", url_prefix="/incidents")


@bp.get("/")
@takes_filter(PAGED)
def index() -> tuple[str, int]:
    session = db.session()
    preset = preset_filter(viewer())
    asked, errors = from_request(session, preset=preset)
    filters = asked.filters
    page = counted = None
    if not errors:
        page = page_of(
            session,
            listed_incidents(viewer(), filters),
            sort=asked.sort,
            cursor=asked.cursor,
            per_page=asked.per_page,
            q=filters.q,
        )
        counted = total(
            session,
            listed_incidents(viewer(), filters),
            exact=asked.exact_total,
            seen_by=(viewer(), filters),
        )
    context = {
        "total": counted,
        "filters": filters,
        "errors": errors,
        "sort": asked.sort,
        "page": page,
        "casualties": (
            casualties(session, [incident.id for incident in page.items]) if page else {}
        ),
        "choices": filter_choices(session, viewer()),
        "may_record": policy.may_record_incidents(viewer()),
        "filter_args": shown_args(preset),
        "preset": {} if request.args else preset,
    }
    return render_template("incidents/index.html", **context), 400 if errors else 200


@bp.get("/<int:incident_id>")
def detail(incident_id: int) -> str:
    session = db.session()
    user = viewer()
    incident = incident_or_404(session, user, incident_id)
    victims = [v for v in incident.victims if v.deleted_at is None]
    return render_template(
        "incidents/detail.html",
        incident=incident,
        victims=victims,
        identities={v.id for v in victims if sees_victim_identity(user, v)},
        case_panel=case_panel(session, user, incident),
        comment_panel=comment_panel(session, user, incident),
        may_see_history=policy.may_see_history(user, incident),
        may_delete=policy.may_delete(user, incident),
        recorded_by=policy.person_label(user, incident.created_by),
    )


def incident_allowed(incident_id: int, verb: policy.IncidentVerb) -> Incident:
    """The incident (404 when out of scope) if the policy's ``verb`` allows it (403 else)."""
    incident = incident_or_404(db.session(), viewer(), incident_id)
    allowed_or_403(verb(viewer(), incident))
    return incident


@bp.get("/<int:incident_id>/history")
def record_history(incident_id: int) -> str:
    session = db.session()
    incident = incident_allowed(incident_id, policy.may_see_history)
    # A change to victims alone moves the incident's version without changing its fields.
    changes = [change for change in history.changes(session, incident) if change.fields]
    victims = [(victim, history.changes(session, victim)) for victim in incident.victims]
    victims = [(victim, victim_changes) for victim, victim_changes in victims if victim_changes]
    everyone = changes + [
        change for _victim, victim_changes in victims for change in victim_changes
    ]
    return render_template(
        "incidents/history.html",
        incident=incident,
        changes=changes,
        victims=victims,
        editors=editors(session, {c.replaced.replaced_by_id for c in everyone}),
        restores=restoring.restores_of(session, [incident, *(v for v, _c in victims)]),
        # A deleted victim's versions are history only: nobody restores them.
        restorable={
            victim.id
            for victim, _c in victims
            if victim.deleted_at is None and policy.may_restore(viewer(), victim)
        },
    )


def editors(session: sa.orm.Session, user_ids: set[int | None]) -> dict[int, str]:
    """Who made each change, named as the policy lets the viewer know them."""
    ids = [user_id for user_id in user_ids if user_id is not None]
    found = session.scalars(sa.select(User).where(User.id.in_(ids)))
    return {editor.id: policy.person_label(viewer(), editor) for editor in found}


@bp.get("/<int:incident_id>/history/<int:version>/restore")
def confirm_restore(incident_id: int, version: int) -> Page:
    """What restoring the version would change, to confirm; nothing changes here."""
    incident = incident_allowed(incident_id, policy.may_restore)
    return restore_confirmation(incident, incident, version)


@bp.post("/<int:incident_id>/history/<int:version>/restore")
def restore_version(incident_id: int, version: int) -> Response | Page:
    incident = incident_allowed(incident_id, policy.may_restore)
    return restore_confirmed(incident, incident, version)


@bp.get("/<int:incident_id>/victims/<int:victim_id>/history/<int:version>/restore")
def confirm_victim_restore(incident_id: int, victim_id: int, version: int) -> Page:
    return restore_confirmation(*victim_to_restore(incident_id, victim_id), version)


@bp.post("/<int:incident_id>/victims/<int:victim_id>/history/<int:version>/restore")
def restore_victim_version(incident_id: int, victim_id: int, version: int) -> Response | Page:
    return restore_confirmed(*victim_to_restore(incident_id, victim_id), version)


def victim_to_restore(incident_id: int, victim_id: int) -> tuple[Incident, Victim]:
    """The incident and its undeleted victim (404 when either is not there for the user),
    if the policy lets the user restore the victim itself (403 else)."""
    session, user = db.session(), viewer()
    incident = incident_or_404(session, user, incident_id)
    victim = None
    if 0 < victim_id <= MAX_ID:
        victim = session.scalar(
            sa.select(Victim).where(
                Victim.id == victim_id,
                Victim.incident_id == incident.id,
                Victim.deleted_at.is_(None),
            )
        )
    if victim is None:
        abort(404)
    allowed_or_403(policy.may_restore(user, victim))
    return incident, victim


def restore_confirmation(incident: Incident, record: Incident | Victim, version: int) -> Page:
    """The differences to confirm; or, when the rules refuse what the record would become,
    why (422), and nothing to confirm."""
    session = db.session()
    try:
        differences = history.restore_preview(session, record, version)
    except LookupError:
        abort(404)
    problems = restore_problems(session, record, differences)
    page = render_template(
        "incidents/restore.html",
        incident=incident,
        record=record,
        version=version,
        rows=difference_rows(session, record, differences),
        problems=problem_rows(problems),
        sends_back=bool(differences) and incident.status in restoring.UNDER_VALIDATION,
        action=request.path,
    )
    return page, 422 if problems else 200


def restore_confirmed(
    incident: Incident, record: Incident | Victim, version: int
) -> Response | Page:
    session = db.session()
    back = url_for("incidents.record_history", incident_id=incident.id)
    if request.form.get("current_version") != str(record.version):
        flash(_("The record changed since you opened its history; nothing was restored."), "error")
        return redirect(back)
    try:
        restored = restoring.restore_version(
            session, viewer(), record, version, check=restore_problems
        )
    except LookupError:
        abort(404)
    except restoring.RestoreRefusedError:
        return restore_confirmation(incident, record, version)
    if not restored:
        flash(
            _("Version %(version)d holds the same content: nothing changed.", version=version),
            "info",
        )
        return redirect(back)
    flash(_("Version %(version)d was restored as a new version.", version=version), "info")
    if restored.sent_back is not None and restored.sent_back[0] == "incidents":
        flash(_("The incident changed: it is a draft again and must be validated again."), "info")
    return redirect(url_for("incidents.detail", incident_id=incident.id))


@bp.post("/<int:incident_id>/delete")
def delete(incident_id: int) -> Response:
    session = db.session()
    incident = incident_allowed(incident_id, policy.may_delete)
    incident.deleted_at = now()
    audit.record(session, "delete", user=viewer(), target=incident)
    flash(_("Incident %(reference)s was deleted. An administrator can restore it.",
            reference=incident.reference), "info")  # fmt: skip
    return redirect(url_for("incidents.index"))


@bp.get("/deleted")
@requires(policy.sees_deleted)
def deleted() -> str:
    incidents = db.session().scalars(
        sa.select(Incident)
        .where(Incident.deleted_at.is_not(None))
        .order_by(Incident.deleted_at.desc())
        .limit(200)
    )
    return render_template("incidents/deleted.html", incidents=list(incidents))


@bp.post("/<int:incident_id>/undelete")
def undelete(incident_id: int) -> Response:
    session = db.session()
    incident = session.get(Incident, incident_id)
    # Deleted incidents are out of everyone's scope but the admins', who may restore them.
    if (
        incident is None
        or incident.deleted_at is None
        or not policy.may_restore(viewer(), incident)
    ):
        abort(404)
    incident.deleted_at = None
    audit.record(session, "restore", user=viewer(), target=incident, detail={"undeleted": True})
    flash(_("Incident %(reference)s was restored.", reference=incident.reference), "info")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


def labels() -> dict[str, Any]:
    """Vocabulary label lookups for templates, in the viewer's language."""
    locale = current_locale()
    return {
        "vocabularies": VOCABULARIES,
        "label": lambda vocabulary, code: vocabulary.label(code, locale) if code else "",
        "country_name": lambda country: country.name(locale) if country else "",
    }


bp.app_context_processor(labels)
