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
from capdb.i18n import current_locale
from capdb.reference import Country
from capdb.vocabularies import (
    JUDICIAL_STAGE,
    MEANS_OF_ATTACK,
    OUTCOME,
    VERIFICATION_STATUS,
    VOCABULARIES,
)
from incidents import history, policy
from incidents.comments.threads import comment_panel
from incidents.filters import (
    DEFAULT_PER_PAGE,
    DEFAULT_SORT,
    SORTS,
    CursorError,
    IncidentFilters,
    page_of,
    scoped_incidents,
)
from incidents.justice.cases import case_panel
from incidents.models import Incident, Victim
from incidents.policy import incident_or_404, sees_victim_identity
from incidents.recording.service import missions_among

bp = Blueprint("incidents", __name__, template_folder="../templates", url_prefix="/incidents")


@bp.get("/")
def index() -> tuple[str, int]:
    session = db.session()
    filters, errors = IncidentFilters.parse(session, request.args)
    sort = request.args.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        errors["sort"] = _("Unknown sort order.")
        sort = DEFAULT_SORT
    page = None
    if not errors:
        try:
            page = page_of(
                session,
                scoped_incidents(viewer(), filters),
                sort=sort,
                cursor=request.args.get("cursor"),
                per_page=DEFAULT_PER_PAGE,
            )
        except CursorError as error:
            errors["cursor"] = str(error)
    context = {
        "filters": filters,
        "errors": errors,
        "sort": sort,
        "page": page,
        "casualties": casualties(session, page.items) if page else {},
        "choices": filter_choices(session, viewer()),
    }
    return render_template("incidents/index.html", **context), 400 if errors else 200


def casualties(session: sa.orm.Session, incidents: list[Incident]) -> dict[int, dict[str, int]]:
    """Victims per outcome for each incident of a page, in one query."""
    ids = [incident.id for incident in incidents]
    rows = session.execute(
        sa.select(Victim.incident_id, Victim.outcome, sa.func.count())
        .where(Victim.incident_id.in_(ids), Victim.deleted_at.is_(None))
        .group_by(Victim.incident_id, Victim.outcome)
    )
    counts: dict[int, dict[str, int]] = {incident_id: {} for incident_id in ids}
    for incident_id, outcome, count in rows:
        counts[incident_id][outcome] = count
    return counts


def filter_choices(session: sa.orm.Session, user: User) -> dict[str, list[tuple[str, str]]]:
    """The options of the filter form, labelled in the viewer's language."""
    locale = current_locale()
    missions = missions_among(session, policy.missions_seen(user))
    return {
        "mission": [(m.code, m.code) for m in missions],
        "state": country_choices(session, locale),
        "means_of_attack": [(t.code, t.label(locale)) for t in MEANS_OF_ATTACK],
        "outcome": [(t.code, t.label(locale)) for t in OUTCOME],
        "stage": [(t.code, t.label(locale)) for t in JUDICIAL_STAGE],
        "status": [(t.code, t.label(locale)) for t in VERIFICATION_STATUS],
    }


def country_choices(session: sa.orm.Session, locale: str) -> list[tuple[str, str]]:
    """Every country by name in the locale; reference data, so kept for the process."""
    if locale not in _country_choices:
        countries = session.execute(sa.select(Country.code, Country.name_en, Country.name_fr))
        named = ((code, fr if locale == "fr" else en) for code, en, fr in countries)
        _country_choices[locale] = sorted(named, key=lambda choice: choice[1])
    return _country_choices[locale]


_country_choices: dict[str, list[tuple[str, str]]] = {}


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
        editors=emails(session, {c.replaced.replaced_by_id for c in everyone}),
    )


def emails(session: sa.orm.Session, user_ids: set[int | None]) -> dict[int, str]:
    ids = [user_id for user_id in user_ids if user_id is not None]
    return dict(session.execute(sa.select(User.id, User.email).where(User.id.in_(ids))).all())


@bp.post("/<int:incident_id>/history/<int:version>/restore")
def restore_version(incident_id: int, version: int) -> Response:
    session = db.session()
    incident = incident_allowed(incident_id, policy.may_restore)
    if request.form.get("current_version") != str(incident.version):
        flash(
            _("The incident changed since you opened its history; nothing was restored."), "error"
        )
        return redirect(url_for("incidents.record_history", incident_id=incident_id))
    try:
        history.restore(session, incident, version)
    except LookupError:
        abort(404)
    audit.record(session, "restore", user=viewer(), target=incident, detail={"version": version})
    flash(_("Version %(version)d was restored as a new version.", version=version), "info")
    return redirect(url_for("incidents.detail", incident_id=incident_id))


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
