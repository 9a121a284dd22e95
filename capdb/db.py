"""The database: declarative base, engine, and the session of a request.

A request gets one session. The response commits it once when the request succeeded and
rolls it back otherwise; the session is closed when the application context ends. Code
below the views only ever flushes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from capdb.errors import busy

# The largest id a PostgreSQL integer column holds: larger numbers name nothing, and URLs
# (the ``int`` converter of capdb.app), API inputs and services refuse them.
MAX_ID = 2**31 - 1

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp kept in UTC that comes back timezone-aware on every database.

    SQLite has no time zones, so values are stored naive in UTC and given their zone back
    when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is expected")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime()}


def make_engine(url: str, *, echo: bool = False) -> Engine:
    # Parameters are kept out of logs and error messages: they carry personal data and
    # secrets such as TOTP keys.
    engine = sa.create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)
    if engine.dialect.name == "sqlite":
        _make_sqlite_durable(engine)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _no_jit)
    return engine


def _no_jit(dbapi_connection: Any, _record: Any) -> None:
    # Compiling short OLTP queries to machine code costs far more than it saves here
    # (seen: 1.6 s of JIT for a 300 ms map query, 4 s for the trends figures). Committed,
    # so that the pool's rollback when the connection is returned does not undo it.
    cursor = dbapi_connection.cursor()
    cursor.execute("SET jit = off")
    cursor.close()
    dbapi_connection.commit()


# Requests that only read; anything else may write. A reading request can still write a
# little (a token's or a session's last use, a Member State's view in the audit trail).
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# How long a writer waits for SQLite's one write lock before giving up with "database is
# locked" (answered 503 with Retry-After, see capdb.errors).
SQLITE_BUSY_TIMEOUT_MS = 10_000


def _make_sqlite_durable(engine: Engine) -> None:
    """WAL with full sync, enforced foreign keys, and transactions that SQLite honours.

    The standard library driver starts transactions on its own terms, which breaks
    SAVEPOINT; handing transaction control to SQLAlchemy is the documented remedy, and
    it lets each transaction say up front whether it will write (:func:`sqlite_begin`).
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql(sqlite_begin())


def sqlite_begin() -> str:
    """``BEGIN IMMEDIATE`` for a transaction that will write, plain ``BEGIN`` otherwise.

    SQLite has one writer at a time. A deferred transaction that reads and then writes
    cannot wait for the lock: if another writer committed meanwhile its snapshot is stale
    and SQLite fails at once with "database is locked", whatever the busy timeout. Taking
    the write lock when the transaction begins makes concurrent writers queue for it
    (up to the busy timeout) and then read the current rows. Requests that only read, and
    commands that have not said they write (:func:`writes`), keep deferred transactions,
    so that in WAL mode they run beside the writer instead of waiting for it.
    """
    if _READS.get():
        return "BEGIN"
    if writing_request() or _WRITES.get():
        return "BEGIN IMMEDIATE"
    return "BEGIN"


# Set by work outside a request (a job, a command) whose transactions write.
_WRITES: ContextVar[bool] = ContextVar("capdb_writes", default=False)
# Set around a short session that only reads, even within a request that writes.
_READS: ContextVar[bool] = ContextVar("capdb_reads", default=False)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read: they never take SQLite's write lock, so a
    request that writes can read something on the side (a refresh of reference data)
    without queueing twice for the lock."""
    token = _READS.set(True)
    try:
        yield
    finally:
        _READS.reset(token)


@contextmanager
def writes() -> Iterator[None]:
    """Transactions begun inside take SQLite's write lock up front (see :func:`sqlite_begin`)."""
    token = _WRITES.set(True)
    try:
        yield
    finally:
        _WRITES.reset(token)


def writing_request() -> bool:
    return has_request_context() and request.method not in READING_METHODS


class Database:
    """The engine of one application and the factory of its sessions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker(bind=engine, expire_on_commit=False)
        # SQLite's busy handler polls with growing sleeps, so a writer that has waited a
        # while keeps losing the lock to newcomers and can starve past the busy timeout.
        # The requests of one process that may write therefore queue here first (a
        # blocking wait), and meet SQLite's lock only against other processes (another
        # worker, a command, a job).
        self.sqlite_writers = threading.RLock() if engine.dialect.name == "sqlite" else None


def init_app(app: Flask, engine: Engine) -> None:
    app.extensions["capdb.db"] = Database(engine)
    app.after_request(_finish_request)
    app.teardown_appcontext(_close_session)


def database() -> Database:
    db: Database = current_app.extensions["capdb.db"]
    return db


def session() -> Session:
    """The session of the current application context, opened on first use."""
    if "db_session" not in g:
        db = database()
        if db.sqlite_writers is not None and writing_request():
            _wait_for_the_writers_turn(db.sqlite_writers)
        g.db_session = db.sessionmaker()
    db_session: Session = g.db_session
    return db_session


def _wait_for_the_writers_turn(writers: threading.RLock) -> None:
    if not writers.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
        raise busy()
    g.sqlite_writers = writers  # released when the application context ends


def _finish_request(response: Response) -> Response:
    db_session: Session | None = g.get("db_session")
    if db_session is not None:
        if response.status_code < 400:
            db_session.commit()
        else:
            db_session.rollback()
    return response


def _close_session(_exc: BaseException | None) -> None:
    db_session: Session | None = g.pop("db_session", None)
    writers: threading.RLock | None = g.pop("sqlite_writers", None)
    try:
        if db_session is not None:
            db_session.close()
    finally:
        if writers is not None:
            writers.release()
