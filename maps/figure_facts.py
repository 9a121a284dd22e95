"""What each incident adds to the figure tables (:mod:`maps.models`), said once.

:func:`load_facts` reads, in four plain queries, what the figures need to know of the
incidents a condition selects (``which``, on an incident id column); :func:`add_facts`
turns each incident into the rows it adds to each table. Filling the tables runs both
over every incident, by ranges of ids; keeping them current runs them over the incidents
a change touches, before and after it, and writes the difference
(:mod:`maps.figure_upkeep`). The figures read from the tables must equal the figures
counted from the incidents: the equivalence tests hold the two to that.

An incident, for the figures: undeleted; its status, mission, country, means of attack and
month; a bit for each outcome one of its undeleted victims had, and its fatalities; the
furthest step of the justice ladder one of its undeleted cases reached (0 without a case);
its point in millionths of a degree; its areas; its undeleted victims; its undeleted cases
that cover no other undeleted incident, with the days each took to each step (the cases
that cover several are listed, and counted from the incidents when a figure needs them).
It counts once for everyone (``EVERYONE``) and once more for each State it concerns
(``incident_states``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.vocabularies import OUTCOME
from incidents.models import Incident, IncidentState, JudicialCase, Victim, case_incidents
from maps.grid import ORIGIN_X, ORIGIN_Y, SPAN, micro
from maps.ladder import COUNTED_CASE, TIMED_STEPS, Step, stage_progress
from maps.models import (
    BY_COUNTRY,
    BY_MONTH,
    BY_MONTH_AND_COUNTRY,
    BY_MONTH_AND_MEANS,
    BY_YEAR,
    EVERYONE,
)

# A condition on an incident id column: which incidents a query covers.
Which = Callable[[Any], sa.ColumnElement[bool]]
Key = tuple[Any, ...]
# Per table, per row (its primary key, in the table's column order), the sums it holds.
Sums = dict[str, dict[Key, list[int]]]

# Each outcome capdb ships (which admins cannot retire) sets its bit in ``outcomes`` when a
# victim had it: 1 killed, 2 injured, 4 abducted, 8 detained. An outcome an admin adds has
# none: a filter on it is counted from the incidents (maps.figure_reads.reading).
OUTCOME_BITS = {term.code: 1 << i for i, term in enumerate(OUTCOME.shipped)}
# The grid levels kept: a view drawn at a finer level is counted from the incidents.
FINEST_LEVEL = 12
AREA_LEVELS = ("admin0", "admin1", "admin2")
# Days taken to a step are counted in buckets of this many days, and day by day.
BUCKET_DAYS = 32
# The measures of ``figure_cases``: cases by the step reached; N, cases that reached step
# N by bucket of days taken; N + DAY_BY_DAY, the same day by day.
REACHED = 0
DAY_BY_DAY = 10
NONE = ""
TABLES = (
    "figure_counts", "figure_victims", "figure_cases", "figure_shared_cases", "figure_cells",
    "figure_areas",
)  # fmt: skip


@dataclass(frozen=True)
class CaseFact:
    """A case that covers this incident alone: the step it reached, and the days it took
    to each timed step it reached."""

    reached: int
    days: dict[int, int]


@dataclass
class Fact:
    incident_id: int
    status: str
    mission: str
    country: str
    means: str
    occurred_on: date
    x: int | None
    y: int | None
    admin1: str
    admin2: str
    outcomes: int = 0
    killed: int = 0
    step: int = 0
    states: list[str] = field(default_factory=list)
    victims: list[tuple[str, str, str, str]] = field(default_factory=list)
    cases: list[CaseFact] = field(default_factory=list)
    shared_cases: list[int] = field(default_factory=list)  # cases of other incidents too


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def bucket_of(days: int) -> int:
    """The bucket of a number of days, rounded toward zero as the databases divide."""
    return days // BUCKET_DAYS if days >= 0 else -(-days // BUCKET_DAYS)


# Reading -------------------------------------------------------------------------------------


def load_facts(db: Session, which: Which) -> dict[int, Fact]:
    """The undeleted incidents ``which`` selects, as the figures see them."""
    connection = db.connection()
    incidents = sa.select(
        Incident.id,
        Incident.status,
        Incident.mission_code,
        Incident.country_code,
        Incident.means_of_attack,
        Incident.occurred_on,
        micro(Incident.longitude),
        micro(Incident.latitude),
        sa.func.coalesce(Incident.admin1_code, NONE),
        sa.func.coalesce(Incident.admin2_code, NONE),
    ).where(Incident.deleted_at.is_(None), which(Incident.id))
    facts = {row[0]: Fact(*row) for row in connection.execute(incidents)}
    if facts:
        _add_victims(connection, which, facts)
        _add_states(connection, which, facts)
        _add_cases(connection, which, facts)
    return facts


def _add_victims(connection: sa.Connection, which: Which, facts: dict[int, Fact]) -> None:
    victims = sa.select(
        Victim.incident_id,
        Victim.category,
        Victim.nationality_code,
        sa.func.coalesce(Victim.contributing_country_code, NONE),
        Victim.outcome,
    ).where(Victim.deleted_at.is_(None), which(Victim.incident_id))
    for incident_id, *victim in connection.execute(victims):
        fact = facts.get(incident_id)
        if fact is not None:
            fact.victims.append(tuple(victim))  # type: ignore[arg-type]
            fact.outcomes |= OUTCOME_BITS.get(victim[3], 0)
            fact.killed += victim[3] == "killed"


def _add_states(connection: sa.Connection, which: Which, facts: dict[int, Fact]) -> None:
    states = (
        sa.select(IncidentState.incident_id, IncidentState.state)
        .where(which(IncidentState.incident_id))
        .distinct()
    )
    for incident_id, state in connection.execute(states):
        if (fact := facts.get(incident_id)) is not None:
            fact.states.append(state)


def _add_cases(connection: sa.Connection, which: Which, facts: dict[int, Fact]) -> None:
    links = sa.alias(case_incidents, name="links")
    others = sa.alias(case_incidents, name="others")
    progress = stage_progress(sa.select(links.c.case_id).where(which(links.c.incident_id)))
    # How many undeleted incidents the case covers.
    covered = (
        sa.select(sa.func.count())
        .select_from(others)
        .join(Incident, Incident.id == others.c.incident_id)
        .where(others.c.case_id == links.c.case_id, Incident.deleted_at.is_(None))
        .correlate(links)
        .scalar_subquery()
    )
    firsts = [progress.c[f"first_{int(step)}"] for step in TIMED_STEPS]
    cases = (
        sa.select(links.c.incident_id, links.c.case_id, covered, progress.c.step, *firsts)
        .join(JudicialCase, JudicialCase.id == links.c.case_id)
        .outerjoin(progress, progress.c.case_id == links.c.case_id)
        .where(COUNTED_CASE, which(links.c.incident_id))
    )
    for incident_id, case_id, incidents, step, *first_on in connection.execute(cases):
        if (fact := facts.get(incident_id)) is None:
            continue
        # A case with no validated event yet has been opened, and no more.
        reached = int(step if step is not None else Step.CASE_OPENED)
        fact.step = max(fact.step, reached)
        if incidents > 1:
            fact.shared_cases.append(case_id)
        else:
            days = {
                int(timed): (day - fact.occurred_on).days
                for timed, day in zip(TIMED_STEPS, first_on, strict=True)
                if day is not None
            }
            fact.cases.append(CaseFact(reached, days))


# What each incident adds ---------------------------------------------------------------------


def empty_sums() -> Sums:
    return {table: {} for table in TABLES}


def add_facts(sums: Sums, facts: dict[int, Fact], sign: int = 1) -> None:
    """Add (or, with ``sign`` -1, take away) what the incidents count in each table."""
    for fact in facts.values():
        for state in (EVERYONE, *fact.states):
            _add_counts(sums, fact, state, sign)
            _add_victim_rows(sums, fact, state, sign)
            _add_case_rows(sums, fact, state, sign)
            _add_places(sums, fact, state, sign)
        for case_id in fact.shared_cases:
            _add(sums["figure_shared_cases"], (case_id,), (sign,))


def _add(table: dict[Key, list[int]], key: Key, values: tuple[int, ...]) -> None:
    row = table.get(key)
    if row is None:
        table[key] = list(values)
    else:
        for i, value in enumerate(values):
            row[i] += value


def _add_counts(sums: Sums, fact: Fact, state: str, sign: int) -> None:
    table, s, m = sums["figure_counts"], fact.status, fact.mission
    values = (sign, sign * fact.killed)
    _add(table, (state, BY_COUNTRY, s, m, 0, NONE, fact.country, 0, fact.step), values)
    _add(table, (state, BY_YEAR, s, m, fact.occurred_on.year * 100, fact.means, NONE, 0, 0), values)
    month = month_of(fact.occurred_on)
    key = (state, BY_MONTH, s, m, month, fact.means, fact.country, fact.outcomes, fact.step)
    _add(table, key, values)
    _add(table, (state, BY_MONTH_AND_MEANS, s, m, month, fact.means, NONE, 0, 0), values)
    _add(
        table, (state, BY_MONTH_AND_COUNTRY, s, m, month, NONE, fact.country, 0, fact.step), values
    )


def _add_victim_rows(sums: Sums, fact: Fact, state: str, sign: int) -> None:
    table, s, m = sums["figure_victims"], fact.status, fact.mission
    for victim in fact.victims:
        for year in (0, fact.occurred_on.year):
            _add(table, (state, year, s, m, *victim), (sign,))


def _add_case_rows(sums: Sums, fact: Fact, state: str, sign: int) -> None:
    table, s, m, country = sums["figure_cases"], fact.status, fact.mission, fact.country
    for case in fact.cases:
        for year in (0, fact.occurred_on.year):
            _add(table, (state, year, REACHED, 0, s, m, country, case.reached), (sign,))
            for step, days in case.days.items():
                bucket = bucket_of(days)
                _add(table, (state, year, step, bucket, s, m, country, 0), (sign,))
                _add(table, (state, year, step + DAY_BY_DAY, bucket, s, m, country, days), (sign,))


def _add_places(sums: Sums, fact: Fact, state: str, sign: int) -> None:
    s, m, means = fact.status, fact.mission, fact.means
    located = fact.x is not None and fact.y is not None
    areas = sums["figure_areas"]
    values = (sign, sign * fact.killed, 0 if located else sign)
    for level, code in zip(AREA_LEVELS, (fact.country, fact.admin1, fact.admin2), strict=True):
        _add(areas, (state, level, code, s, m, means), values)
    if fact.x is None or fact.y is None:
        return
    cells = sums["figure_cells"]
    gx = (fact.x + ORIGIN_X << FINEST_LEVEL) // SPAN
    gy = (fact.y + ORIGIN_Y << FINEST_LEVEL) // SPAN
    sums_ = (sign, sign * fact.killed, sign * fact.x, sign * fact.y, sign * fact.incident_id)
    # A cell holds the four of the next finer level that it covers.
    for grid_level in range(FINEST_LEVEL, -1, -1):
        _add(cells, (state, grid_level, gx, gy, s, m, means), sums_)
        gx, gy = gx >> 1, gy >> 1


def difference(before: Sums, after: Sums) -> Sums:
    """``after`` less ``before``, without the rows that do not change."""
    changes = empty_sums()
    for table in TABLES:
        rows = {key: list(values) for key, values in after[table].items()}
        for key, values in before[table].items():
            current = rows.setdefault(key, [0] * len(values))
            for i, value in enumerate(values):
                current[i] -= value
        changes[table] = {key: values for key, values in rows.items() if any(values)}
    return changes
