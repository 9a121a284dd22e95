"""Alembic environment: runs migrations on the application's engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from alembic import context
from sqlalchemy import Connection, Engine

# The feature models register their tables on Base.metadata when imported.
import auth.models  # noqa: F401
import capdb.mail.models  # noqa: F401
import incidents.attachments.models
import incidents.models
import incidents.un_figures  # noqa: F401
import maps.models  # noqa: F401
import notifications.models  # noqa: F401
from capdb.db import Base, UtcDateTime
from capdb.vocabularies import KeptCode
from incidents.search import outside_the_models

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine: Engine = context.config.attributes["engine"]
    with engine.connect() as connection, _foreign_keys_deferred(connection), connection.begin():
        _run(connection)
        _check_foreign_keys(connection)


@contextmanager
def _foreign_keys_deferred(connection: Connection) -> Iterator[None]:
    """SQLite: foreign keys not enforced while the migrations run.

    Batch mode rebuilds a table by dropping it and renaming a copy (SQLite has no ALTER for
    most changes); while foreign keys are enforced, dropping a table that others refer to
    fails or deletes what refers to it. SQLite takes the setting only outside a
    transaction, so it is set on the driver's connection before the migrations' own
    transaction begins, and the references are checked before it commits
    (:func:`_check_foreign_keys`), as SQLite documents for such changes.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    assert driver is not None  # noqa: S101 (a checked-out connection has one)
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if broken:
        table, row, parent, _ = broken[0]
        raise RuntimeError(
            f"the migrations left {len(broken)} broken references, such as {table} row {row}"
            f" naming a missing {parent}"
        )


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        include_object=outside_the_models,
    )
    with context.begin_transaction():
        context.run_migrations()


def _render_item(kind: str, item: object, autogen_context: object) -> str | Literal[False]:
    """Write capdb's own column types as the plain SQLAlchemy types they store as.

    Migrations then stay valid whatever later happens to the application's code.
    """
    if kind == "type" and isinstance(item, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(item, KeptCode):
        return "sa.String(length=40)"
    return False


if context.is_offline_mode():
    raise SystemExit("capdb migrations run online only")
run_migrations_online()
