"""Which States each incident concerns, and why, kept in ``incident_states``.

An incident concerns a State that hosts its mission (``host``), the State it happened in
(``place``), and each State that an undeleted victim belongs to (``nationality``) or served
for (``contributor``). :func:`concerned_rows` states that rule once, in SQL; the table holds
its answer, one row per incident and State with a flag per reason and the incident's date,
so that "the incidents concerning Chad" is an index range, in date order, rather than a
scan of every victim on every query (:func:`incidents.visibility.concerns` reads it, and
:func:`incidents.filters.listed_incidents` pages through it).

How the table stays current, in the same transaction as the change:

- ORM writes, by a session hook (:func:`keep_current`, connected by the app factory): after
  each flush, the incidents created or whose country, mission or date changed, or whose
  victims were added, removed, undeleted or changed nationality or contributing country,
  have their rows recomputed; so do a mission's incidents when its hosts change. A hook
  rather than calls in each service because every form, API call, restore, undelete, admin
  script and test factory writes through the ORM, and a call forgotten in one of them would
  silently show an incident to the wrong State (or hide it from the right one).
- Bulk inserts that bypass the ORM (:mod:`capdb.bulk`: the spreadsheet import, the demo
  seed) call :func:`refresh_incident_states` or :func:`fill_incident_states` themselves;
  a Core statement carries no objects for a hook to see.

Deleted incidents keep their rows: visibility excludes them on their own, and an undelete
then needs nothing. ``flask --app wsgi scope rebuild`` (:func:`rebuild`) recomputes the
whole table from the rule, and ``scope check`` reports what it would change.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from capdb.reference import Mission, mission_hosts
from incidents.models import CONCERN_REASONS, Incident, IncidentState, Victim

# A condition on an incident id column: which incidents a statement covers.
Which = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]]

CHUNK = 5_000  # incident ids per statement (SQLite binds at most 32,766 parameters)
REBUILD_CHUNK = 50_000  # incident ids per range when rebuilding the whole table

_states = cast(sa.Table, IncidentState.__table__)
_incidents = cast(sa.Table, Incident.__table__)
_victims = cast(sa.Table, Victim.__table__)

# What an incident's rows depend on: its own columns, and its victims'.
_INCIDENT_COLUMNS = ("country_code", "mission_code", "occurred_on")
_VICTIM_COLUMNS = ("nationality_code", "contributing_country_code", "deleted_at", "incident_id")


@dataclass(frozen=True)
class Difference:
    """Rows added to (or missing from) the table and rows removed from (or extra in) it."""

    added: int = 0
    removed: int = 0

    def __add__(self, other: Difference) -> Difference:
        return Difference(self.added + other.added, self.removed + other.removed)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


COLUMNS = ("incident_id", "state", "occurred_on", *CONCERN_REASONS)


def _reason(incident_id: Any, state: Any, reason: str) -> sa.Select[Any]:
    flags: list[Any] = [
        sa.literal_column("1" if r == reason else "0").label(r) for r in CONCERN_REASONS
    ]
    return sa.select(incident_id.label("incident_id"), state.label("state"), *flags)


def concerned_rows(which: Which) -> sa.Select[Any]:
    """The rule: one row per incident that ``which`` selects and State it concerns, with
    the incident's date and a flag for each reason (the columns of ``incident_states``)."""
    undeleted = _victims.c.deleted_at.is_(None)
    hosted = _incidents.join(
        mission_hosts, mission_hosts.c.mission_code == _incidents.c.mission_code
    )
    reasons = sa.union_all(
        _reason(_incidents.c.id, _incidents.c.country_code, "place").where(which(_incidents.c.id)),
        _reason(_incidents.c.id, mission_hosts.c.country_code, "host")
        .select_from(hosted)
        .where(which(_incidents.c.id)),
        _reason(_victims.c.incident_id, _victims.c.nationality_code, "nationality").where(
            undeleted, which(_victims.c.incident_id)
        ),
        _reason(_victims.c.incident_id, _victims.c.contributing_country_code, "contributor").where(
            undeleted,
            _victims.c.contributing_country_code.is_not(None),
            which(_victims.c.incident_id),
        ),
    ).subquery("reasons")
    # Selected from as a subquery: SQLite takes no parenthesised compound select.
    return (
        sa.select(
            reasons.c.incident_id,
            reasons.c.state,
            _incidents.c.occurred_on,
            *[(sa.func.max(reasons.c[r]) == 1).label(r) for r in CONCERN_REASONS],
        )
        .join_from(reasons, _incidents, _incidents.c.id == reasons.c.incident_id)
        .group_by(reasons.c.incident_id, reasons.c.state, _incidents.c.occurred_on)
    )


def _held(which: Which) -> sa.Select[Any]:
    return sa.select(*[_states.c[name] for name in COLUMNS]).where(which(_states.c.incident_id))


def _missing(which: Which) -> sa.CompoundSelect[Any]:
    wanted = concerned_rows(which).subquery("wanted")
    return sa.select(wanted).except_(_held(which))


