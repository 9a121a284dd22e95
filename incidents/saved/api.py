"""Saved views through the API: the views the token's user may open, saving one, removing
one. A view holds query arguments only; the list, map and trends paths read them through
the user's scope like any filter."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validate

from incidents import policy
from incidents.api.access import allowed_or_403, session, viewer
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort, refused
from incidents.api.idempotency import idempotent
from incidents.api.schemas import Schema, Text, at_most
from incidents.errors import InputError, NotAllowedError
from incidents.models import SAVED_VIEW_PAGES, SavedView
from incidents.saved import service

blp = api_blueprint("api_saved_views", __name__, "Saved views: named filters of the pages.")


class SavedViewSchema(Schema):
    id = fields.Integer(required=True)
    page = fields.String(required=True, validate=validate.OneOf(SAVED_VIEW_PAGES))
    name = fields.String(required=True)
    query = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        required=True,
        metadata={"description": "The query arguments the page opens with."},
    )
    shared = fields.Boolean(required=True)
    mine = fields.Boolean(required=True)


class SavedViewList(Schema):
    items = fields.List(fields.Nested(SavedViewSchema), required=True)


class SavedViewInput(Schema):
    page = Text(required=True, validate=validate.OneOf(SAVED_VIEW_PAGES))
    name = Text(required=True, validate=at_most(service.MAX_NAME))
    query = Text(
        load_default="",
        validate=at_most(service.MAX_QUERY),
        metadata={"description": "A query string, e.g. state=MLI&date_from=2021-01-01."},
    )
    shared = fields.Boolean(load_default=False)


def resource(view: SavedView) -> dict[str, Any]:
    return {
        "id": view.id,
        "page": view.page,
        "name": view.name,
        "query": view.query,
        "shared": view.shared,
        "mine": view.owner_id == viewer().id,
    }


@blp.route("/saved-views", methods=["GET"])
@blp.response(200, SavedViewList)
def list_views() -> dict[str, Any]:
    """The user's views, and those other analysts share with an analyst."""
    return {"items": [resource(v) for v in service.views_for(session(), viewer())]}


@blp.route("/saved-views", methods=["POST"])
@idempotent
@blp.arguments(SavedViewInput)
@blp.response(201, SavedViewSchema)
def save_view(values: dict[str, Any]) -> dict[str, Any]:
    """Name a filter of a page; analysts may share it with the other analysts."""
    db, user = session(), viewer()
    try:
        query = service.read_query(db, values["page"], values["query"])
        view = service.save(
            db, user, values["page"], values["name"], query, shared=values["shared"]
        )
    except NotAllowedError:
        abort(403)
    except InputError as error:
        refused(error)
    return resource(view)


@blp.route("/saved-views/<int:view_id>", methods=["DELETE"])
@blp.response(204)
def delete_view(view_id: int) -> None:
    """Remove one of the user's own views."""
    db, user = session(), viewer()
    view = service.view_or_404(db, user, view_id)
    allowed_or_403(policy.may_delete_view(user, view))
    service.delete(db, user, view)
