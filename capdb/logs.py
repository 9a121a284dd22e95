"""Structured logs: every record one line of JSON on standard output, one line per request.

A request's line names its request id, user id, method, path, status and duration, and
nothing the user sent: no query string (search terms, filters), no header, no form field,
no email address. The request id is the client's ``X-Request-Id`` when it is a plausible
one (nginx sends its own), else a new one; it is returned in the response and added to
every record logged while the request is handled, so an operator can find them together.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any, TextIO

import click
from flask import Flask, g, has_request_context, request, request_started
from werkzeug.wrappers import Response

REQUEST_ID_HEADER = "X-Request-Id"
# Letters, digits and a few separators: enough for UUIDs and nginx's $request_id, too
# little to smuggle anything into a log line.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
requests_log = logging.getLogger("capdb.requests")
_configured = False


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON; a request's fields go at the top level."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Standard output for servers; standard error while a command runs.

    A command's own output (a token, an anchor, a file piped elsewhere) stays clean of log
    lines. The process's original streams are used, not ``sys.stdout``: test runners and
    tools replace that one and may close it before the last record is written.
    """

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self) -> TextIO:
        in_command = click.get_current_context(silent=True) is not None
        stream = sys.__stderr__ if in_command else sys.__stdout__
        return stream or sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class NoWerkzeugRequestLines(logging.Filter):
    """Drop the development server's own request lines, which carry query strings.

    The application logs every request itself; the server's other messages stay.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith('"%s" %s %s'))


def configure_logging(level: str) -> None:
    """Send every logger's records to standard output as JSON, once per process."""
    global _configured
    if _configured:
        return
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("werkzeug").addFilter(NoWerkzeugRequestLines())
    _configured = True


def request_id() -> str:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    return incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex


def start_request(_sender: Flask, **_extra: Any) -> None:
    # Flask's signal fires before every before_request hook, the rate limiter's included,
    # so a refused request is timed and named too.
    g.request_started = time.perf_counter()
    g.request_id = request_id()


def signed_in_user_id() -> int | None:
    """The user id, when authentication has already loaded the user.

    Never loads it: a health check must not touch the database to be logged.
    """
    user = g.get("_login_user")
    return getattr(user, "id", None) if user is not None else None


def log_request(response: Response) -> Response:
    started = g.get("request_started")
    if "request_id" not in g:
        g.request_id = request_id()
    response.headers[REQUEST_ID_HEADER] = g.request_id
    fields = {
        "request_id": g.request_id,
        "user_id": signed_in_user_id(),
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
    }
    requests_log.info(
        "%s %s %s", request.method, request.path, response.status_code, extra={"fields": fields}
    )
    return response


def init_app(app: Flask, level: str) -> None:
    configure_logging(level)
    request_started.connect(start_request, app)
    # Registered before the other hooks, so it runs after them and logs the final status.
    app.after_request(log_request)
