"""The comment pages of incidents and cases: the thread, posting, answering a request.

Every view loads the incident or case through the access rule first (404 when out of
scope); what the user reads of the thread is decided by ``incidents.policy``. Invalid
posts are shown again with 422.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth.access import allowed_or_403, viewer
from capdb.db import session
from capdb.i18n import current_locale
from capdb.safe_redirect import safe_next
from incidents import policy
from incidents.comments import threads as comments
from incidents.comments.forms import AnswerForm, CommentForm
from incidents.errors import InputError, NotAllowedError
from incidents.models import Incident, JudicialCase
from incidents.policy import case_or_404, incident_or_404

bp = Blueprint("comments", __name__, template_folder="../templates")

INVALID = 422
Page = str | Response | tuple[str, int]


def back_to(next_value: str | None, fallback: str) -> str:
    """The page a form came from when it is one of ours, otherwise the fallback."""
    if next_value and safe_next(next_value) == next_value:
        return next_value
    return fallback


# Comments -----------------------------------------------------------------------------------


def comments_page(
    subject: Incident | JudicialCase, panel: dict[str, Any], status: int = 200
) -> tuple[str, int]:
    if isinstance(subject, Incident):
        title = _("Comments on incident %(reference)s", reference=subject.reference)
        back = url_for("incidents.detail", incident_id=subject.id)
    else:
        title = _("Comments on %(case)s", case=subject.title())
        back = url_for("cases.detail", case_id=subject.id)
    page = render_template(
        "incidents/case_comments.html", title=title, back=back, comment_panel=panel
    )
    return page, status


def comments_url(subject: Incident | JudicialCase) -> str:
    if isinstance(subject, Incident):
        return url_for("comments.incident_comments", incident_id=subject.id)
    return url_for("comments.case_comments", case_id=subject.id)


def panel_of(subject: Incident | JudicialCase) -> dict[str, Any]:
    if isinstance(subject, Incident):
        return comments.comment_panel(session(), viewer(), subject)
    return comments.case_comment_panel(session(), viewer(), subject)


def post_comment(subject: Incident | JudicialCase) -> Page:
    user = viewer()
    allowed_or_403(policy.may_comment(user, subject))
    form = CommentForm()
    form.fill_choices(current_locale())
    fallback = comments_url(subject)
    try:
        if not form.validate():
            raise InputError(
                {name: " ".join(map(str, errors)) for name, errors in form.errors.items()}
            )
        comments.post_comment(
            session(), user, subject, kind=form.kind.data or "", body=form.body.data or ""
        )
    except InputError as error:
        panel = panel_of(subject)
        panel["errors"] = error.problems
        panel["draft"] = {"kind": form.kind.data or "comment", "body": form.body.data or ""}
        return comments_page(subject, panel, INVALID)
    flash(_("Your message was posted."), "info")
    return redirect(back_to(form.next.data, fallback) + "#comments")


def answer_comment(subject: Incident | JudicialCase, comment_id: int) -> Page:
    user = viewer()
    # The comment first (404 unless the viewer reads it), then what the viewer may do.
    asked = comments.comment_or_none(session(), user, subject, comment_id)
    if asked is None:
        abort(404)
    allowed_or_403(policy.may_comment(user, subject))
    form = AnswerForm()
    fallback = comments_url(subject)
    try:
        if not form.validate():
            raise InputError({"answer": " ".join(map(str, form.errors.get("answer", [])))})
        comments.answer_request(session(), user, subject, asked, form.answer.data or "")
    except NotAllowedError:
        abort(403)
    except InputError as error:
        panel = panel_of(subject)
        reason = " ".join(error.problems.values())
        if asked.id in panel["answer_urls"]:
            panel["answer_errors"] = {asked.id: reason}
        else:
            flash(reason, "error")
        return comments_page(subject, panel, INVALID)
    flash(_("Your answer was posted."), "info")
    return redirect(back_to(form.next.data, fallback) + "#comments")


@bp.get("/incidents/<int:incident_id>/comments")
def incident_comments(incident_id: int) -> Page:
    incident = incident_or_404(session(), viewer(), incident_id)
    allowed_or_403(policy.may_comment(viewer(), incident))
    return comments_page(incident, panel_of(incident))


@bp.post("/incidents/<int:incident_id>/comments")
def post_incident_comment(incident_id: int) -> Page:
    return post_comment(incident_or_404(session(), viewer(), incident_id))


@bp.post("/incidents/<int:incident_id>/comments/<int:comment_id>/answer")
def answer_incident_comment(incident_id: int, comment_id: int) -> Page:
    return answer_comment(incident_or_404(session(), viewer(), incident_id), comment_id)


@bp.get("/cases/<int:case_id>/comments")
def case_comments(case_id: int) -> Page:
    case = case_or_404(session(), viewer(), case_id)
    allowed_or_403(policy.may_comment(viewer(), case))
    return comments_page(case, panel_of(case))


@bp.post("/cases/<int:case_id>/comments")
def post_case_comment(case_id: int) -> Page:
    return post_comment(case_or_404(session(), viewer(), case_id))


@bp.post("/cases/<int:case_id>/comments/<int:comment_id>/answer")
def answer_case_comment(case_id: int, comment_id: int) -> Page:
    return answer_comment(case_or_404(session(), viewer(), case_id), comment_id)
