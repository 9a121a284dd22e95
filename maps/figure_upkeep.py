"""Keeping the figure tables current, in the transaction of every change.

The tables hold, at all times, the sum of what each undeleted incident adds to them
(:mod:`maps.figure_facts`). A change to some incidents therefore takes away what they
added before it and adds what they add after it:

- ORM writes, by a session hook (:func:`keep_current`, connected by the app factory):
  before each flush, the incidents it touches (created, edited, deleted; whose victims,
  cases or stage events change; of a mission whose hosts change) are read as they stand;
  after the flush (and after ``incident_states`` is brought up to date in it), they are
  read again, and the difference is written. A hook rather than calls in each service,
  for the reason :mod:`incidents.concerned` gives: a call forgotten in one path would
  silently count an incident where its viewer could not open it.
- Writes that bypass the ORM call :func:`changing` around them (the areas that boundaries
  give) or :func:`count_new_incidents` after them (an import); the demo seed fills the
  tables with :func:`rebuild`.
- Each of these gives the cases that cover several incidents a new version when one of
  their incidents is among those changed, and notes which (:func:`shared_cases_version`,
  :func:`shared_cases_changed`): their figures are counted one by one, kept per version,
  and counted again for the changed cases only (:mod:`maps.shared_cases`).

Every figure is read from the tables only once they are known to hold every incident
(:func:`is_built`): a rebuild marks them so, as does the migration of an empty database.
``flask --app wsgi figures rebuild`` fills them from scratch; ``figures check`` counts
what a rebuild would change.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from capdb.db import Base
from capdb.reference import Mission, MissionHost
from incidents.models import Incident, JudicialCase, StageEvent, Victim, case_incidents
from maps.figure_facts import (
    TABLES,
    Key,
    Sums,
    Which,
    add_facts,
    difference,
    empty_sums,
    load_facts,
)
from maps.figure_fill import fill
from maps.models import EVERY_CASE, FigureChange, FigureMark, FigureVersion

MARK = "built"
CHUNK = 5_000  # incident ids per statement (SQLite binds at most 32,766 parameters)
FILL_CHUNK = 20_000  # incident ids per range when filling the tables
# Past this many incidents changed at once, refilling the tables beats diffing them.
REFILL_ABOVE = 50_000
_PENDING = "capdb.figures.pending"
SHARED_CASES = "shared_cases"  # the FigureVersion of the cases that cover several incidents
KEPT_CHANGES = 10_000  # the versions whose changes are kept: a reader older is counted afresh

# What an incident's figures depend on, besides its victims, cases and stage events.
_INCIDENT = (
    "occurred_on", "mission_code", "country_code", "means_of_attack", "status", "deleted_at",
    "latitude", "longitude", "admin1_code", "admin2_code",
)  # fmt: skip
_VICTIM = ("outcome", "category", "nationality_code", "contributing_country_code", "deleted_at")
_EVENT = ("stage", "occurred_on", "review_status", "deleted_at")


def table(name: str) -> sa.Table:
    return Base.metadata.tables[name]


def is_built(db: Session) -> bool:
    return db.get(FigureMark, MARK) is not None


# Reading what incidents add, and writing a difference ----------------------------------------


def contributions(db: Session, incident_ids: Iterable[int]) -> Sums:
    """What these incidents add to each table, as they stand in the transaction."""
    sums = empty_sums()
    ids = sorted(set(incident_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        add_facts(sums, load_facts(db, _among(chunk)))
    return sums


def _among(ids: Sequence[int]) -> Which:
    return lambda column: column.in_(ids)


def _between(low: int, high: int) -> Which:
    return lambda column: column.between(low, high)


def apply(db: Session, changes: Sums) -> None:
    """Add the changes to the tables, row by row in the order of their keys (so that
    concurrent writers take the rows' locks in one order), and drop emptied rows."""
    connection = db.connection()
    for name in TABLES:
        rows = sorted(changes[name].items())
        if not rows:
            continue
        figures = table(name)
        keys = [column.name for column in figures.primary_key.columns]
        sums = [column.name for column in figures.columns if not column.primary_key]
        insert = _insert(connection, figures)
        upsert = insert.on_conflict_do_update(
            index_elements=keys, set_={s: figures.c[s] + insert.excluded[s] for s in sums}
        )
        connection.execute(upsert, [_row(keys, key, sums, values) for key, values in rows])
        emptied = [dict(zip(keys, key, strict=True)) for key, values in rows if values[0] < 0]
        if emptied:
            connection.execute(
                sa.delete(figures).where(
                    *(figures.c[k] == sa.bindparam(k) for k in keys), figures.c[sums[0]] == 0
                ),
                emptied,
            )


def _insert(connection: sa.Connection, figures: sa.Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(figures)
    return sqlite.insert(figures)


def _row(keys: list[str], key: Key, sums: list[str], values: list[int]) -> dict[str, Any]:
    return {**dict(zip(keys, key, strict=True)), **dict(zip(sums, values, strict=True))}


@contextmanager
def changing(db: Session, incident_ids: Collection[int]) -> Iterator[None]:
    """Keep the tables current across a write to these incidents that bypasses the ORM."""
    if len(incident_ids) > REFILL_ABOVE:
        yield
        rebuild(db)
        return
    before = contributions(db, incident_ids)
    yield
    _write_difference(db, before, contributions(db, incident_ids))


def count_new_incidents(db: Session, incident_ids: Collection[int]) -> None:
    """Add incidents written past the ORM (an import), once their victims are in."""
    _write_difference(db, empty_sums(), contributions(db, incident_ids))


def _write_difference(db: Session, before: Sums, after: Sums) -> None:
    """Write what changed between what some incidents added before and after a change;
    if one of them belongs to a case that covers several incidents (before or after), the
    shared cases' version changes with it.

    In the same flush, so that no reader, the writer's own requests included, can see the
    change under the old version. Its row is locked until the commit, after the changed
    incidents': writers of the shared cases' incidents (a few in a hundred) take turns.
    """
    apply(db, difference(before, after))
    shared = {key[0] for key in (*before["figure_shared_cases"], *after["figure_shared_cases"])}
    if shared:
        new_shared_cases_version(db, shared)


# The version of the shared cases' figures -------------------------------------------------------


@dataclass(frozen=True)
class SharedVersion:
    """A version of the shared cases (``figure_versions``; ``value`` is its ``version``)."""

    serial: int  # the changes it follows
    value: int  # random: no other state of the data, restored or not, has had it


def shared_cases_version(db: Session) -> SharedVersion | None:
    """The version of the cases that cover several incidents: what was counted of them
    for it still holds. None where none is kept (nothing may be reused)."""
    row = db.execute(
        sa.select(FigureVersion.serial, FigureVersion.version).where(
            FigureVersion.name == SHARED_CASES
        )
    ).one_or_none()
    return None if row is None else SharedVersion(*row)


def new_shared_cases_version(db: Session, case_ids: Collection[int] | None = None) -> None:
    """Give the shared cases' version the next serial and a new random value, and note the
    cases it changes (None: every one). Now and then, forget the oldest changes.

    The version's row stays locked until the commit, so serials commit in their order: a
    reader that sees a serial sees every change noted up to it.
    """
    if case_ids is not None and not case_ids:
        return
    connection = db.connection()
    versions, changes = table("figure_versions"), table("figure_changes")
    value = secrets.randbits(63)
    insert = _insert(connection, versions).values(name=SHARED_CASES, version=value, serial=1)
    upsert = insert.on_conflict_do_update(
        index_elements=["name"],
        set_={"version": insert.excluded.version, "serial": versions.c.serial + 1},
    ).returning(versions.c.serial)
    serial = connection.execute(upsert).scalar_one()
    cases = sorted(case_ids) if case_ids is not None else [EVERY_CASE]
    connection.execute(
        sa.insert(changes), [{"serial": serial, "case_id": c, "version": value} for c in cases]
    )
    if serial % KEPT_CHANGES == 0:
        connection.execute(sa.delete(changes).where(changes.c.serial <= serial - KEPT_CHANGES))


def shared_cases_changed(db: Session, since: SharedVersion, now: SharedVersion) -> set[int] | None:
    """The shared cases changed after version ``since``, up to ``now``; None when that
    cannot be told: ``since`` is no version this database had (restored from elsewhere, or
    its changes forgotten), or a change since touched every case."""
    changes = sa.select(FigureChange.serial, FigureChange.case_id, FigureChange.version).where(
        FigureChange.serial.between(since.serial, now.serial)
    )
    had_since, changed = False, set()
    for serial, case_id, value in db.execute(changes):
        if serial == since.serial:
            had_since |= value == since.value
        elif case_id == EVERY_CASE:
            return None
        else:
            changed.add(case_id)
    return changed if had_since else None


# Filling from scratch --------------------------------------------------------------------------


def rebuild(db: Session) -> dict[str, int]:
    """Empty the tables and fill them with what every incident adds (:mod:`maps.figure_fill`),
    then mark them built. The rows written per table."""
    _hold_writers(db)
    for name in TABLES:
        db.execute(sa.delete(table(name)))
    fill(db)
    written = {
        name: db.scalar(sa.select(sa.func.count()).select_from(table(name))) or 0 for name in TABLES
    }
    db.execute(sa.delete(FigureMark))
    db.add(FigureMark(name=MARK))
    db.flush()
    new_shared_cases_version(db)
    return written


@dataclass(frozen=True)
class Discrepancy:
    missing: int = 0  # rows the tables lack or hold with other sums
    extra: int = 0  # rows the tables hold that nothing adds


def check(db: Session, progress: Callable[[int], None] | None = None) -> dict[str, Discrepancy]:
    """Per table, how far it is from what every incident adds."""
    wanted = _every_incident(db, progress)
    found: dict[str, Discrepancy] = {}
    for name in TABLES:
        figures = table(name)
        keys = list(figures.primary_key.columns)
        sums = [column for column in figures.columns if not column.primary_key]
        width = len(keys)
        held = {
            tuple(row[:width]): list(row[width:]) for row in db.execute(sa.select(*keys, *sums))
        }
        expected = {key: values for key, values in wanted[name].items() if values[0]}
        missing = sum(1 for key, values in expected.items() if held.get(key) != values)
        found[name] = Discrepancy(missing, sum(1 for key in held if key not in expected))
    return found


def _every_incident(db: Session, progress: Callable[[int], None] | None) -> Sums:
    sums = empty_sums()
    low = db.scalar(sa.select(sa.func.min(Incident.id)))
    high = db.scalar(sa.select(sa.func.max(Incident.id)))
    if low is None or high is None:
        return sums
    for start in range(low, high + 1, FILL_CHUNK):
        end = min(start + FILL_CHUNK - 1, high)
        add_facts(sums, load_facts(db, _between(start, end)))
        if progress:
            progress(end - start + 1)
    return sums


def _hold_writers(db: Session) -> None:
    """Make writers wait until the rebuild commits (SQLite's write lock already does)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(
            sa.text(
                "LOCK TABLE incidents, victims, judicial_cases, case_incidents, stage_events,"
                " incident_states, mission_hosts IN SHARE MODE"
            )
        )


# The session hook ------------------------------------------------------------------------------


def keep_current() -> None:
    """Keep the figure tables current in every session's flushes (idempotent)."""
    if not event.contains(Session, "before_flush", _before_flush):
        event.listen(Session, "before_flush", _before_flush)
        event.listen(Session, "after_flush_postexec", _after_flush)


@dataclass
class _Touched:
    incident_ids: set[int] = field(default_factory=set)
    case_ids: set[int] = field(default_factory=set)
    missions: set[str] = field(default_factory=set)
    new: list[Incident] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.incident_ids or self.case_ids or self.missions or self.new)


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    touched = _touched(session)
    if not touched:
        return
    ids = touched.incident_ids | _incidents_of(session, touched.case_ids, touched.missions)
    # Whether a case covers one incident or several changes the figures of each of them.
    ids |= _incidents_of(session, _cases_of(session, ids), set())
    _lock(session, ids)
    pending = session.info.setdefault(_PENDING, [])
    pending.append((ids, touched.new, contributions(session, ids)))


def _after_flush(session: Session, _context: object) -> None:
    for ids, new, before in session.info.pop(_PENDING, []):
        ids |= {incident.id for incident in new if incident.id is not None}
        _write_difference(session, before, contributions(session, ids))


def _lock(session: Session, incident_ids: set[int]) -> None:
    """Hold these incidents' rows until the transaction ends, in the order of their ids.

    What they add is read now and again after the flush; a writer committing a change to
    one of them in between would be counted twice. SQLite's one write lock, taken at the
    start of work that writes, already keeps writers apart; PostgreSQL's rows are locked.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for chunk in _chunks(sorted(incident_ids)):
        rows = sa.select(Incident.id).where(Incident.id.in_(chunk)).order_by(Incident.id)
        session.connection().execute(rows.with_for_update())


def _incidents_of(session: Session, case_ids: set[int], missions: set[str]) -> set[int]:
    ids: set[int] = set()
    connection = session.connection()
    for chunk in _chunks(sorted(case_ids)):
        links = sa.select(case_incidents.c.incident_id).where(case_incidents.c.case_id.in_(chunk))
        ids.update(connection.scalars(links))
    if missions:
        of_missions = sa.select(Incident.id).where(Incident.mission_code.in_(sorted(missions)))
        ids.update(connection.scalars(of_missions))
    return ids


def _cases_of(session: Session, incident_ids: set[int]) -> set[int]:
    cases: set[int] = set()
    for chunk in _chunks(sorted(incident_ids)):
        links = sa.select(case_incidents.c.case_id).where(case_incidents.c.incident_id.in_(chunk))
        cases.update(session.connection().scalars(links))
    return cases


def _chunks(values: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _touched(session: Session) -> _Touched:
    touched = _Touched()
    for record in session.new:
        _new(touched, record)
    for record in session.dirty:
        _changed(touched, record)
    for record in session.deleted:
        _deleted(touched, record)
    return touched


def _new(touched: _Touched, record: object) -> None:
    if isinstance(record, MissionHost):
        _host(touched, record)
    elif isinstance(record, Incident):
        touched.new.append(record)
        touched.case_ids.update(_ids(record, "cases"))
    elif isinstance(record, Victim):
        touched.incident_ids.update(_ids(record, "incident", "incident_id"))
    elif isinstance(record, JudicialCase):
        touched.incident_ids.update(_ids(record, "incidents"))
    elif isinstance(record, StageEvent):
        touched.case_ids.update(_ids(record, "case", "case_id"))


def _changed(touched: _Touched, record: object) -> None:
    if isinstance(record, Incident):
        if _has_changes(record, _INCIDENT):
            touched.incident_ids.add(record.id)
        if _has_changes(record, ("cases",)):
            touched.incident_ids.add(record.id)
            touched.case_ids.update(_ids(record, "cases"))
    elif isinstance(record, Victim):
        if _has_changes(record, (*_VICTIM, "incident", "incident_id")):
            touched.incident_ids.update(_ids(record, "incident", "incident_id"))
    elif isinstance(record, JudicialCase):
        if _has_changes(record, ("deleted_at", "review_status", "incidents")):
            touched.case_ids.add(record.id)
            touched.incident_ids.update(_ids(record, "incidents"))
    elif isinstance(record, StageEvent):
        if _has_changes(record, (*_EVENT, "case", "case_id")):
            touched.case_ids.update(_ids(record, "case", "case_id"))
    elif isinstance(record, Mission) and _has_changes(record, ("host_periods",)):
        touched.missions.add(record.code)
    elif isinstance(record, MissionHost):
        _host(touched, record)


def _deleted(touched: _Touched, record: object) -> None:
    if isinstance(record, MissionHost):
        _host(touched, record)
    elif isinstance(record, Incident):
        touched.incident_ids.add(record.id)
    elif isinstance(record, Victim):
        touched.incident_ids.update(_ids(record, "incident", "incident_id"))
    elif isinstance(record, JudicialCase):
        touched.case_ids.add(record.id)
    elif isinstance(record, StageEvent):
        touched.case_ids.update(_ids(record, "case", "case_id"))


def _host(touched: _Touched, host: MissionHost) -> None:
    """A host period added, changed or removed on its own (through its mission's
    ``host_periods``, the mission itself shows the change)."""
    if host.mission_code:
        touched.missions.add(host.mission_code)


def _has_changes(record: object, names: Collection[str]) -> bool:
    attributes = sa.inspect(record).attrs
    return any(attributes[name].history.has_changes() for name in names)


def _ids(record: object, relationship: str, column: str | None = None) -> set[int]:
    """The ids of the records ``relationship`` points to (or held), now and before the
    flush, as far as they are known without loading anything; and of ``column``."""
    attributes = sa.inspect(record).attrs
    related: list[Any] = []
    history = attributes[relationship].history
    related.extend((*history.added, *history.unchanged, *history.deleted))
    ids = {sa.inspect(other).identity[0] for other in related if _persistent(other)}
    if column is not None:
        # Read, not taken from the history: an expired value is loaded.
        ids.update(v for v in (getattr(record, column), *attributes[column].history.deleted) if v)
    return ids


def _persistent(record: object) -> bool:
    state = sa.inspect(record)
    return state.identity is not None
