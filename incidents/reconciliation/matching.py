"""capdb's fatalities from malicious acts beside the UN's, per mission and year (and per
nationality and personnel type on demand), with the casualties each side has that the
other has not.

Both sides are scoped to the viewer (:mod:`incidents.policy_reconciliation`). capdb's side
is its victims killed in incidents the viewer sees (every incident capdb holds is a
malicious act); the UN's, the casualties of the newest reference set whose type of incident
is a malicious act (the others are kept, left out, and counted). A UN casualty and a capdb
victim match when they are of the same mission, nationality and personnel type (the UN's
types cover capdb's categories as :data:`~incidents.reconciliation.un_data.UN_PERSONNEL_TYPES`
declares) and their incidents are at most ``tolerance`` days apart; each is matched once,
to the nearest in time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from capdb.reference import Mission
from incidents import policy, policy_reconciliation
from incidents.models import Incident, Victim
from incidents.reconciliation.un_data import current_set, un_type_named, un_type_of
from incidents.un_figures import MALICIOUS_ACT, ReconciliationNote, UnFatality, UnFatalitySet

DEFAULT_TOLERANCE = 3
MAX_TOLERANCE = 60


@dataclass(frozen=True)
class Options:
    """What the viewer asked: a mission, years, a tolerance in days, and the finer levels."""

    mission: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    tolerance: int = DEFAULT_TOLERANCE
    by_nationality: bool = False
    by_personnel_type: bool = False


@dataclass(frozen=True)
class Casualty:
    """One casualty of either side."""

    side: str  # "capdb" or "un"
    record_id: int  # the victim's id, or the UN row's
    label: str  # the incident's reference, or the UN's casualty id
    day: date
    mission: str  # a mission's code, or the UN's acronym when capdb does not know it
    nationality: str
    personnel_type: str  # the UN's type
    incident_id: int | None = None


@dataclass
class Row:
    mission: str
    year: int
    nationality: str
    personnel_type: str
    known: bool = True  # the UN's acronym names a mission capdb knows
    capdb: int = 0
    un: int = 0
    matched: int = 0
    unmatched_capdb: list[Casualty] = field(default_factory=list)
    unmatched_un: list[Casualty] = field(default_factory=list)
    note: ReconciliationNote | None = None

    @property
    def difference(self) -> int:
        return self.capdb - self.un

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.mission, self.year, self.nationality, self.personnel_type)


@dataclass(frozen=True)
class Reconciliation:
    fatality_set: UnFatalitySet | None
    rows: list[Row]
    options: Options
    # UN rows of other types of incident (accidents, illness...) in scope: kept, left out.
    other_types: int

    @property
    def totals(self) -> tuple[int, int, int]:
        return (
            sum(r.capdb for r in self.rows),
            sum(r.un for r in self.rows),
            sum(r.matched for r in self.rows),
        )


def _years(column: Any, options: Options) -> list[sa.ColumnElement[bool]]:
    conditions = []
    if options.year_from is not None:
        conditions.append(column >= date(options.year_from, 1, 1))
    if options.year_to is not None:
        conditions.append(column <= date(options.year_to, 12, 31))
    return conditions


def capdb_casualties(db: Session, user: User, options: Options) -> list[Casualty]:
    """The victims killed that the viewer sees."""
    statement = (
        sa.select(
            Victim.id, Incident.id, Incident.reference, Incident.occurred_on,
            Incident.mission_code, Victim.nationality_code, Victim.category,
        )
        .join(Incident, Incident.id == Victim.incident_id)
        .where(policy.visible_victims(user), Victim.outcome == "killed")
        .where(*_years(Incident.occurred_on, options))
    )  # fmt: skip
    if options.mission:
        statement = statement.where(Incident.mission_code == options.mission)
    return [
        Casualty(
            "capdb", victim, reference, day, mission, nationality, un_type_of(category), incident
        )
        for victim, incident, reference, day, mission, nationality, category in db.execute(
            statement
        )
    ]


def un_casualties(
    db: Session, user: User, options: Options, fatality_set: UnFatalitySet
) -> tuple[list[Casualty], int]:
    """The UN's malicious-act casualties the viewer reconciles, and how many of other types."""
    scope = [
        UnFatality.set_id == fatality_set.id,
        policy_reconciliation.visible_un_fatalities(user),
        *_years(UnFatality.incident_date, options),
    ]
    if options.mission:
        scope.append(UnFatality.mission_code == options.mission)
    rows = db.scalars(sa.select(UnFatality).where(*scope))
    found, others = [], 0
    for row in rows:
        if row.type_of_incident != MALICIOUS_ACT:
            others += 1
            continue
        found.append(
            Casualty(
                "un", row.id, row.casualty_id, row.incident_date,
                row.mission_code or row.mission_acronym, row.nationality_code,
                un_type_named(row.personnel_type),
            )
        )  # fmt: skip
    return found, others


