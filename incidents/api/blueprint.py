"""What every API blueprint shares: its prefix, JSON errors, and how it is guarded
against forged requests.

The API takes bearer tokens, which a browser never sends on its own, so its blueprints
are exempt from the form's CSRF guard. A change may also come from capdb's own pages (the
offline outbox sends the incidents recorded without a link) on the browser's session:
such a request must carry the session's CSRF token in the ``X-CSRFToken`` header, which
another site can neither read nor set. A change relying on the cookie alone is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar, cast

from flask import Request, Response, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint
from flask_wtf.csrf import validate_csrf
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from capdb.security import csrf
from incidents.api.errors import abort, json_error

PREFIX = "/api/v1"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRFToken"

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
    if authorization is not None and authorization.type == "bearer":
        return
    if authorization is None and current_user.is_authenticated and _carries_csrf_token():
        return
    abort(
        401,
        message=_("Changes through the API need an API token, sent as a bearer token."),
        headers={"WWW-Authenticate": 'Bearer realm="capdb"'},
    )


def _carries_csrf_token() -> bool:
    """Whether the request carries this browser session's CSRF token in its header."""
    try:
        validate_csrf(request.headers.get(CSRF_HEADER))
    except ValidationError:
        return False
    return True


def no_store(response: Response) -> Response:
    # Answers carry case data: no cache along the way may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response
