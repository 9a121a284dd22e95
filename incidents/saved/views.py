"""Saved views: the menu of the user's views, saving the filter on screen, opening and
removing a view. Opening one sends the user to its page with its query, which the page
reads through the user's own scope."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth.access import allowed_or_403, viewer
from auth.models import User
from capdb.db import session
from incidents import policy
from incidents.errors import InputError, NotAllowedError
from incidents.models import SavedView
from incidents.saved import service
from incidents.saved.forms import SaveViewForm

bp = Blueprint("saved_views", __name__, template_folder="../templates", url_prefix="/views")

INVALID = 422


def menu(form: SaveViewForm | None = None, status: int = 200) -> tuple[str, int]:
    user = viewer()
    page = render_template(
        "incidents/saved_views.html",
        views=service.views_for(session(), user),
        form=form,
        owner_label=lambda view: policy.person_label(user, view.owner),
        view_url=service.url_of,
    )
    return page, status


@bp.get("/")
def index() -> tuple[str, int]:
    return menu()


@bp.post("/")
def save() -> Response | tuple[str, int]:
    user = viewer()
    form = SaveViewForm()
    if not form.validate_on_submit():
        return menu(form, INVALID)
    page = form.page.data or ""
    try:
        query = service.read_query(session(), page, form.query_text())
        view = service.save(
            session(), user, page, form.name.data or "", query, shared=form.shared.data
        )
    except NotAllowedError:
        abort(403)
    except InputError as error:
        for reason in form.show(error):
            flash(reason, "error")
        return menu(form, INVALID)
    flash(_("The view %(name)s was saved.", name=view.name), "info")
    return redirect(service.url_of(view))


@bp.get("/<int:view_id>")
def open_view(view_id: int) -> Response:
    return redirect(service.url_of(service.view_or_404(session(), viewer(), view_id)))


@bp.post("/<int:view_id>/delete")
def delete(view_id: int) -> Response:
    user = viewer()
    view = service.view_or_404(session(), user, view_id)
    allowed_or_403(policy.may_delete_view(user, view))
    service.delete(session(), user, view)
    flash(_("The view %(name)s was removed.", name=view.name), "info")
    return redirect(url_for("saved_views.index"))


def saved_views_for(page: str) -> list[SavedView]:
    """The viewer's views of one page, for the filter pages' menu of views."""
    user: User = viewer()
    if not user.is_authenticated:
        return []
    return service.views_for(session(), user, page)


def template_helpers() -> dict[str, Any]:
    return {
        "saved_views_for": saved_views_for,
        "may_share_views": lambda: policy.may_share_views(viewer()),
    }


bp.app_context_processor(template_helpers)
