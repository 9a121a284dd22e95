"""Every change keeps the previous version: viewable as a diff, and restorable.

Before each flush, the state that every changed incident, victim, case, defendant,
stage event, assistance record or comment had is copied into ``record_versions``, with
who replaced it and when. Soft deletes are changes too (``deleted_at`` is set), so they
are kept in the history.

A restore brings back a record's own content only (:data:`CONTENT`): the workflow
(status, who submitted or validated it, the reason it was returned), its mission, its
owner and its deletion keep their current values, so that a restore can never put a
validator's name on content the validator did not see. What the workflow does after a
restore is :mod:`incidents.restoring`'s business.
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
from incidents.fields import INCIDENT_FIELDS, VICTIM_FIELDS, restored
from incidents.models import Record, RecordVersion

ACTOR_KEY = "actor_id"  # session.info key naming the user whose changes are flushed

# What a restore brings back, per table: the values a user entered as the record's content.
# A column not named here is never restored, so a workflow, ownership, link or derived
# column added later cannot ride back with an old version. Admin areas are derived from
# the coordinates, stages from the stage events; the mission, the incidents a case is
# linked to and the defendant an event concerns are who and what the record belongs to.
CONTENT: dict[str, frozenset[str]] = {
    # An incident's and a victim's content is declared with their fields.
    "incidents": restored(INCIDENT_FIELDS),
    "victims": restored(VICTIM_FIELDS),
    "judicial_cases": frozenset(
        {"prosecuting_state_code", "jurisdiction", "national_reference", "charges"}
    ),
    "defendants": frozenset(
        {"alias", "identifier", "affiliation", "verdict", "sentence", "sentence_months"}
    ),
    "stage_events": frozenset({"stage", "occurred_on", "note", "source_document"}),
    "capacity_assistance": frozenset(
        {"recipient_state_code", "kind", "started_on", "ended_on", "participants", "description"}
    ),
    "comments": frozenset({"body"}),
}


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


def record_type(record: Record) -> str:
    """The name the history files the record under (its table's)."""
    return str(sa.inspect(record).mapper.local_table.name)


def content_fields(record: Record) -> frozenset[str]:
    """The columns a restore of this record brings back; none for an undeclared type."""
    return CONTENT.get(record_type(record), frozenset())


@dataclass(frozen=True)
class FieldRestore:
    """One content field a restore changes: its value now and the value it gets back."""

    name: str
    current: object
    restored: object


def version_of(db: Session, record: Record, version: int) -> RecordVersion:
    """The record's earlier ``version``; LookupError if it has none of that number."""
    earlier = next((v for v in versions(db, record) if v.version == version), None)
    if earlier is None:
        raise LookupError(f"version {version} does not exist")
    return earlier


def restore_preview(db: Session, record: Record, version: int) -> list[FieldRestore]:
    """The content fields that restoring ``version`` would change, in column order."""
    earlier = version_of(db, record, version)
    content = content_fields(record)
    differences = []
    for attribute in sa.inspect(record).mapper.column_attrs:
        if attribute.key not in content or attribute.key not in earlier.data:
            continue
        value = _from_json(earlier.data[attribute.key], attribute.columns[0].type)
        current = getattr(record, attribute.key)
        if current != value:
            differences.append(FieldRestore(attribute.key, current, value))
    return differences


def restore(db: Session, record: Record, version: int, *, flush: bool = True) -> list[FieldRestore]:
    """Put the record's content back as it was at ``version``; the fields changed.

    The restore is itself a new version. Only :func:`content_fields` come back; a restore
    that would change none of them changes nothing at all. ``flush=False`` leaves the
    flush to a caller that changes more in the same new version.
    """
    differences = restore_preview(db, record, version)
    for difference in differences:
        setattr(record, difference.name, difference.restored)
    if differences and flush:
        db.flush()
    return differences


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
