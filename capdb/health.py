"""Health checks for load balancers, systemd and monitoring: public, cheap, no data.

``/healthz`` answers while the process can serve a request; it touches nothing else, so a
database outage does not get every worker restarted. ``/readyz`` answers 200 only when the
application can do its work: the database reachable and migrated to the latest revision,
Redis reachable when configured, and whatever else a feature adds to the list of
readiness checks (the job queue, for one). Otherwise 503 with the failing parts named.
Details of a failure go to the log, not to the anonymous caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

import redis
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from werkzeug.wrappers import Response

from capdb import db
from capdb.security import public

# A check returns None when its part is ready, else a short reason.
ReadinessCheck = Callable[[], str | None]
READINESS = "capdb.readiness"

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def add_readiness_check(app: Flask, name: str, check: ReadinessCheck) -> None:
    """Make ``/readyz`` also depend on ``check``, reported under ``name`` when it fails."""
    checks: list[tuple[str, ReadinessCheck]] = app.extensions.setdefault(READINESS, [])
    checks.append((name, check))


def database_ready() -> str | None:
    with db.database().engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))
    return None


@cache
def migration_heads(script_location: str) -> frozenset[str]:
    return frozenset(ScriptDirectory(script_location).get_heads())


def current_revisions(connection: sa.Connection) -> frozenset[str]:
    # Alembic's own table, read directly: its MigrationContext logs each time it is made.
    if not sa.inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))


def migrations_ready(script_location: str) -> ReadinessCheck:
    def check() -> str | None:
        with db.database().engine.connect() as connection:
            current = current_revisions(connection)
        if current != migration_heads(script_location):
            return "not at the latest revision; run `flask --app wsgi db upgrade`"
        return None

    return check


def redis_ready(url: str) -> ReadinessCheck:
    def check() -> str | None:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
        return None

    return check


def run_check(name: str, check: ReadinessCheck) -> str | None:
    try:
        return check()
    except Exception as error:  # any failure of a part means "not ready", never a 500
        log.warning("readiness check %s failed: %s", name, type(error).__name__)
        return "unreachable"


def no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
@public
def healthz() -> Response:
    return no_store(jsonify(status="ok"))


@bp.get("/readyz")
@public
def readyz() -> Response:
    failing: dict[str, str] = {}
    for name, check in current_app.extensions.get(READINESS, []):
        reason = run_check(name, check)
        if reason is not None:
            failing[name] = reason
    if failing:
        log.warning("not ready: %s", ", ".join(f"{k} ({v})" for k, v in failing.items()))
        response = jsonify(status="unavailable", failing=failing)
        response.status_code = 503
        response.headers["Retry-After"] = "10"
        return no_store(response)
    return no_store(jsonify(status="ok"))


def init_app(app: Flask, *, migrations: str, redis_url: str) -> None:
    """Serve the checks, with the database, its migrations and Redis (when set) to check."""
    app.register_blueprint(bp)
    add_readiness_check(app, "database", database_ready)
    add_readiness_check(app, "migrations", migrations_ready(migrations))
    if redis_url:
        add_readiness_check(app, "redis", redis_ready(redis_url))
