"""A database too busy to take a write answers 503 with Retry-After, never 500; SQLite
writers take the write lock when their transaction begins."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import psycopg.errors
import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from capdb import db as capdb_db
from capdb.errors import RETRY_AFTER_BUSY
from tests.factories import LoginAs


def sqlite_busy_error(tmp_path: Path) -> sqlite3.OperationalError:
    """A real "database is locked": a second writer while the first holds the lock."""
    path = tmp_path / "busy.sqlite"
    first = sqlite3.connect(path, isolation_level=None)
    second = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        first.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as caught:
            second.execute("BEGIN IMMEDIATE")
        return caught.value
    finally:
        first.close()
        second.close()


def busy_errors(tmp_path: Path) -> list[OperationalError]:
    return [
        OperationalError("BEGIN IMMEDIATE", {}, sqlite_busy_error(tmp_path)),
        OperationalError("UPDATE incidents", {}, psycopg.errors.SerializationFailure()),
        OperationalError("UPDATE incidents", {}, psycopg.errors.DeadlockDetected()),
        OperationalError("UPDATE incidents", {}, psycopg.errors.LockNotAvailable()),
    ]


def raising_route(app: Flask, path: str, error: Exception) -> None:
    def fail() -> str:
        raise error

    app.add_url_rule(path, endpoint=path, view_func=fail)


def assert_busy(response: object, *, json: bool) -> None:
    assert getattr(response, "status_code", None) == 503
    headers = getattr(response, "headers", {})
    assert headers["Retry-After"] == str(RETRY_AFTER_BUSY)
    if json:
        assert "busy" in response.json["error"]  # type: ignore[attr-defined]
    else:
        assert headers["Content-Type"].startswith("text/html")
        assert "busy" in response.text  # type: ignore[attr-defined]
        assert "Content-Security-Policy" in headers  # the error page is a page like any other


def test_a_busy_database_answers_503_with_retry_after(
    app: Flask, client: FlaskClient, login_as: LoginAs, tmp_path: Path
) -> None:
    errors = busy_errors(tmp_path)
    for n, error in enumerate(errors):
        raising_route(app, f"/api/v1/busy{n}", error)
        raising_route(app, f"/busy{n}", error)
    login_as("analyst")
    for n in range(len(errors)):
        assert_busy(client.get(f"/api/v1/busy{n}"), json=True)
        assert_busy(client.get(f"/busy{n}"), json=False)


def test_a_busy_database_at_commit_answers_503(
    app: Flask, client: FlaskClient, login_as: LoginAs, tmp_path: Path
) -> None:
    """The session commits after the view; a failure there is answered the same way."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    error = busy_errors(tmp_path)[0]

    def commit_fails(response: object) -> object:
        if g.pop("fail_at_commit", False):  # as the session is rolled back then
            raise error
        return response

    def view() -> str:
        g.fail_at_commit = True
        return "saved"

    app.add_url_rule("/commit-fails", view_func=view)
    app.after_request(commit_fails)
    login_as("analyst")
    assert_busy(client.get("/commit-fails"), json=False)


def test_other_database_failures_stay_errors(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    broken = OperationalError("SELECT", {}, psycopg.errors.AdminShutdown())
    raising_route(app, "/api/v1/broken", broken)
    login_as("analyst")
    assert client.get("/api/v1/broken").status_code == 500


@pytest.mark.parametrize(
    ("method", "begin"),
    [
        ("GET", "BEGIN"),
        ("HEAD", "BEGIN"),
        ("POST", "BEGIN IMMEDIATE"),
        ("PATCH", "BEGIN IMMEDIATE"),
    ],
)
def test_sqlite_takes_the_write_lock_up_front_unless_a_request_only_reads(
    app: Flask, method: str, begin: str
) -> None:
    with app.test_request_context("/", method=method):
        assert capdb_db.sqlite_begin() == begin
    # Outside a request (a command, a job) the lock is taken up front only for work that
    # says it writes: a read-only command runs beside the writers.
    assert capdb_db.sqlite_begin() == "BEGIN"
    with capdb_db.writes():
        assert capdb_db.sqlite_begin() == "BEGIN IMMEDIATE"
    assert capdb_db.sqlite_begin() == "BEGIN"


def test_a_sqlite_writer_queues_behind_the_one_holding_the_lock(tmp_path: Path) -> None:
    """For work that writes, the lock is taken at BEGIN, even by a transaction that has
    only read so far; the next writer waits for it (the busy timeout) and then commits on
    the current rows."""
    path = tmp_path / "queue.sqlite"
    engine = capdb_db.make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE counter (n INTEGER)")
            connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
        holder = engine.connect()
        with capdb_db.writes():
            holder.begin()
        assert holder.exec_driver_sql("SELECT n FROM counter").scalar() == 0
        raw = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            raw.execute("BEGIN IMMEDIATE")
        raw.close()
        seen: list[int] = []

        def next_writer() -> None:
            with capdb_db.writes(), engine.begin() as connection:
                seen.append(connection.exec_driver_sql("SELECT n FROM counter").scalar_one())
                connection.exec_driver_sql("UPDATE counter SET n = n + 1")

        waiting = threading.Thread(target=next_writer)
        waiting.start()
        time.sleep(0.5)
        assert waiting.is_alive()  # queued behind the holder
        holder.exec_driver_sql("UPDATE counter SET n = n + 1")
        holder.commit()
        holder.close()
        waiting.join(timeout=30)
        assert seen == [1]  # it read what the holder committed
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 2
    finally:
        engine.dispose()
