"""Every change keeps the previous version: viewable as a diff, and restorable.

Before each flush, the state that every changed incident, victim, case, defendant,
stage event, assistance record or comment had is copied into ``record_versions``, with
who replaced it and when. Soft deletes are changes too (``deleted_at`` is set), so they
are kept and reversible the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from capdb.db import utcnow
from incidents.models import Record, RecordVersion

ACTOR_KEY = "actor_id"  # session.info key naming the user whose changes are flushed
# Kept by the database or the optimistic lock, not by a restore.
NOT_RESTORED = frozenset({"id", "version", "created_at", "updated_at"})


def _jsonable(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def snapshot(record: Record) -> dict[str, Any]:
    """The record's column values, as JSON can hold them."""
    mapper = sa.inspect(record).mapper
    return {a.key: _jsonable(getattr(record, a.key)) for a in mapper.column_attrs}


def _stored(session: Session, record: Record) -> dict[str, Any]:
    """The record as the database holds it, before the pending changes are flushed.

    Read from the database because the session does not keep the old value of an
    attribute that was assigned without being loaded first.
    """
    mapper = sa.inspect(record).mapper
    table = mapper.local_table
    row = (
        session.execute(
            sa.select(table).where(table.c.id == record.id)  # type: ignore[attr-defined]
        )
        .mappings()
        .one()
    )
    return {a.key: _jsonable(row[a.columns[0].name]) for a in mapper.column_attrs}


def keep_versions() -> None:
    """Start keeping previous versions in every session (idempotent)."""
    if not event.contains(Session, "before_flush", _keep_previous_versions):
        event.listen(Session, "before_flush", _keep_previous_versions)


def _keep_previous_versions(session: Session, _context: object, _instances: object) -> None:
    changed = [
        record
        for record in session.dirty
        if isinstance(record, Record)
        and sa.inspect(record).persistent
        and session.is_modified(record, include_collections=False)
    ]
    with session.no_autoflush:
        for record in changed:
            previous = _stored(session, record)
            session.add(
                RecordVersion(
                    record_type=sa.inspect(record).mapper.local_table.name,
                    record_id=record.id,  # type: ignore[attr-defined]
                    version=previous["version"],
                    data=previous,
                    replaced_at=utcnow(),
                    replaced_by_id=session.info.get(ACTOR_KEY),
                )
            )


def versions(db: Session, record: Record) -> list[RecordVersion]:
    """The earlier versions of the record, oldest first."""
    state = sa.inspect(record)
    return list(
        db.scalars(
            sa.select(RecordVersion)
            .where(
                RecordVersion.record_type == state.mapper.local_table.name,
                RecordVersion.record_id == state.identity[0],
            )
            .order_by(RecordVersion.version)
        )
    )


@dataclass(frozen=True)
class Change:
    """What one change did: the version it replaced, who made it, and the fields changed."""

    replaced: RecordVersion
    fields: list[tuple[str, object, object]]


def changes(db: Session, record: Record) -> list[Change]:
    """The record's changes, oldest first, each as the fields it changed."""
    earlier = versions(db, record)
    states = [v.data for v in earlier] + [snapshot(record)]
    return [
        Change(version, _differences(before, after))
        for version, before, after in zip(earlier, states, states[1:], strict=False)
    ]


def _differences(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, object, object]]:
    ignored = {"version", "updated_at"}
    keys: Iterable[str] = (k for k in after if k not in ignored)
    return [(k, before.get(k), after[k]) for k in keys if before.get(k) != after[k]]


def restore(db: Session, record: Record, version: int) -> None:
    """Put the record back as it was at ``version``; the restore is itself a new version."""
    earlier = next((v for v in versions(db, record) if v.version == version), None)
    if earlier is None:
        raise LookupError(f"version {version} does not exist")
    mapper = sa.inspect(record).mapper
    for attribute in mapper.column_attrs:
        if attribute.key in NOT_RESTORED or attribute.key not in earlier.data:
            continue
        column_type = attribute.columns[0].type
        setattr(record, attribute.key, _from_json(earlier.data[attribute.key], column_type))
    db.flush()


def _from_json(value: object, column_type: sa.types.TypeEngine[Any]) -> object:
    if not isinstance(value, str):
        return value
    python_type = _python_type(column_type)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value)
    if python_type is time:
        return time.fromisoformat(value)
    return value


def _python_type(column_type: sa.types.TypeEngine[Any]) -> type | None:
    try:
        return column_type.python_type
    except NotImplementedError:
        return None
