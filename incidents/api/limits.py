"""How often a client may call the API: a budget per API token, shared by all workers
through Redis when one is configured.

The budget is the application's ``API_RATE_LIMIT`` setting (a Flask-Limiter string such
as "300/minute"), read on each request.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_login import current_user
from flask_smorest import Blueprint

from auth.sessions import token_hash
from capdb.config import Config

DEFAULT_RATE_LIMIT = "300/minute"
SCOPE = "api"


def client_key() -> str:
    """The token's hash for bearer requests; the user, or the address, otherwise."""
    authorization = request.authorization
    if authorization is not None and authorization.token:
        return "token:" + token_hash(authorization.token)
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"address:{request.remote_addr}"


def rate_limit() -> str:
    limit: str = current_app.config["API_RATE_LIMIT"]
    return limit


def too_many_requests() -> str:
    return str(_("Too many requests; wait a moment and try again."))


def init_app(app: Flask, config: Config, blueprints: tuple[Blueprint, ...]) -> Limiter:
    app.config.setdefault("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    limiter = Limiter(
        client_key,
        app=app,
        storage_uri=config.redis_url or "memory://",
        headers_enabled=True,
        key_prefix="capdb",
        # Should Redis be unreachable, each worker counts on its own rather than failing.
        in_memory_fallback_enabled=bool(config.redis_url),
    )
    shared = limiter.shared_limit(rate_limit, SCOPE, error_message=too_many_requests)
    for blueprint in blueprints:
        shared(blueprint)
    return limiter