def match(
    capdb: list[Casualty], un: list[Casualty], tolerance: int
) -> tuple[list[tuple[Casualty, Casualty]], list[Casualty], list[Casualty]]:
    """Pairs, and each side's unmatched: same mission, nationality and type, nearest in time
    within the tolerance, each casualty once."""
    by_key: dict[tuple[str, str, str], list[Casualty]] = defaultdict(list)
    for casualty in capdb:
        by_key[(casualty.mission, casualty.nationality, casualty.personnel_type)].append(casualty)
    pairs: list[tuple[Casualty, Casualty]] = []
    unmatched_un: list[Casualty] = []
    for casualty in sorted(un, key=lambda c: (c.day, c.label)):
        candidates = by_key.get(
            (casualty.mission, casualty.nationality, casualty.personnel_type), []
        )
        near = [c for c in candidates if abs((c.day - casualty.day).days) <= tolerance]
        if not near:
            unmatched_un.append(casualty)
            continue
        chosen = min(near, key=lambda c: (abs((c.day - casualty.day).days), c.record_id))
        candidates.remove(chosen)
        pairs.append((chosen, casualty))
    unmatched_capdb = sorted(
        (c for rest in by_key.values() for c in rest), key=lambda c: (c.day, c.label)
    )
    return pairs, unmatched_capdb, unmatched_un


def reconcile(db: Session, user: User, options: Options) -> Reconciliation:
    fatality_set = current_set(db)
    capdb = capdb_casualties(db, user, options)
    un, others = un_casualties(db, user, options, fatality_set) if fatality_set else ([], 0)
    pairs, unmatched_capdb, unmatched_un = match(capdb, un, options.tolerance)
    rows: dict[tuple[str, int, str, str], Row] = {}

    def row_of(casualty: Casualty) -> Row:
        key = (
            casualty.mission,
            casualty.day.year,
            casualty.nationality if options.by_nationality else "",
            casualty.personnel_type if options.by_personnel_type else "",
        )
        if key not in rows:
            rows[key] = Row(*key)
        return rows[key]

    for casualty in capdb:
        row_of(casualty).capdb += 1
    for casualty in un:
        row_of(casualty).un += 1
    for _capdb, un_casualty in pairs:
        row_of(un_casualty).matched += 1
    for casualty in unmatched_capdb:
        row_of(casualty).unmatched_capdb.append(casualty)
    for casualty in unmatched_un:
        row_of(casualty).unmatched_un.append(casualty)
    codes = set(db.scalars(sa.select(Mission.code)))
    for row in rows.values():
        row.known = row.mission in codes
    _attach_notes(db, user, rows.values())
    ordered = sorted(
        rows.values(), key=lambda r: (r.mission, r.year, r.nationality, r.personnel_type)
    )
    return Reconciliation(fatality_set, ordered, options, others)


def _attach_notes(db: Session, user: User, rows: Iterable[Row]) -> None:
    notes = {
        (n.mission_code, n.year, n.nationality_code, n.personnel_type): n
        for n in db.scalars(
            sa.select(ReconciliationNote).where(policy_reconciliation.visible_notes(user))
        )
    }
    for row in rows:
        row.note = notes.get(row.key)