def _extra_condition(which: Which) -> sa.ColumnElement[bool]:
    """Rows held that the rule does not give, or gives otherwise (whole rows compared)."""
    row = sa.tuple_(*[_states.c[name] for name in COLUMNS])
    return sa.and_(which(_states.c.incident_id), row.not_in(concerned_rows(which)))


def _apply(db: Session, which: Which, *, write: bool) -> Difference:
    """Make the rows of the incidents ``which`` selects those of the rule (or count what
    that would change, without ``write``)."""
    connection = db.connection()
    if not write:
        missing = connection.scalar(
            sa.select(sa.func.count()).select_from(_missing(which).subquery("missing"))
        )
        extra = connection.scalar(
            sa.select(sa.func.count()).select_from(_states).where(_extra_condition(which))
        )
        return Difference(missing or 0, extra or 0)
    removed = connection.execute(sa.delete(_states).where(_extra_condition(which))).rowcount
    return Difference(_insert(connection, _missing(which)), removed)


def _among(ids: list[int]) -> Which:
    return lambda column: column.in_(ids)


def _between(low: int, high: int) -> Which:
    return lambda column: column.between(low, high)


def _insert(connection: sa.Connection, rows: sa.Select[Any] | sa.CompoundSelect[Any]) -> int:
    """Insert the rows the statement selects; how many (kept by request: SQLAlchemy keeps
    the count of an INSERT only when asked)."""
    statement = sa.insert(_states).from_select(list(COLUMNS), rows)
    result = connection.execute(statement.execution_options(preserve_rowcount=True))
    return int(result.rowcount)


def refresh_incident_states(db: Session, incident_ids: Iterable[int]) -> Difference:
    """Recompute the rows of these incidents in the session's transaction."""
    ids = sorted(set(incident_ids))
    total = Difference()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        total += _apply(db, _among(chunk), write=True)
    return total


def refresh_mission_hosts(db: Session, mission_code: str) -> Difference:
    """Recompute the rows of the mission's incidents, after its hosts changed."""
    of_mission = sa.select(_incidents.c.id).where(_incidents.c.mission_code == mission_code)
    return _apply(db, lambda column: column.in_(of_mission), write=True)


def fill_incident_states(db: Session) -> int:
    """Insert the rows of every incident into an empty table, in one statement: how a
    bulk load (the demo seed) fills it. The number of rows written."""
    return _insert(db.connection(), concerned_rows(lambda _column: sa.true()))


def rebuild(
    db: Session, *, write: bool = True, progress: Callable[[int], None] | None = None
) -> Difference:
    """Make the whole table the rule's answer (or, without ``write``, count the rows it
    lacks and the rows it should not hold), by ranges of incident ids."""
    connection = db.connection()
    # Rows of incidents that no longer exist (the foreign key cascades them away, but a
    # database restored without it might hold some).
    orphaned = _states.c.incident_id.not_in(sa.select(_incidents.c.id))
    orphans: int
    if write:
        orphans = connection.execute(sa.delete(_states).where(orphaned)).rowcount
    else:
        count = sa.select(sa.func.count()).select_from(_states).where(orphaned)
        orphans = connection.scalar(count) or 0
    total = Difference(0, orphans)
    low, high = connection.execute(
        sa.select(sa.func.min(_incidents.c.id), sa.func.max(_incidents.c.id))
    ).one()
    if low is None:
        return total
    for start in range(low, high + 1, REBUILD_CHUNK):
        end = start + REBUILD_CHUNK - 1
        total += _apply(db, _between(start, end), write=write)
        if progress:
            progress(min(end, high) - start + 1)
    return total


# The session hook ---------------------------------------------------------------------------


def keep_current() -> None:
    """Keep ``incident_states`` current in every session's flushes (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


def _after_flush(session: Session, _context: object) -> None:
    # Attribute histories still hold the flushed changes here (they are reset afterwards).
    incident_ids: set[int] = set()
    missions: set[str] = set()
    for record in session.new:
        if isinstance(record, Incident):
            incident_ids.add(record.id)
        elif isinstance(record, Victim):
            incident_ids.add(record.incident_id)
    for record in session.dirty:
        if isinstance(record, Incident) and _changed(record, _INCIDENT_COLUMNS):
            incident_ids.add(record.id)
        elif isinstance(record, Victim) and _changed(record, _VICTIM_COLUMNS):
            incident_ids.update(_incident_ids_of(record))
        elif isinstance(record, Mission) and _changed(record, ("hosts",)):
            missions.add(record.code)
    for record in session.deleted:
        if isinstance(record, Victim):
            incident_ids.update(_incident_ids_of(record))
    if incident_ids:
        refresh_incident_states(session, incident_ids)
    for code in sorted(missions):
        refresh_mission_hosts(session, code)


def _changed(record: object, names: Collection[str]) -> bool:
    attributes = sa.inspect(record).attrs
    return any(attributes[name].history.has_changes() for name in names)


def _incident_ids_of(victim: Victim) -> set[int]:
    """The victim's incident, and the one it belonged to before the flush if it moved."""
    history = sa.inspect(victim).attrs.incident_id.history
    ids = {victim.incident_id, *history.deleted}
    return {i for i in ids if i is not None}
