"""/healthz and /readyz: public, no data, never cached, and naming what is not ready."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from capdb.app import create_app
from capdb.cli import MIGRATIONS
from capdb.config import Config
from capdb.health import add_readiness_check
from tests.conftest import config_for
from tests.test_i18n import csrf_token

# A Redis database of this suite's own; readiness only pings it.
REDIS_URL = "redis://127.0.0.1:6379/9"


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def make_app(engine: Engine, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """Applications on their own settings, their engines disposed after the test.

    The suite's database (``database_url``) is migrated by the ``engine`` fixture.
    """
    apps: list[Flask] = []

    def make(database_url: str, **settings: object) -> Flask:
        config: Config = config_for(database_url, tmp_path).replace(**settings)
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["capdb.db"].engine.dispose()


def readiness(client: FlaskClient) -> tuple[int, dict[str, object]]:
    response = client.get("/readyz")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def test_healthz_answers_anonymously_without_caching(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_needs_no_database(make_app: Callable[..., Flask]) -> None:
    app = make_app(f"postgresql+psycopg://capdb@127.0.0.1:{closed_port()}/capdb")
    assert app.test_client().get("/healthz").status_code == 200
    assert app.test_client().get("/readyz").status_code == 503


def test_ready_when_the_database_is_migrated(client: FlaskClient) -> None:
    assert readiness(client) == (200, {"status": "ok"})


def test_not_ready_when_postgresql_is_down(make_app: Callable[..., Flask]) -> None:
    app = make_app(f"postgresql+psycopg://capdb@127.0.0.1:{closed_port()}/capdb")
    status, body = readiness(app.test_client())
    assert status == 503
    assert body["status"] == "unavailable"
    assert "database" in body["failing"]  # type: ignore[operator]


def test_not_ready_when_the_sqlite_file_cannot_be_opened(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'no such folder' / 'capdb.sqlite'}")
    status, body = readiness(app.test_client())
    assert status == 503
    assert "database" in body["failing"]  # type: ignore[operator]


def test_not_ready_before_the_first_migration(
    make_app: Callable[..., Flask], make_database_url: Callable[[str], str]
) -> None:
    app = make_app(make_database_url("unmigrated"))
    status, body = readiness(app.test_client())
    assert status == 503
    assert body["failing"] == {
        "migrations": "not at the latest revision; run `flask --app wsgi db upgrade`"
    }


def test_not_ready_one_migration_behind(
    make_app: Callable[..., Flask], make_database_url: Callable[[str], str]
) -> None:
    app = make_app(make_database_url("behind"))
    script = ScriptDirectory(str(MIGRATIONS))
    head_id = script.get_current_head()
    assert head_id is not None
    head = script.get_revision(head_id)
    assert head is not None
    previous = head.down_revision
    assert isinstance(previous, str)
    with app.extensions["capdb.db"].engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        connection.execute(sa.text("INSERT INTO alembic_version VALUES (:v)"), {"v": previous})
    status, body = readiness(app.test_client())
    assert status == 503
    assert list(body["failing"]) == ["migrations"]  # type: ignore[call-overload]
    with app.extensions["capdb.db"].engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE alembic_version SET version_num = :v"), {"v": head.revision}
        )
    assert readiness(app.test_client()) == (200, {"status": "ok"})


def test_not_ready_when_redis_is_down(make_app: Callable[..., Flask], database_url: str) -> None:
    app = make_app(database_url, redis_url=f"redis://127.0.0.1:{closed_port()}/9")
    status, body = readiness(app.test_client())
    assert status == 503
    # The job queue lives in the same Redis.
    assert sorted(body["failing"]) == ["jobs", "redis"]  # type: ignore[call-overload]


def test_pages_answer_503_not_500_while_redis_is_down(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url, redis_url=f"redis://127.0.0.1:{closed_port()}/9")
    client = app.test_client()
    form = client.get("/auth/login")
    assert form.status_code == 200  # a page that needs no session still answers
    token = csrf_token(form.text)
    answer = client.post(
        "/auth/login", data={"email": "a@capdb.test", "password": "x", "csrf_token": token}
    )
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "briefly unavailable" in answer.text
    with client.session_transaction() as browser_session:
        browser_session["sid"] = "a token from before the outage"
    assert client.get("/incidents/").status_code == 503


def test_ready_with_redis(make_app: Callable[..., Flask], database_url: str) -> None:
    app = make_app(database_url, redis_url=REDIS_URL)
    assert readiness(app.test_client()) == (200, {"status": "ok"})


def test_a_feature_adds_its_own_check(app: Flask, client: FlaskClient) -> None:
    def queue_ready() -> str | None:
        return "no worker took a job for 10 minutes"

    def broken() -> str | None:
        raise ConnectionError("secret detail")

    add_readiness_check(app, "jobs", queue_ready)
    add_readiness_check(app, "other", broken)
    status, body = readiness(client)
    assert status == 503
    # A check that raises counts as failing, without its details, and never as a 500.
    assert body["failing"] == {
        "jobs": "no worker took a job for 10 minutes",
        "other": "unreachable",
    }


def test_health_checks_are_not_rate_limited(
    make_app: Callable[..., Flask], database_url: str
) -> None:
    app = make_app(database_url, api_anonymous_rate_limit="2/minute")
    client = app.test_client()
    answers = {client.get(path).status_code for path in ("/healthz", "/readyz") * 5}
    assert answers == {200}
    # The same client is limited on the API.
    api = [client.get("/api/v1/incidents").status_code for _ in range(3)]
    assert api[-1] == 429
