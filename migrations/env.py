"""Alembic environment: runs migrations on the application's engine."""

from __future__ import annotations

from typing import Literal

from alembic import context
from sqlalchemy import Connection

# The feature models register their tables on Base.metadata when imported.
import auth.models  # noqa: F401
import incidents.models
import incidents.un_figures  # noqa: F401
import maps.models  # noqa: F401
from capdb.db import Base, UtcDateTime
from capdb.vocabularies import KeptCode

target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with context.config.attributes["engine"].begin() as connection:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
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
