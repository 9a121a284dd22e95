"""How often a client may call the API, counted in a store shared by all workers (Redis
when one is configured, else each worker's memory: a deployment with several processes
sets ``CAPDB_REDIS_URL``, or each process grants the whole budget).

Two budgets, each request counted against exactly one:

- a signed-in client (a valid API token, or the session cookie) has the
  ``CAPDB_API_RATE_LIMIT`` budget (a Flask-Limiter string such as "300/minute"), per
  token, or per user for the cookie;
- every other request (no token, or a wrong, expired or revoked one) has the
  ``CAPDB_API_ANONYMOUS_RATE_LIMIT`` budget per client address, so that nobody can guess
  tokens or load the workers without one. Changing the token at each attempt does not
  give a fresh budget.

Only the API's blueprints are limited: pages, sign-in and assets are not.
"""

from __future__ import annotations

from flask import Flask, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_login import current_user
from flask_smorest import Blueprint

from auth.sessions import token_hash
from capdb.config import Config, current_config

SCOPE = "api"
ANONYMOUS_SCOPE = "api-anonymous"
KEY_PREFIX = "capdb"


def signed_in() -> bool:
    return bool(current_user.is_authenticated)


def anonymous() -> bool:
    return not signed_in()


def client_key() -> str:
    """The token's hash for bearer requests; the user, or the address, otherwise."""
    authorization = request.authorization
    if authorization is not None and authorization.token:
        return "token:" + token_hash(authorization.token)
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return address_key()


def address_key() -> str:
    return f"address:{request.remote_addr}"


def rate_limit() -> str:
    return current_config().api_rate_limit


def anonymous_rate_limit() -> str:
    return current_config().api_anonymous_rate_limit


def too_many_requests() -> str:
    return str(_("Too many requests; wait a moment and try again."))


def init_app(app: Flask, config: Config, blueprints: tuple[Blueprint, ...]) -> Limiter:
    limiter = Limiter(
        client_key,
        app=app,
        storage_uri=config.redis_url or "memory://",
        headers_enabled=True,
        key_prefix=KEY_PREFIX,
        # Should Redis be unreachable, each worker counts on its own rather than failing.
        in_memory_fallback_enabled=bool(config.redis_url),
    )
    per_client = limiter.shared_limit(
        rate_limit, SCOPE, exempt_when=anonymous, error_message=too_many_requests
    )
    per_address = limiter.shared_limit(
        anonymous_rate_limit,
        ANONYMOUS_SCOPE,
        key_func=address_key,
        exempt_when=signed_in,
        error_message=too_many_requests,
    )
    for blueprint in blueprints:
        per_client(blueprint)
        per_address(blueprint)
    count_before_the_login_check(app, limiter)
    return limiter


def count_before_the_login_check(app: Flask, limiter: Limiter) -> None:
    """Move the limiter's check ahead of every other one of the application.

    The login check (registered earlier, by ``auth``) answers 401 to a request without a
    valid token; were it first, such requests would never be counted.
    """
    checks = app.before_request_funcs.setdefault(None, [])
    check = limiter._check_request_limit  # the hook Flask-Limiter registered just now
    if check not in checks:
        raise RuntimeError("Flask-Limiter no longer checks limits in a before_request hook")
    checks.remove(check)
    checks.insert(0, check)
