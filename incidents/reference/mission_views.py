"""The missions' admin pages: the list, adding a mission or a country's other UN presence,
changing, closing and deleting one, and its earlier versions. Admins only; every other
signed-in user reads the missions through the API and the incident forms."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth.access import requires, viewer
from capdb import db
from capdb.i18n import current_locale
from capdb.reference import ACRONYM, ACRONYM_MAX, Country, Mission, MissionVersion
from capdb.vocabularies import MISSION_KIND
from incidents import policy_reference
from incidents.errors import InputError, StaleEditError
from incidents.reference import missions
from incidents.reference.mission_forms import CloseForm, MissionForm, PresenceForm

bp = Blueprint(
    "missions_admin", __name__, template_folder="templates", url_prefix="/admin/missions"
)

# Re-rendered forms answer 422 (invalid) or 409 (stale or in use): the request rolls back.
INVALID = 422
CONFLICT = 409
keeps = requires(policy_reference.may_keep_reference_data)


def mission_or_404(code: str) -> Mission:
    mission = None
    if len(code) <= ACRONYM_MAX and ACRONYM.fullmatch(code):
        mission = db.session().get(Mission, code)
    if mission is None:
        abort(404)
    return mission


@bp.get("")
@keeps
def index() -> str:
    session = db.session()
    rows = list(session.scalars(sa.select(Mission).order_by(Mission.code)))
    presence = PresenceForm()
    presence.fill_choices(session, current_locale())
    countries = {c.code: c for c in session.scalars(sa.select(Country))}
    return render_template(
        "reference/missions.html",
        missions=rows,
        presence=presence,
        countries=countries,
        KINDS=MISSION_KIND,
    )


@bp.route("/new", methods=["GET", "POST"])
@keeps
def new() -> str | Response | tuple[str, int]:
    session = db.session()
    form = MissionForm()
    form.fill_choices(session, current_locale())
    if not form.validate_on_submit():
        return _page("reference/mission_new.html", form, form.is_submitted())
    values, unread = form.values()
    try:
        if unread:
            raise missions.MissionError(unread)
        mission = missions.add_mission(session, values, by=viewer())
    except InputError as error:
        form.show(error)
        return _page("reference/mission_new.html", form, True)
    flash(_("The mission %(code)s was added.", code=mission.code), "info")
    return redirect(url_for("missions_admin.edit", code=mission.code))


def _page(
    template: str, form: MissionForm, submitted: bool, **context: object
) -> str | tuple[str, int]:
    page = render_template(template, form=form, **context)
    return (page, INVALID) if submitted else page


def _detail(mission: Mission, form: MissionForm | None = None, **context: object) -> str:
    session = db.session()
    if form is None:
        form = MissionForm(formdata=None, data=MissionForm.data_of(mission))
        form.fill_choices(session, current_locale(), exclude=mission.code)
    close = context.pop("close", None) or CloseForm(
        formdata=None, data={"version": str(mission.version)}
    )
    versions = session.scalars(
        sa.select(MissionVersion)
        .where(MissionVersion.mission_code == mission.code)
        .order_by(MissionVersion.id.desc())
    )
    return render_template(
        "reference/mission_edit.html",
        mission=mission,
        form=form,
        close=close,
        uses=missions.uses_of(session, mission),
        versions=list(versions),
        **context,
    )


@bp.route("/<code>", methods=["GET", "POST"])
@keeps
def edit(code: str) -> str | Response | tuple[str, int]:
    session = db.session()
    mission = mission_or_404(code)
    if request.method == "GET":
        return _detail(mission)
    form = MissionForm()
    form.fill_choices(session, current_locale(), exclude=mission.code)
    form.code.data = mission.code
    if not form.validate():
        return _detail(mission, form), INVALID
    values, unread = form.values()
    try:
        if unread:
            raise missions.MissionError(unread)
        changed = missions.update_mission(
            session, mission, values, by=viewer(), expected_version=form.expected_version()
        )
    except StaleEditError:
        return _stale(mission)
    except InputError as error:
        form.show(error)
        return _detail(mission, form), INVALID
    if changed:
        flash(_("The mission %(code)s was saved.", code=mission.code), "info")
    return redirect(url_for("missions_admin.edit", code=mission.code))


def _stale(mission: Mission) -> tuple[str, int]:
    db.session().rollback()
    flash(
        _(
            "Someone else changed this mission since you opened it. Nothing was saved; "
            "review the current values and try again."
        ),
        "error",
    )
    return _detail(mission), CONFLICT


@bp.post("/<code>/close")
@keeps
def close(code: str) -> str | Response | tuple[str, int]:
    mission = mission_or_404(code)
    form = CloseForm()
    if not form.validate_on_submit():
        return _detail(mission, close=form), INVALID
    expected = int(form.version.data) if (form.version.data or "").isdigit() else -1
    try:
        missions.close_mission(
            db.session(), mission, form.ended_on.data, by=viewer(), expected_version=expected
        )
    except StaleEditError:
        return _stale(mission)
    except InputError as error:
        form.ended_on.errors = [*form.ended_on.errors, *error.problems.values()]
        return _detail(mission, close=form), INVALID
    flash(_("The mission %(code)s was closed.", code=mission.code), "info")
    return redirect(url_for("missions_admin.edit", code=mission.code))


@bp.post("/<code>/delete")
@keeps
def delete(code: str) -> str | Response | tuple[str, int]:
    mission = mission_or_404(code)
    try:
        missions.delete_mission(
            db.session(), mission, by=viewer(), expected_version=mission.version
        )
    except missions.MissionInUseError as error:
        flash(error.message, "error")
        return _detail(mission), CONFLICT
    flash(_("The mission %(code)s was deleted.", code=code), "info")
    return redirect(url_for("missions_admin.index"))


@bp.post("/presences")
@keeps
def add_presence() -> Response:
    form = PresenceForm()
    form.fill_choices(db.session(), current_locale())
    if not form.validate_on_submit():
        flash(_("Choose a country from the list."), "error")
        return redirect(url_for("missions_admin.index"))
    try:
        mission, added = missions.presence_in(db.session(), form.country.data or "", by=viewer())
    except InputError as error:
        for reason in error.problems.values():
            flash(reason, "error")
        return redirect(url_for("missions_admin.index"))
    if added:
        flash(_("The mission %(code)s was added.", code=mission.code), "info")
    return redirect(url_for("missions_admin.edit", code=mission.code))
