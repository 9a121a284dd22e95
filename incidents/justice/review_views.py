"""The mission's review of a case a Member State opened and of the defendants it added.

Each route loads the case through the access rule (404 when out of scope), then its
defendant, then asks the policy whether the viewer reviews it (403). A rejection without a
reason shows the case page again with the reason's field marked (422).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth.access import allowed_or_403, viewer
from capdb.clock import now
from capdb.db import session
from incidents import policy
from incidents.errors import InputError, NotAllowedError
from incidents.justice import review
from incidents.justice.forms import RejectForm
from incidents.justice.views import INVALID, Page, case_of, case_page
from incidents.models import JudicialCase

bp = Blueprint("case_reviews", __name__)


def reviewed(case_id: int, defendant_id: int | None) -> tuple[JudicialCase, review.Reviewed]:
    """The case (and its defendant), 404 unless the viewer sees them; 403 unless the viewer
    may review the record (or it is no longer pending: the service says so)."""
    case = case_of(case_id)
    record: review.Reviewed = case
    if defendant_id is not None:
        record = policy.defendant_or_404(session(), viewer(), case, defendant_id)
    allowed_or_403(review.goes_to_review(viewer(), record))
    return case, record


def validated(case: JudicialCase, record: review.Reviewed) -> Response:
    try:
        review.validate(session(), viewer(), record, at=now())
    except NotAllowedError:
        abort(403)
    except InputError as error:
        for reason in error.problems.values():
            flash(reason, "error")
    else:
        flash(_("It was validated: it now counts for everyone who sees the case."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


def rejected(case: JudicialCase, record: review.Reviewed, key: str) -> Page:
    form = RejectForm()
    if not form.validate():
        return case_page(case, reject_form=form, rejecting=key, status=INVALID)
    try:
        review.reject(session(), viewer(), record, form.reason.data or "", at=now())
    except NotAllowedError:
        abort(403)
    except InputError as error:
        if "reason" not in error.problems:
            for reason in error.problems.values():
                flash(reason, "error")
            return redirect(url_for("cases.detail", case_id=case.id))
        form.show(error)
        return case_page(case, reject_form=form, rejecting=key, status=INVALID)
    flash(_("It was rejected; the reason is shown to the prosecuting State."), "info")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.post("/cases/<int:case_id>/validate")
def validate_case(case_id: int) -> Response:
    return validated(*reviewed(case_id, None))


@bp.post("/cases/<int:case_id>/reject")
def reject_case(case_id: int) -> Page:
    return rejected(*reviewed(case_id, None), "case")


@bp.post("/cases/<int:case_id>/defendants/<int:defendant_id>/validate")
def validate_defendant(case_id: int, defendant_id: int) -> Response:
    return validated(*reviewed(case_id, defendant_id))


@bp.post("/cases/<int:case_id>/defendants/<int:defendant_id>/reject")
def reject_defendant(case_id: int, defendant_id: int) -> Page:
    return rejected(*reviewed(case_id, defendant_id), f"defendant-{defendant_id}")
