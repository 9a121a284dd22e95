"""Judicial cases, their defendants and stages, and capacity-building assistance.

The comment pages are in :mod:`incidents.comments.views`.

Every view loads its record through the access rule first (404 when out of scope), then
checks what the user may change (403). Invalid forms are shown again with 422 and stale
ones with 409, so that the request rolls back and nothing half-done is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth.access import allowed_or_403, requires, viewer
from auth.models import User
from capdb.clock import now
from capdb.db import MAX_ID, session
from capdb.i18n import current_locale
from capdb.vocabularies import ASSISTANCE_KIND
from incidents import policy
from incidents.comments import threads as comments
from incidents.errors import InputError, NotAllowedError, StaleEditError
from incidents.justice import assistance, case_pages, cases, stages
from incidents.justice.forms import (
    AssistanceForm,
    CaseForm,
    DefendantForm,
    EditCaseForm,
    RejectForm,
    ServiceForm,
    StageEventForm,
)
from incidents.models import CapacityAssistance, Defendant, Incident, JudicialCase, StageEvent
from incidents.policy import assistance_or_404, case_or_404, incident_or_404

bp = Blueprint("cases", __name__, template_folder="../templates")

INVALID = 422
CONFLICT = 409

Page = str | Response | tuple[str, int]


def flash_unplaced(form: ServiceForm, error: InputError) -> None:
    for reason in form.show(error):
        flash(reason, "error")


def stale_message(what: str) -> str:
    """Why a stale edit was refused, and what the form now shows."""
    reasons = {
        "case": _("Someone else changed this case after you opened the form."),
        "defendant": _("Someone else changed this defendant after you opened the form."),
        "assistance": _("Someone else changed this record after you opened the form."),
    }
    return " ".join(
        [
            reasons[what],
            _("Your changes were not saved. The form now shows the current values."),
        ]
    )


def forget_failed_changes() -> None:
    # A refused write may leave the session unusable; what it held is dropped anyway,
    # since the request answers with an error status and rolls back.
    session().rollback()


# Cases --------------------------------------------------------------------------------------


def case_of(case_id: int) -> JudicialCase:
    return case_or_404(session(), viewer(), case_id)


def incident_arg() -> Incident:
    value = request.args.get("incident", "")
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        abort(404)
    return incident_or_404(session(), viewer(), int(value))


def jurisdiction_placeholder(form: CaseForm) -> None:
    form.jurisdiction.choices = [("", "—"), *form.jurisdiction.choices]


@bp.route("/cases/new", methods=["GET", "POST"])
def new_case() -> Page:
    user = viewer()
    incident = incident_arg()
    allowed_or_403(policy.may_open_case(user, incident))
    form = CaseForm()
    form.fill_choices(session(), current_locale())
    jurisdiction_placeholder(form)
    national = not policy.keeps_record_of(user, incident)
    if national:
        # A focal point opens the cases its own State prosecutes.
        form.prosecuting_state.choices = [
            c for c in form.prosecuting_state.choices if c[0] == user.state_code
        ]
    if not form.is_submitted():
        form.prosecuting_state.data = user.state_code if national else incident.country_code
        return case_form_page(form, incident, False)
    valid = form.validate_on_submit()
    try:
        # Resolved even when other fields are invalid, so that every reason shows at once.
        references = [r for r in typed_references(form) if r != incident.reference.upper()]
        others = cases.incidents_by_reference(session(), user, references)
        if not valid:
            return case_form_page(form, incident, True)
        case = cases.open_case(session(), user, [incident, *others], form.case_fields())
    except InputError as error:
        flash_unplaced(form, error)
        return case_form_page(form, incident, True)
    flash(_("The case was opened."), "info")
    if case.review_status == "pending":
        flash(_("It stays pending until a mission officer validates it."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


def typed_references(form: CaseForm) -> list[str]:
    """The references typed in the form; none when the field was refused already (its
    text may be anything, NUL characters included, which no query may be given)."""
    if form.other_incidents.errors:
        return []
    return cases.parse_references(form.other_incidents.data)


def case_form_page(
    form: CaseForm, incident: Incident | None, invalid: bool, *, case: JudicialCase | None = None
) -> tuple[str, int]:
    national = incident is not None and not policy.keeps_record_of(viewer(), incident)
    page = render_template(
        "incidents/case_form.html", form=form, incident=incident, case=case, national=national
    )
    return page, INVALID if invalid else 200


@bp.get("/cases/<int:case_id>")
def detail(case_id: int) -> str:
    return case_page(case_of(case_id))[0]


def case_page(
    case: JudicialCase,
    *,
    reject_form: RejectForm | None = None,
    rejecting: int | str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    user = viewer()
    page = render_template(
        "incidents/case_detail.html",
        dossier=case_pages.dossier(session(), user, case, on_day=cases.today()),
        comment_panel=comments.case_comment_panel(session(), user, case),
        reject_form=reject_form or RejectForm(formdata=None),
        rejecting=rejecting,
    )
    return page, status


def fill_case_form(form: EditCaseForm, case: JudicialCase) -> None:
    form.prosecuting_state.data = case.prosecuting_state_code
    form.jurisdiction.data = case.jurisdiction
    form.national_reference.data = case.national_reference or ""
    form.charges.data = case.charges
    form.other_incidents.data = ""
    form.version.data = str(case.version)


@bp.route("/cases/<int:case_id>/edit", methods=["GET", "POST"])
def edit_case(case_id: int) -> Page:
    user = viewer()
    case = case_of(case_id)
    allowed_or_403(policy.may_edit_case(user, case))
    form = EditCaseForm()
    form.fill_choices(session(), current_locale())
    if not form.is_submitted():
        fill_case_form(form, case)
        return case_form_page(form, None, False, case=case)
    valid = form.validate_on_submit()
    try:
        more = cases.incidents_by_reference(session(), user, typed_references(form))
        if not valid:
            return case_form_page(form, None, True, case=case)
        cases.update_case(
            session(),
            user,
            case,
            form.case_fields(),
            version=form.expected_version(),
            more_incidents=more,
        )
    except InputError as error:
        flash_unplaced(form, error)
        return case_form_page(form, None, True, case=case)
    except StaleEditError:
        forget_failed_changes()
        fresh = EditCaseForm(formdata=None)
        fresh.fill_choices(session(), current_locale())
        fill_case_form(fresh, case)
        flash(stale_message("case"), "error")
        return case_form_page(fresh, None, False, case=case)[0], CONFLICT
    flash(_("The case was saved."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


# Defendants ----------------------------------------------------------------------------------


def defendant_of(case: JudicialCase, defendant_id: int) -> Defendant:
    """The case's defendant, 404 unless the viewer sees it; what the viewer may do with it
    is asked afterwards, of the defendant."""
    return policy.defendant_or_404(session(), viewer(), case, defendant_id)


def defendant_form_page(
    form: DefendantForm, case: JudicialCase, defendant: Defendant | None, status: int
) -> tuple[str, int]:
    page = render_template(
        "incidents/case_defendant_form.html", form=form, case=case, defendant=defendant
    )
    return page, status


@bp.route("/cases/<int:case_id>/defendants/new", methods=["GET", "POST"])
def new_defendant(case_id: int) -> Page:
    user = viewer()
    case = case_of(case_id)
    allowed_or_403(policy.may_add_defendant(user, case))
    form = DefendantForm()
    if not form.validate_on_submit():
        return defendant_form_page(form, case, None, INVALID if form.is_submitted() else 200)
    try:
        defendant = cases.add_defendant(session(), user, case, form.defendant_fields())
    except InputError as error:
        flash_unplaced(form, error)
        return defendant_form_page(form, case, None, INVALID)
    flash(_("The defendant was added."), "info")
    if defendant.review_status == "pending":
        flash(_("It stays pending until a mission officer validates it."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


def fill_defendant_form(form: DefendantForm, defendant: Defendant) -> None:
    for name in ("alias", "identifier", "affiliation", "verdict", "sentence", "sentence_months"):
        form[name].data = getattr(defendant, name)
    form.version.data = str(defendant.version)


@bp.route("/cases/<int:case_id>/defendants/<int:defendant_id>/edit", methods=["GET", "POST"])
def edit_defendant(case_id: int, defendant_id: int) -> Page:
    user = viewer()
    case = case_of(case_id)
    defendant = defendant_of(case, defendant_id)
    allowed_or_403(policy.may_edit_defendant(user, defendant))
    form = DefendantForm()
    if not form.is_submitted():
        fill_defendant_form(form, defendant)
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return defendant_form_page(form, case, defendant, status)
    try:
        cases.update_defendant(
            session(), user, defendant, form.defendant_fields(), version=form.expected_version()
        )
    except InputError as error:
        flash_unplaced(form, error)
        return defendant_form_page(form, case, defendant, INVALID)
    except StaleEditError:
        forget_failed_changes()
        fresh = DefendantForm(formdata=None)
        fill_defendant_form(fresh, defendant)
        flash(stale_message("defendant"), "error")
        return defendant_form_page(fresh, case, defendant, CONFLICT)
    flash(_("The defendant was saved."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


# Stage events and their review -------------------------------------------------------------


@bp.route("/cases/<int:case_id>/events/new", methods=["GET", "POST"])
def new_stage_event(case_id: int) -> Page:
    user = viewer()
    case = case_of(case_id)
    allowed_or_403(policy.may_report_progress(user, case))
    defendants = cases.active_defendants(session(), user, case)
    form = StageEventForm()
    form.fill_choices(case_pages.subject_choices(user, case, defendants), current_locale())
    form.stage.choices = [("", "—"), *form.stage.choices]
    pending = not policy.keeps_case(user, case)

    def page(status: int) -> tuple[str, int]:
        html = render_template(
            "incidents/case_event_form.html", form=form, case=case, pending=pending
        )
        return html, status

    if not form.validate_on_submit():
        return page(INVALID if form.is_submitted() else 200)
    try:
        event = stages.add_stage_event(
            session(), user, case, form.event_fields(), on_day=cases.today()
        )
    except InputError as error:
        flash_unplaced(form, error)
        return page(INVALID)
    if event.review_status == "pending":
        flash(_("Your update was recorded; it counts once the mission validates it."), "info")
    else:
        flash(_("The stage was recorded."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


def event_allowed(
    case_id: int, event_id: int, verb: Callable[[User, StageEvent], bool]
) -> tuple[JudicialCase, StageEvent]:
    """The case and its stage event, 404 unless the viewer sees both; then 403 unless the
    ``verb`` allows it on the event (never on the case alone)."""
    case = case_of(case_id)
    event = policy.stage_event_or_404(session(), viewer(), case, event_id)
    allowed_or_403(verb(viewer(), event))
    return case, event


@bp.post("/cases/<int:case_id>/events/<int:event_id>/validate")
def validate_stage_event(case_id: int, event_id: int) -> Response:
    case, event = event_allowed(case_id, event_id, stages.goes_to_review)
    try:
        stages.validate_update(session(), viewer(), event, at=now())
    except NotAllowedError:
        abort(403)
    except InputError as error:
        for reason in error.problems.values():
            flash(reason, "error")
    else:
        flash(_("The update was validated."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/events/<int:event_id>/reject")
def reject_stage_event(case_id: int, event_id: int) -> Page:
    case, event = event_allowed(case_id, event_id, stages.goes_to_review)
    form = RejectForm()
    if not form.validate():
        return case_page(case, reject_form=form, rejecting=event.id, status=INVALID)
    try:
        stages.reject_update(session(), viewer(), event, form.reason.data or "", at=now())
    except NotAllowedError:
        abort(403)
    except InputError as error:
        if "reason" not in error.problems:
            for reason in error.problems.values():
                flash(reason, "error")
            return redirect(url_for("cases.detail", case_id=case.id))
        form.show(error)
        return case_page(case, reject_form=form, rejecting=event.id, status=INVALID)
    flash(_("The update was rejected."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/events/<int:event_id>/delete")
def delete_stage_event(case_id: int, event_id: int) -> Response:
    case, event = event_allowed(case_id, event_id, policy.may_delete)
    stages.delete_stage_event(session(), viewer(), event, at=now())
    flash(_("The stage event was deleted; its history keeps it."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


# Capacity-building assistance ---------------------------------------------------------------


@bp.get("/assistance/")
def assistance_list() -> tuple[str, int]:
    user = viewer()
    assistance_filter, errors = assistance.parse_filter(session(), request.args)
    groups, more = assistance.grouped_by_recipient(session(), user, assistance_filter)
    page = render_template(
        "incidents/assistance_list.html",
        groups=groups,
        more=more,
        limit=assistance.MAX_LISTED,
        assistance_filter=assistance_filter,
        errors=errors,
        choices=assistance.filter_choices(session(), user),
        may_record=policy.may_record_assistance(user),
        kind_label=kind_labeller(),
    )
    return page, 400 if errors else 200


def kind_labeller() -> Any:
    locale = current_locale()
    return lambda code: ASSISTANCE_KIND.label(code, locale)


@bp.get("/assistance/<int:record_id>")
def assistance_detail(record_id: int) -> str:
    user = viewer()
    record = assistance_or_404(session(), user, record_id)
    return render_template(
        "incidents/assistance_detail.html",
        record=record,
        linked=[(case, case.title()) for case in assistance.linked_cases(session(), user, record)],
        may_edit=policy.may_edit_assistance(user, record),
        kind_label=kind_labeller(),
    )


def assistance_form_page(
    form: AssistanceForm, record: CapacityAssistance | None, status: int
) -> tuple[str, int]:
    page = render_template("incidents/assistance_form.html", form=form, record=record)
    return page, status


def assistance_form(*, blank: bool = False) -> AssistanceForm:
    form = AssistanceForm(formdata=None) if blank else AssistanceForm()
    missions = policy.missions_for(session(), viewer())
    form.fill_choices(session(), missions, current_locale())
    form.recipient_state.choices = [("", "—"), *form.recipient_state.choices]
    return form


def save_assistance(form: AssistanceForm, record: CapacityAssistance | None) -> CapacityAssistance:
    user = viewer()
    fields = form.assistance_fields(assistance.parse_case_numbers(form.cases.data))
    if record is None:
        return assistance.create_assistance(session(), user, fields)
    assistance.update_assistance(session(), user, record, fields, version=form.expected_version())
    return record


@bp.route("/assistance/new", methods=["GET", "POST"])
@requires(policy.may_record_assistance)
def new_assistance() -> Page:
    form = assistance_form()
    if not form.validate_on_submit():
        return assistance_form_page(form, None, INVALID if form.is_submitted() else 200)
    try:
        record = save_assistance(form, None)
    except InputError as error:
        flash_unplaced(form, error)
        return assistance_form_page(form, None, INVALID)
    flash(_("The assistance was recorded."), "info")
    return redirect(url_for("cases.assistance_detail", record_id=record.id))


def fill_assistance_form(form: AssistanceForm, record: CapacityAssistance) -> None:
    user = viewer()
    form.recipient_state.data = record.recipient_state_code
    form.mission.data = record.mission_code
    form.kind.data = record.kind
    form.started_on.data = record.started_on
    form.ended_on.data = record.ended_on
    form.participants.data = record.participants
    form.description.data = record.description
    seen = assistance.linked_cases(session(), user, record)
    form.cases.data = ", ".join(str(case.id) for case in seen)
    form.version.data = str(record.version)


@bp.route("/assistance/<int:record_id>/edit", methods=["GET", "POST"])
def edit_assistance(record_id: int) -> Page:
    record = assistance_or_404(session(), viewer(), record_id)
    allowed_or_403(policy.may_edit_assistance(viewer(), record))
    form = assistance_form()
    if not form.is_submitted():
        fill_assistance_form(form, record)
    if not form.validate_on_submit():
        return assistance_form_page(form, record, INVALID if form.is_submitted() else 200)
    try:
        save_assistance(form, record)
    except InputError as error:
        flash_unplaced(form, error)
        return assistance_form_page(form, record, INVALID)
    except StaleEditError:
        forget_failed_changes()
        fresh = assistance_form(blank=True)
        fill_assistance_form(fresh, record)
        flash(stale_message("assistance"), "error")
        return assistance_form_page(fresh, record, CONFLICT)
    flash(_("The assistance record was saved."), "info")
    return redirect(url_for("cases.assistance_detail", record_id=record.id))
