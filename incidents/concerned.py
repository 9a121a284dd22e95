"""Which States each incident and each case concerns, and why: ``incident_states`` and
``case_states``, kept to their rules; and which missions' officers see each case,
``case_missions``.

An incident concerns a State that hosts its mission (``host``), the State it happened in
(``place``), and each State that an undeleted victim belongs to (``nationality``) or served
for (``contributor``); a victim who is stateless or whose nationality is undetermined
(countries of the kind ``nationality_status``) makes it concern no State. A State's focal
points see a case that their State prosecutes (``prosecutor``) or that is linked to an
incident they see: validated, undeleted and concerning their State (``through_incident``).
:func:`incident_rows` and :func:`case_rows` state these rules once, in SQL; the tables hold
their answers, one row per record and State with a flag per reason (and an incident's
date), so that "the incidents concerning Chad" and "the cases Chad sees" are index ranges
in list order rather than scans of every victim and every linked incident on each query.
:mod:`incidents.visibility` reads them.

How the tables stay current, in the same transaction as the change:

- ORM writes, by a session hook (:func:`keep_current`, connected by the app factory): after
  each flush, the incidents created or whose country, mission or date changed, or whose
  victims were added, removed, undeleted or changed nationality or contributing country,
  have their rows recomputed, and so have the cases linked to them or to an incident whose
  status or deletion changed, the cases whose links (changed from either side) or
  prosecuting State changed, and those a hard-deleted incident was linked to; a mission's
  incidents when its hosts change. A hook rather than calls in each service because every
  form, API call, workflow step, restore, undelete, admin script and test factory writes
  through the ORM, and a call forgotten in one of them would silently show a record to the
  wrong State (or hide it from the right one).
- Bulk inserts that bypass the ORM (:mod:`capdb.bulk`: the spreadsheet import, the demo
  seed) call :func:`refresh_incident_states` or :func:`fill` themselves; a Core statement
  carries no objects for a hook to see.

Deleted records keep their rows (visibility excludes them on its own); the incidents a
deleted incident made a case visible through no longer count, as the rule says.
``flask --app wsgi scope rebuild`` (:func:`rebuild`) recomputes both tables from their
rules, and ``scope check`` reports what it would change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.reference import Country, mission_hosts
from incidents.models import (
    CONCERN_REASONS,
    CaseMission,
    CaseState,
    Incident,
    IncidentState,
    JudicialCase,
    Victim,
    case_incidents,
)

# A condition on an id column: which records a statement covers.
Which = Callable[[sa.ColumnElement[int]], sa.ColumnElement[bool]]

CHUNK = 5_000  # ids per statement (SQLite binds at most 32,766 parameters)
REBUILD_CHUNK = 50_000  # ids per range when rebuilding a whole table

_incidents = cast(sa.Table, Incident.__table__)
_victims = cast(sa.Table, Victim.__table__)
_cases = cast(sa.Table, JudicialCase.__table__)


@dataclass(frozen=True)
class Difference:
    """Rows added to (or missing from) a table and rows removed from (or wrong in) it."""

    added: int = 0
    removed: int = 0

    def __add__(self, other: Difference) -> Difference:
        return Difference(self.added + other.added, self.removed + other.removed)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed)


def _flags(reasons: tuple[str, ...], reason: str) -> list[Any]:
    return [sa.literal_column("1" if r == reason else "0").label(r) for r in reasons]


def incident_rows(which: Which) -> sa.Select[Any]:
    """The incidents' rule: one row per incident ``which`` selects and State it concerns,
    with the incident's date and a flag per reason (the columns of ``incident_states``)."""
    undeleted = _victims.c.deleted_at.is_(None)
    hosted = _incidents.join(
        mission_hosts, mission_hosts.c.mission_code == _incidents.c.mission_code
    )

    def reason(incident_id: Any, state: Any, name: str) -> sa.Select[Any]:
        flags = _flags(CONCERN_REASONS, name)
        return sa.select(incident_id.label("incident_id"), state.label("state"), *flags)

    victims = (_victims.c.incident_id, undeleted, which(_victims.c.incident_id))
    # Stateless (XXA) and undetermined (XXX) are nationalities, not States.
    no_state = sa.select(Country.code).where(Country.kind == "nationality_status").correlate(None)
    reasons = sa.union_all(
        reason(_incidents.c.id, _incidents.c.country_code, "place").where(which(_incidents.c.id)),
        reason(_incidents.c.id, mission_hosts.c.country_code, "host")
        .select_from(hosted)
        .where(which(_incidents.c.id)),
        reason(victims[0], _victims.c.nationality_code, "nationality").where(
            *victims[1:], _victims.c.nationality_code.not_in(no_state)
        ),
        reason(victims[0], _victims.c.contributing_country_code, "contributor").where(
            *victims[1:], _victims.c.contributing_country_code.is_not(None)
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


CASE_REASONS = ("prosecutor", "through_incident")


def case_rows(which: Which) -> sa.Select[Any]:
    """The cases' rule, over ``incident_states``: one row per case ``which`` selects and
    State whose focal points see it, with a flag per reason (those of ``case_states``)."""
    seen = _incidents.join(case_incidents, case_incidents.c.incident_id == _incidents.c.id).join(
        IncidentState, IncidentState.incident_id == _incidents.c.id
    )
    reasons = sa.union_all(
        sa.select(
            _cases.c.id.label("case_id"),
            _cases.c.prosecuting_state_code.label("state"),
            *_flags(CASE_REASONS, "prosecutor"),
        ).where(which(_cases.c.id)),
        sa.select(
            case_incidents.c.case_id, IncidentState.state, *_flags(CASE_REASONS, "through_incident")
        )
        .select_from(seen)
        .where(
            _incidents.c.status == "validated",
            _incidents.c.deleted_at.is_(None),
            which(case_incidents.c.case_id),
        ),
    ).subquery("reasons")
    return sa.select(
        reasons.c.case_id,
        reasons.c.state,
        *[(sa.func.max(reasons.c[r]) == 1).label(r) for r in CASE_REASONS],
    ).group_by(reasons.c.case_id, reasons.c.state)


def case_mission_rows(which: Which) -> sa.Select[Any]:
    """The missions' rule: one row per case ``which`` selects and mission of one of its
    incidents, deleted or not (whose officers keep the case)."""
    return (
        sa.select(case_incidents.c.case_id, _incidents.c.mission_code)
        .join(_incidents, _incidents.c.id == case_incidents.c.incident_id)
        .where(which(case_incidents.c.case_id))
        .distinct()
    )


@dataclass(frozen=True)
class Derived:
    """A table derived from a rule: its rows for any set of records (its key) are
    recomputed by comparing whole rows with the rule's."""

    table: sa.Table
    key: str
    rule: Callable[[Which], sa.Select[Any]]
    source: sa.Table  # the records it derives from, by id

    @property
    def columns(self) -> list[sa.Column[Any]]:
        return list(self.table.columns)

    def missing(self, which: Which) -> sa.CompoundSelect[Any]:
        held = sa.select(*self.columns).where(which(self.table.c[self.key]))
        return sa.select(self.rule(which).subquery("wanted")).except_(held)

    def wrong(self, which: Which) -> sa.ColumnElement[bool]:
        """Rows held that the rule does not give, or gives otherwise."""
        row = sa.tuple_(*self.columns)
        return sa.and_(which(self.table.c[self.key]), row.not_in(self.rule(which)))

    def apply(self, db: Session, which: Which, *, write: bool) -> Difference:
        """Make the rows of the records ``which`` selects the rule's (or count what that
        would change, without ``write``)."""
        connection = db.connection()
        if not write:
            missing = sa.select(sa.func.count()).select_from(self.missing(which).subquery())
            wrong = sa.select(sa.func.count()).select_from(self.table).where(self.wrong(which))
            return Difference(connection.scalar(missing) or 0, connection.scalar(wrong) or 0)
        removed = connection.execute(sa.delete(self.table).where(self.wrong(which))).rowcount
        return Difference(self.insert(db, self.missing(which)), removed)

    def insert(self, db: Session, rows: sa.Select[Any] | sa.CompoundSelect[Any]) -> int:
        # SQLAlchemy keeps the count of an INSERT only when asked.
        statement = sa.insert(self.table).from_select([c.name for c in self.columns], rows)
        result = db.connection().execute(statement.execution_options(preserve_rowcount=True))
        return int(result.rowcount)

    def refresh(self, db: Session, ids: Iterable[int]) -> Difference:
        ordered = sorted(set(ids))
        total = Difference()
        for start in range(0, len(ordered), CHUNK):
            total += self.apply(db, _among(ordered[start : start + CHUNK]), write=True)
        return total

    def rebuild(self, db: Session, *, write: bool) -> Difference:
        """The whole table, by ranges of ids; rows of records that no longer exist too
        (the foreign key cascades them away, but a database restored without it might
        hold some)."""
        connection = db.connection()
        orphaned = self.table.c[self.key].not_in(sa.select(self.source.c.id))
        if write:
            total = Difference(
                0, connection.execute(sa.delete(self.table).where(orphaned)).rowcount
            )
        else:
            count = sa.select(sa.func.count()).select_from(self.table).where(orphaned)
            total = Difference(0, connection.scalar(count) or 0)
        low, high = connection.execute(
            sa.select(sa.func.min(self.source.c.id), sa.func.max(self.source.c.id))
        ).one()
        for start in range(low or 0, (high or -1) + 1, REBUILD_CHUNK):
            total += self.apply(db, _between(start, start + REBUILD_CHUNK - 1), write=write)
        return total


INCIDENT_STATES = Derived(
    cast(sa.Table, IncidentState.__table__), "incident_id", incident_rows, _incidents
)
CASE_STATES = Derived(cast(sa.Table, CaseState.__table__), "case_id", case_rows, _cases)
CASE_MISSIONS = Derived(cast(sa.Table, CaseMission.__table__), "case_id", case_mission_rows, _cases)
# In the order they are rebuilt: the cases' States read the incidents'.
DERIVED = (INCIDENT_STATES, CASE_STATES, CASE_MISSIONS)
CASE_TABLES = (CASE_STATES, CASE_MISSIONS)


def _among(ids: list[int]) -> Which:
    return lambda column: column.in_(ids)


def _between(low: int, high: int) -> Which:
    return lambda column: column.between(low, high)


def _cases_of(incidents: sa.Select[Any] | list[int]) -> Which:
    # Never correlated: the cases' rule selects from case_incidents itself, and an
    # auto-correlated subquery would keep only the rows of these incidents.
    linked = (
        sa.select(case_incidents.c.case_id)
        .where(case_incidents.c.incident_id.in_(incidents))
        .correlate(None)
    )
    return lambda column: column.in_(linked)


# What the write paths call ------------------------------------------------------------------


def refresh_incident_states(db: Session, incident_ids: Iterable[int]) -> Difference:
    """Recompute the rows of these incidents, and of the cases linked to them, in the
    session's transaction; the incidents' rows added and removed."""
    ids = sorted(set(incident_ids))
    difference = INCIDENT_STATES.refresh(db, ids)
    refresh_cases_of(db, ids)
    return difference


def refresh_cases_of(db: Session, incident_ids: Iterable[int]) -> None:
    """Recompute the rows of the cases linked to these incidents (after their status or
    deletion changed: their cases' visibility follows)."""
    ids = sorted(set(incident_ids))
    for start in range(0, len(ids), CHUNK):
        for derived in CASE_TABLES:
            derived.apply(db, _cases_of(ids[start : start + CHUNK]), write=True)


def refresh_case_states(db: Session, case_ids: Iterable[int]) -> Difference:
    """Recompute the rows of these cases (opened, linked to more incidents, or prosecuted
    by another State), and their missions; the States' rows added and removed."""
    ids = sorted(set(case_ids))
    CASE_MISSIONS.refresh(db, ids)
    return CASE_STATES.refresh(db, ids)


def refresh_mission_hosts(db: Session, mission_code: str) -> Difference:
    """Recompute the rows of the mission's incidents and their cases, after its hosts
    changed; the incidents' rows added and removed."""
    of_mission = (
        sa.select(_incidents.c.id)
        .where(_incidents.c.mission_code == mission_code)
        .correlate(None)  # the incidents' rule selects from incidents itself
    )
    difference = INCIDENT_STATES.apply(db, lambda column: column.in_(of_mission), write=True)
    CASE_STATES.apply(db, _cases_of(of_mission), write=True)
    return difference


def fill(db: Session) -> tuple[int, ...]:
    """Fill the empty tables in one statement each: how a bulk load (the demo seed) does
    it, after inserting incidents, victims and cases. The rows written to each."""
    everything: Which = lambda _column: sa.true()  # noqa: E731
    return tuple(derived.insert(db, derived.rule(everything)) for derived in DERIVED)


def rebuild(db: Session, *, write: bool = True) -> tuple[Difference, ...]:
    """Make the tables their rules' answers (or, without ``write``, count the rows they
    lack and the rows they should not hold), in the order of :data:`DERIVED`."""
    return tuple(derived.rebuild(db, write=write) for derived in DERIVED)
