"""Saved views: naming the filter of the list, the map or the trends page, to open it again.

A view keeps the page's query arguments (the incident filter, and the page's own choice of
order, measure or period), never data: opening one sends the user to the page with them,
which reads them through the user's own scope, as any filter. Who sees, shares and removes
views is the policy's (:mod:`incidents.policy_saved`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import abort, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from auth.models import User
from capdb.db import MAX_ID
from incidents import policy
from incidents.errors import InputError, NotAllowedError
from incidents.filters import FILTER_FIELDS, IncidentFilters
from incidents.models import SAVED_VIEW_PAGES, SavedView

MAX_NAME = 80
MAX_QUERY = 2000
# The page each view opens, and what that page takes beside the filter.
ENDPOINTS = {"list": "incidents.index", "map": "maps.index", "trends": "trends.index"}
PAGE_ARGUMENTS = {"list": ("sort",), "map": ("measure",), "trends": ("period", "today_states")}
MAX_VALUE = 40


def views_for(db: Session, user: User, page: str | None = None) -> list[SavedView]:
    """The views the user may open (of one page, or all), by page and name."""
    query = sa.select(SavedView).where(policy.visible_saved_views(user))
    if page is not None:
        query = query.where(SavedView.page == page)
    return list(db.scalars(query.order_by(SavedView.page, sa.func.lower(SavedView.name))))


def view_or_404(db: Session, user: User, view_id: int) -> SavedView:
    view = None
    if 0 < view_id <= MAX_ID:
        view = db.scalar(
            sa.select(SavedView).where(SavedView.id == view_id, policy.visible_saved_views(user))
        )
    if view is None:
        abort(404)
    return view


def url_of(view: SavedView) -> str:
    """Where the view opens: its page with its query (an empty one as ``q=``, so that the
    page does not apply its preset instead)."""
    query: dict[str, Any] = dict(view.query) or {"q": ""}
    return url_for(ENDPOINTS[view.page], **query)


def read_query(db: Session, page: str, text: str) -> dict[str, str]:
    """The arguments of a query string worth keeping for the page: the filter, checked as
    every page checks it, and the page's own arguments; anything else is left out."""
    if len(text) > MAX_QUERY:
        raise InputError({"query": _("This view holds too long a filter.")})
    args = MultiDict(parse_qsl(text, keep_blank_values=False))
    filters, errors = IncidentFilters.parse(db, args)
    if errors:
        raise InputError({"query": _("The filter of this view is not valid; correct it first.")})
    kept = filters.as_args()
    for name in PAGE_ARGUMENTS.get(page, ()):
        value = (args.get(name) or "").strip()
        if value and len(value) <= MAX_VALUE and value.isprintable():
            kept[name] = value
    return kept


def _check_name(db: Session, user: User, page: str, name: str) -> None:
    if not name:
        raise InputError({"name": _("Give the view a name.")})
    if len(name) > MAX_NAME or not name.isprintable():
        raise InputError({"name": _("At most %(count)d characters.", count=MAX_NAME)})
    taken = sa.exists().where(
        SavedView.owner_id == user.id,
        SavedView.page == page,
        sa.func.lower(SavedView.name) == name.lower(),
    )
    if db.scalar(sa.select(taken)):
        raise InputError({"name": _("You already have a view of this name on this page.")})


def save(
    db: Session, user: User, page: str, name: str, query: Mapping[str, str], *, shared: bool
) -> SavedView:
    """Keep the query under the name, for the user (and the other analysts if shared)."""
    if page not in SAVED_VIEW_PAGES:
        raise InputError({"page": _("Unknown page.")})
    if shared and not policy.may_share_views(user):
        raise NotAllowedError
    name = " ".join(name.split())
    _check_name(db, user, page, name)
    known = {field.name for field in FILTER_FIELDS} | set(PAGE_ARGUMENTS[page])
    view = SavedView(
        owner_id=user.id,
        page=page,
        name=name,
        query={k: v for k, v in query.items() if k in known},
        shared=shared,
    )
    db.add(view)
    db.flush()
    return view


def delete(db: Session, user: User, view: SavedView) -> None:
    if not policy.may_delete_view(user, view):
        raise NotAllowedError
    db.delete(view)
    db.flush()
