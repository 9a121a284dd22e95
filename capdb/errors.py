"""Error pages in the application's look and language; JSON for API clients.

A database too busy to take a write (SQLite's one write lock not free within the busy
timeout, a PostgreSQL deadlock, serialization failure or lock timeout) is no fault of the
request: it is answered 503 with ``Retry-After``, never 500, and nothing was saved.
"""

from __future__ import annotations

import logging
import sqlite3

import redis
from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)

# Seconds a client should wait before trying again when the database was busy.
RETRY_AFTER_BUSY = 1
RETRY_AFTER_UNAVAILABLE = 5
# PostgreSQL's codes for "try again": serialization failure, deadlock, lock not available
# (lock_timeout, NOWAIT), statement cancelled (statement_timeout).
POSTGRESQL_BUSY = frozenset({"40001", "40P01", "55P03", "57014"})


def _explanations() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you entered."),
        403: _("You do not have permission to do this."),
        404: _("There is nothing here, or you do not have access to it."),
        405: _("This page cannot be used that way."),
        409: _("This record changed or is in a state that does not allow this."),
        413: _("The file is too large."),
        422: _("Some of what you entered is not valid."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing you entered was lost."),
        503: _("The database is busy. Nothing was saved; please try again in a moment."),
    }


def database_busy(error: BaseException | None) -> bool:
    """Whether the error is the database asking to try again later."""
    if not isinstance(error, OperationalError):
        return False
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        # SQLITE_BUSY and its extended codes (such as a stale snapshot), SQLITE_LOCKED.
        return getattr(original, "sqlite_errorcode", 0) & 0xFF in {5, 6}
    return getattr(original, "sqlstate", None) in POSTGRESQL_BUSY


def busy() -> ServiceUnavailable:
    return ServiceUnavailable(
        _("The database is busy. Nothing was saved; please try again in a moment."),
        retry_after=RETRY_AFTER_BUSY,
    )


def handle_database_error(error: OperationalError) -> Response | tuple[str, int]:
    """A busy database answers 503; any other database failure stays a 500, logged."""
    if not database_busy(error):
        raise error
    return handle_http_error(busy())


def handle_redis_error(error: redis.RedisError) -> Response | tuple[str, int]:
    """The shared Redis (sessions, throttles, queue) not answering: 503, never 500."""
    log.warning("Redis unavailable: %s", type(error).__name__)
    unavailable = ServiceUnavailable(
        _("The service is briefly unavailable. Nothing was saved; please try again in a moment."),
        retry_after=RETRY_AFTER_UNAVAILABLE,
    )
    return handle_http_error(unavailable)


def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    # An error that escaped the views (such as a busy database at commit) reaches this
    # handler as a 500 that names it.
    if isinstance(error, InternalServerError) and database_busy(error.original_exception):
        error = busy()
    code = error.code or 500
    if request.path.startswith("/api/"):
        response = jsonify(error=error.description or error.name)
        response.status_code = code
        # Keep what the error says in headers, such as Allow on a 405.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    # A view that aborts with its own words says more than the generic explanation.
    custom = error.description if error.description != type(error).description else None
    message = custom or _explanations().get(code, error.name)
    page = Response(render_template("error.html", code=code, message=message), status=code)
    page.headers.update(error.get_headers())
    page.headers["Content-Type"] = "text/html; charset=utf-8"
    return page


def init_app(app: Flask) -> None:
    # Unexpected exceptions reach this handler as a 500, after Flask has logged them.
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(redis.RedisError, handle_redis_error)
