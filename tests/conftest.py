"""Fixtures: a migrated database per worker, and each test inside a rolled-back transaction.

The suite runs against SQLite (``--db sqlite``, the default) or PostgreSQL
(``--db postgresql``, at ``CAPDB_TEST_DATABASE_URL``). Each xdist worker gets its own
SQLite file or PostgreSQL schema, migrated once with Alembic; every test then runs in a
transaction that is rolled back, with the application's commits turned into savepoints.

Some tests need Redis at ``REDIS`` (each uses a database number of its own). In CI
(``CI=true``) a missing PostgreSQL or Redis stops the run as a failure; elsewhere the
tests that need Redis fail (never skip) and the run's header says why.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.config import Config, Environment
from capdb.reference import load_reference

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379"
_REDIS_MISSING = pytest.StashKey[str]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the database the suite runs against",
    )


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    check_redis(config)
    if config.getoption("--db") == "postgresql":
        check_postgresql()


def check_redis(config: pytest.Config) -> None:
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis is not reachable at {REDIS}: {error}"
        if in_ci():
            pytest.exit(message, returncode=1)
        config.stash[_REDIS_MISSING] = f"{message} (the tests that need it will fail)"
    finally:
        client.close()


def pytest_report_header(config: pytest.Config) -> str | None:
    return config.stash.get(_REDIS_MISSING, None)


def check_postgresql() -> None:
    url = os.environ.get("CAPDB_TEST_DATABASE_URL", DEFAULT_POSTGRES)
    probe = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        probe.connect().close()
    except sa.exc.OperationalError as error:
        message = f"PostgreSQL is not reachable at {make_url(url)!r}: {error.orig}"
        if in_ci():
            pytest.exit(message, returncode=1)
        pytest.exit(f"SKIPPED the PostgreSQL run: {message}", returncode=0)


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.config.getoption("--db")
    return backend


@pytest.fixture(scope="session")
def make_database_url(
    backend: str, worker_id: str, testrun_uid: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], str]]:
    """A function giving the URL of a fresh, empty database for this worker and purpose.

    On PostgreSQL each is a schema named after the run and the worker, so that runs going
    on at once never touch each other's tables; the schemas are dropped at the end.
    """
    url = make_url(os.environ.get("CAPDB_TEST_DATABASE_URL", DEFAULT_POSTGRES))
    schemas: list[str] = []

    def make(purpose: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp(purpose) / 'capdb.sqlite'}"
        schema = f"capdb_{purpose}_{worker_id}_{testrun_uid[:8]}"
        _run_sql(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE', f'CREATE SCHEMA "{schema}"')
        schemas.append(schema)
        return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )

    yield make
    for schema in schemas:
        _run_sql(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _run_sql(url: sa.URL, *statements: str) -> None:
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with admin.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(make_database_url: Callable[[str], str]) -> str:
    return make_database_url("suite")


def config_for(database_url: str, instance_path: Path) -> Config:
    return Config(
        env=Environment.TEST,
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        instance_path=instance_path,
    )


@pytest.fixture(scope="session")
def engine(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The worker's database, migrated to head and holding the reference data."""
    app = create_app(config_for(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        command.upgrade(alembic_config(), "head")
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        load_reference(session)
    engine: Engine = app.extensions["capdb.db"].engine
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[sa.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def app_config(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Config:
    """The settings of the ``app`` fixture: the tests', changed where a test names settings
    (``@pytest.mark.parametrize("app_config", [{...}], indirect=True)``)."""
    changes: dict[str, object] = getattr(request, "param", {})
    return config_for(database_url, tmp_path).replace(**changes)


@pytest.fixture
def app(connection: sa.Connection, app_config: Config) -> Iterator[Flask]:
    app = create_app(app_config)
    app.extensions["capdb.db"].sessionmaker.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    yield app
    app.extensions["capdb.db"].engine.dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session on the test's transaction: what it flushes, the application's requests see."""
    with app.extensions["capdb.db"].sessionmaker() as session:
        yield session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def cli(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


pytest_plugins = ["tests.factories", "tests.mailbox"]
