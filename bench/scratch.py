"""A capdb application on a scratch PostgreSQL schema, seeded with demo data, for benchmarks."""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from flask import Flask, session
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from auth import sessions
from auth.models import User
from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.config import Config, Environment
from capdb.reference import load_reference
from demo.seed import seed_demo
from incidents.models import Incident

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def scratch_app(schema: str, **settings: object) -> Iterator[Flask]:
    """An application on a fresh, migrated schema that is dropped afterwards (with the
    settings given, such as ``redis_url``)."""
    with _schema_app(schema, fresh=True, drop=True, **settings) as app:
        yield app


@contextmanager
def _schema_app(schema: str, *, fresh: bool, drop: bool, **settings: object) -> Iterator[Flask]:
    """An application on the schema (emptied first if ``fresh``), migrated and holding the
    reference data."""
    base = make_url(os.environ.get("CAPDB_BENCH_DATABASE_URL", DEFAULT_URL))
    admin = sa.create_engine(base)
    if fresh:
        _run(admin, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    _run(admin, f"CREATE SCHEMA IF NOT EXISTS {schema}")
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    config = Config(
        env=Environment.TEST,
        database_url=url.render_as_string(hide_password=False),
        secret_key=secrets.token_urlsafe(32),
        instance_path=Path(tempfile.mkdtemp()),
    ).replace(**settings)
    app = create_app(config)
    try:
        with app.app_context():
            command.upgrade(alembic_config(), "head")
        with app.extensions["capdb.db"].sessionmaker.begin() as session:
            load_reference(session)
        yield app
    finally:
        app.extensions["capdb.db"].engine.dispose()
        if drop:
            _run(admin, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@contextmanager
def seeded_app(
    schema: str, size: int, *, reseed: bool, drop: bool, **settings: object
) -> Iterator[Flask]:
    """An application on a kept schema (with the settings given), seeded with ``size``
    incidents of ``demo seed`` data unless it already holds them (``reseed`` empties it
    first; ``drop`` removes it afterwards), vacuumed and analysed."""
    with _schema_app(schema, fresh=reseed, drop=drop, **settings) as app:
        sessions = app.extensions["capdb.db"].sessionmaker
        with sessions() as session:
            held = session.scalar(sa.select(sa.func.count()).select_from(Incident)) or 0
        if held < size:
            if held:
                raise SystemExit(f"{schema} holds {held} incidents, fewer than {size}: --reseed")
            started = time.perf_counter()
            with sessions.begin() as session:
                report = seed_demo(session, size, 2589)
            print(f"seeded {schema} in {time.perf_counter() - started:.0f} s: {report}")
        settle(app)
        yield app


def _run(engine: sa.Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)


def median_ms(action: Callable[[], object], repeats: int) -> float:
    """The median time of ``repeats`` runs of ``action``, after one to warm caches and
    connections."""
    action()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def settle(app: Flask) -> None:
    """Leave the freshly loaded tables as autovacuum soon would: vacuumed and analysed, so
    that the figures are those of a database in service, not of one just bulk-loaded."""
    engine = app.extensions["capdb.db"].engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")


def schema_size(app: Flask, schema: str) -> int:
    """Bytes on disk of the schema's tables and indexes."""
    with app.extensions["capdb.db"].engine.connect() as connection:
        size: int = connection.execute(
            sa.text(
                "SELECT sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)))"
                " FROM pg_tables WHERE schemaname = :schema"
            ),
            {"schema": schema},
        ).scalar_one()
    return size


def signed_in_client(app: Flask, email: str) -> FlaskClient:
    """A test client with a session for the user, as after a full login (in the
    database, and in Redis where the application keeps its sessions there)."""
    client = app.test_client()
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker.begin() as db:
        user = db.scalars(sa.select(User).where(User.email == email)).one()
        sessions.start(db, user)
        token = session[sessions.SESSION_KEY]
    with client.session_transaction() as browser:
        browser[sessions.SESSION_KEY] = token
    return client
