"""What every API blueprint shares: its prefix, JSON errors, and why it skips CSRF.

The API takes bearer tokens, which a browser never sends on its own, so its blueprints
are exempt from the CSRF guard. That holds only if a change cannot ride on the session
cookie instead: every request that changes something must carry the Authorization
header, and one relying on the cookie is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from flask import Request, Response, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from capdb.security import csrf
from incidents.api.errors import abort, json_error

PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

F = TypeVar("F", bound=Callable[..., Any])


class ApiBlueprint(Protocol):
    """The part of flask-smorest's (untyped) Blueprint that the API uses.

    Its decorators document a view and parse its arguments; to the type checker they
    hand the view back as it was.
    """

    name: str
    description: str

    def route(self, rule: str, **options: Any) -> Callable[[F], F]: ...

    def arguments(self, schema: Any, **options: Any) -> Callable[[F], F]: ...

    def response(
        self, status_code: int, schema: Any = None, **options: Any
    ) -> Callable[[F], F]: ...

    def alt_response(self, status_code: int, **options: Any) -> Callable[[F], F]: ...

    def doc(self, **documentation: Any) -> Callable[[F], F]: ...


class JsonParser(FlaskParser):
    """webargs' parser, refusing a body nested too deeply for Python's JSON decoder."""

    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            abort(400, errors={"body": [_("The body is nested too deeply.")]})


def api_blueprint(name: str, import_name: str, description: str) -> ApiBlueprint:
    blueprint = Blueprint(name, import_name, url_prefix=PREFIX, description=description)
    blueprint.ARGUMENTS_PARSER = JsonParser()
    blueprint.register_error_handler(HTTPException, json_error)
    blueprint.before_request(require_bearer_for_changes)
    blueprint.after_request(no_store)
    csrf.exempt(blueprint)
    return cast(ApiBlueprint, blueprint)


def require_bearer_for_changes() -> None:
    if request.method in SAFE_METHODS:
        return
    authorization = request.authorization
    if authorization is None or authorization.type != "bearer":
        abort(
            401,
            message=_("Changes through the API need an API token, sent as a bearer token."),
            headers={"WWW-Authenticate": 'Bearer realm="capdb"'},
        )


def no_store(response: Response) -> Response:
    # Answers carry case data: no cache along the way may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response
