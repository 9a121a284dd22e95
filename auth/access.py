"""Who may reach which endpoint: login required by default, public endpoints by name.

Every endpoint requires a signed-in user unless its view is marked :func:`public`. Role
checks are small decorators that answer 403; whether a *record* is visible is decided by
the access rule in ``incidents.policy``, which answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from auth.models import User
from capdb.security import is_public

View = TypeVar("View", bound=Callable[..., Any])


def viewer() -> User:
    """The user behind the request: the one :func:`flask_login.current_user` proxies.

    The only definition in the application; every view, API resource, map and export asks
    it who is asking, and asks ``incidents.policy`` what that user may see and do.
    """
    user: User = current_user._get_current_object()
    return user


def allowed_or_403(allowed: bool, message: str | None = None) -> None:
    """Refuse with 403 what the policy does not allow on a record the user may see."""
    if not allowed:
        abort(403, message)


def requires(check: Callable[[User], bool]) -> Callable[[View], View]:
    """Let through only the users for whom ``check`` (a policy verb) answers True; 403 else.

    For routes that name no record; a route naming one loads it first (404 when out of
    scope) and then asks the policy, so that 403 never tells a record exists.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or not check(viewer()):
                abort(403)
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def roles_required(*roles: str) -> Callable[[View], View]:
    """Let only users of these roles through; everyone else gets 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(View, guarded)

    return decorate


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.authorization is not None


def require_login() -> Response | None:
    """Refuse anonymous requests to every endpoint that is not public."""
    endpoint = request.endpoint
    if endpoint is None or is_public(current_app, endpoint):
        return None
    if current_user.is_authenticated:
        return None
    if wants_json():
        response = jsonify(error="authentication required")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="capdb"'
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
