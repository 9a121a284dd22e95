"""Trend statistics: counts over time, victims, the justice funnel and its delays.

Every figure starts from the incidents the viewer may see that match the shared filter
(:func:`incidents.filters.scoped_incidents`), and cases from :func:`visible_cases`, in
SQL; nothing is filtered in Python. Python only pivots, sums and takes medians of rows
the database already scoped.

The scope conditions refer to the base ``incidents`` and ``case_incidents`` tables (a
case is visible through an ``EXISTS`` over its links). The queries here therefore read
the scoped incidents as a derived table and join aliases of the other tables, so that no
join of theirs is mistaken for the table a scope condition tests.

The justice ladder on which the funnel places each case is :mod:`maps.ladder`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from auth.models import User
from incidents.filters import IncidentFilters, scoped_incidents
from incidents.models import (
    CapacityAssistance,
    Incident,
    JudicialCase,
    Victim,
    case_incidents,
)
from incidents.policy import visible_assistance
from maps.ladder import TIMED_STEPS, Step, case_starts, cases_of, stage_progress

# Beyond this many periods an axis is cut to the periods that have data.
MAX_PERIODS = 240
MONTHLY_SPAN_DAYS = 731


class Period(StrEnum):
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True)
class PeriodCount:
    period: str  # "2021" or "2021-03"
    mission: str
    means_of_attack: str
    incidents: int
    fatalities: int


@dataclass(frozen=True)
class VictimCount:
    key: str  # a personnel category or a country code
    outcome: str
    victims: int


@dataclass(frozen=True)
class FunnelStep:
    step: Step
    incidents: int


@dataclass(frozen=True)
class StepDelay:
    step: Step
    cases: int  # cases that reached the step
    median_days: float | None


@dataclass(frozen=True)
class HostState:
    country: str
    incidents: int
    fatalities: int
    cases: int
    convictions: int
    median_days_to_conviction: float | None


@dataclass(frozen=True)
class AssistanceCount:
    year: int
    kind: str
    records: int


VictimDimension = Literal["category", "nationality", "contributing_country"]


# Building blocks -----------------------------------------------------------------------------


def _scoped(user: User, filters: IncidentFilters, *columns: Any) -> sa.Subquery:
    """The incidents the user sees that match the filter, as a derived table."""
    return scoped_incidents(user, filters).with_only_columns(*columns).subquery("scoped")


def _with_killed(user: User, filters: IncidentFilters, *columns: Any) -> sa.Subquery:
    """:func:`_scoped`, with the number of victims killed (not soft-deleted) in each incident.

    The victims are counted once per incident in a grouped derived table and joined, which
    costs one pass over the victims rather than a lookup per incident.
    """
    killed = (
        sa.select(Victim.incident_id, sa.func.count().label("killed"))
        .where(Victim.outcome == "killed", Victim.deleted_at.is_(None))
        .group_by(Victim.incident_id)
        .subquery("killed")
    )
    return (
        scoped_incidents(user, filters)
        .with_only_columns(*columns, sa.func.coalesce(killed.c.killed, 0).label("killed"))
        .join_from(Incident, killed, killed.c.incident_id == Incident.id, isouter=True)
        .subquery("scoped")
    )


def _period_columns(column: Any, period: Period) -> list[sa.ColumnElement[int]]:
    """The year, and the month when counting per month."""
    year = sa.cast(sa.extract("year", column), sa.Integer).label("year")
    if period is Period.YEAR:
        return [year]
    return [year, sa.cast(sa.extract("month", column), sa.Integer).label("month")]


def period_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}" if month else f"{year:04d}"


def default_period(filters: IncidentFilters) -> Period:
    """Months for a span of up to two years, years otherwise."""
    start, end = filters.date_from, filters.date_to
    if start and end and (end - start).days <= MONTHLY_SPAN_DAYS:
        return Period.MONTH
    return Period.YEAR


def periods_for(filters: IncidentFilters, period: Period, seen: Iterable[str]) -> list[str]:
    """Every period from the filter's start (or the first seen) to its end (or the last seen).

    Periods without incidents are listed too, so that a chart's time axis has no gaps. A
    filter spanning centuries falls back on the periods that have data.
    """
    ordinals = sorted({_ordinal(label) for label in seen})
    first = _ordinal(_period_of(filters.date_from, period)) if filters.date_from else None
    last = _ordinal(_period_of(filters.date_to, period)) if filters.date_to else None
    first = first if first is not None else (ordinals[0] if ordinals else None)
    last = last if last is not None else (ordinals[-1] if ordinals else None)
    if first is None or last is None:
        return []
    if last - first >= MAX_PERIODS:
        if not ordinals:
            return []
        first, last = ordinals[0], ordinals[-1]
    return [_label_of(ordinal, period) for ordinal in range(first, last + 1)]


def _period_of(day: date, period: Period) -> str:
    return period_label(day.year, day.month if period is Period.MONTH else 0)


def _ordinal(label: str) -> int:
    """Years count as themselves, months as months since year 0."""
    if len(label) == len("2021"):
        return int(label)
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def _label_of(ordinal: int, period: Period) -> str:
    if period is Period.YEAR:
        return period_label(ordinal, 0)
    return period_label(ordinal // 12, ordinal % 12 + 1)


def median_days(values: list[int]) -> float | None:
    """The median, to a tenth of a day, as every figure shows it."""
    return round(float(statistics.median(values)), 1) if values else None


# Incidents and fatalities over time ------------------------------------------------------------


def counts_over_time(
    db: Session, user: User, filters: IncidentFilters, period: Period
) -> list[PeriodCount]:
    """Incidents and fatalities per period, mission and means of attack.

    Fatalities are the victims killed (not soft-deleted) in those incidents.
    """
    scoped = _with_killed(
        user, filters, Incident.occurred_on, Incident.mission_code, Incident.means_of_attack
    )
    periods = _period_columns(scoped.c.occurred_on, period)
    keys = (*periods, scoped.c.mission_code, scoped.c.means_of_attack)
    query = (
        sa.select(*keys, sa.func.count(), sa.func.coalesce(sa.func.sum(scoped.c.killed), 0))
        .group_by(*keys)
        .order_by(*keys)
    )
    rows = []
    for *when, mission, means, incidents, fatalities in db.execute(query):
        label = period_label(when[0], when[1] if len(when) > 1 else 0)
        rows.append(PeriodCount(label, mission, means, incidents, fatalities))
    return rows


# Victims ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VictimGroup:
    category: str
    nationality: str
    contributing_country: str | None
    outcome: str
    victims: int


def victim_groups(db: Session, user: User, filters: IncidentFilters) -> list[VictimGroup]:
    """Victims (not soft-deleted) of the visible incidents, by category, countries and outcome."""
    scoped = _scoped(user, filters, Incident.id)
    victims = aliased(Victim, name="counted_victims")
    keys = (
        victims.category,
        victims.nationality_code,
        victims.contributing_country_code,
        victims.outcome,
    )
    query = (
        sa.select(*keys, sa.func.count())
        .select_from(scoped)
        .join(victims, victims.incident_id == scoped.c.id)
        .where(victims.deleted_at.is_(None))
        .group_by(*keys)
    )
    return [VictimGroup(*row) for row in db.execute(query)]


def victims_by(
    db: Session, user: User, filters: IncidentFilters, dimension: VictimDimension
) -> list[VictimCount]:
    """Victims of the visible incidents per category or country, by outcome.

    ``dimension`` is ``"category"``, ``"nationality"`` or ``"contributing_country"``;
    victims without a contributing country (civilians) are left out of the last.
    """
    return victims_of(victim_groups(db, user, filters), dimension)


def victims_of(
    groups: list[VictimGroup],
    dimension: VictimDimension,
    successors: Mapping[str, str] | None = None,
) -> list[VictimCount]:
    """``successors``: a former State's code -> the State today that counts its victims."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for group in groups:
        key = getattr(group, dimension)
        if key is not None and successors and dimension != "category":
            key = successors.get(key, key)
        if key is not None:
            counts[key, group.outcome] += group.victims
    return [VictimCount(key, outcome, n) for (key, outcome), n in sorted(counts.items())]


# The justice funnel ------------------------------------------------------------------------------


def justice_funnel(db: Session, user: User, filters: IncidentFilters) -> list[FunnelStep]:
    """How many of the visible incidents reached each step, through one of their visible cases."""
    total = db.scalar(sa.select(sa.func.count()).select_from(_scoped(user, filters, Incident.id)))
    return funnel_of(total or 0, case_progress(db, user, filters))


def funnel_of(incidents: int, progress: list[CaseProgress]) -> list[FunnelStep]:
    """The funnel of ``incidents`` visible incidents whose visible cases are ``progress``."""
    reached: dict[int, Step] = {}
    for case in progress:
        for incident in case.incidents:
            reached[incident] = max(reached.get(incident, Step.CASE_OPENED), case.step)
    return [FunnelStep(Step.INCIDENT, incidents)] + [
        FunnelStep(step, sum(1 for r in reached.values() if r >= step))
        for step in Step
        if step > Step.INCIDENT
    ]


@dataclass(frozen=True)
class CaseProgress:
    """How far one visible case of the visible incidents got, and when."""

    case_id: int
    incidents: frozenset[int]  # its visible incidents that match the filter
    countries: frozenset[str]  # where those happened
    started_on: date
    step: Step
    first_on: dict[Step, date]  # the first day of each timed step the case reached

    def days_to(self, step: Step) -> int | None:
        reached = self.first_on.get(step)
        return None if reached is None else (reached - self.started_on).days


def case_progress(db: Session, user: User, filters: IncidentFilters) -> list[CaseProgress]:
    """Every visible case of the visible incidents that match the filter.

    A case starts on the earliest of its incidents the viewer sees, whether or not the
    filter matches it: a filter on dates must not move a case's start into its middle.
    """
    scoped = _scoped(user, filters, Incident.id, Incident.country_code)
    _links, joined = cases_of(scoped, user)
    # The cases linked to the scoped incidents: only theirs are aggregated.
    linked = sa.alias(case_incidents, name="linked")
    cases = (
        sa.select(linked.c.case_id)
        .join(scoped, scoped.c.id == linked.c.incident_id)
        .correlate(None)
    )
    starts = case_starts(user, cases)
    query = joined.add_columns(
        JudicialCase.id, scoped.c.id, scoped.c.country_code, starts.c.started_on
    ).join(starts, starts.c.case_id == JudicialCase.id)
    # One row per case and incident; all but the incident and its country are the case's.
    incidents: dict[int, set[int]] = defaultdict(set)
    countries: dict[int, set[str]] = defaultdict(set)
    started: dict[int, date] = {}
    for case_id, incident_id, country, started_on in db.execute(query):
        incidents[case_id].add(incident_id)
        countries[case_id].add(country)
        started[case_id] = started_on
    # The steps apart: joined to the rows above, PostgreSQL expected a single row of a few
    # hundred cases and looped over every case's steps for each.
    steps = case_steps(db, cases)
    return [
        progress_of(case_id, incidents[case_id], countries[case_id], started_on, steps)
        for case_id, started_on in started.items()
    ]


Steps = dict[int, tuple[Any, ...]]  # per case id: highest step, first day of each timed step


def case_steps(db: Session, cases: sa.Select[Any]) -> Steps:
    """The steps of these cases (a query of case ids) that have a validated event."""
    return {row[0]: tuple(row[1:]) for row in db.execute(sa.select(stage_progress(cases)))}


def progress_of(
    case_id: int, incidents: set[int], countries: set[str], started_on: date, steps: Steps
) -> CaseProgress:
    """How far a case got, from its :func:`case_steps` (none: opened, and no more)."""
    step, *first_on = steps.get(case_id, (int(Step.CASE_OPENED), *(None for _ in TIMED_STEPS)))
    return CaseProgress(
        case_id=case_id,
        incidents=frozenset(incidents),
        countries=frozenset(countries),
        started_on=started_on,
        step=Step(step),
        first_on={t: day for t, day in zip(TIMED_STEPS, first_on, strict=True) if day},
    )


def days_to_steps(db: Session, user: User, filters: IncidentFilters) -> list[StepDelay]:
    """For each step, how many visible cases reached it and the median days it took.

    Days run from the case's earliest visible incident to the first validated event at or
    beyond the step.
    """
    return delays(case_progress(db, user, filters))


def delays(progress: list[CaseProgress]) -> list[StepDelay]:
    result = []
    for step in TIMED_STEPS:
        days = [d for case in progress if (d := case.days_to(step)) is not None]
        result.append(StepDelay(step, len(days), median_days(days)))
    return result


# Host States ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateCount:
    country: str
    incidents: int
    fatalities: int


def counts_by_state(db: Session, user: User, filters: IncidentFilters) -> list[StateCount]:
    """Incidents and fatalities per country where the incidents happened."""
    scoped = _with_killed(user, filters, Incident.country_code)
    query = sa.select(
        scoped.c.country_code,
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(scoped.c.killed), 0),
    ).group_by(scoped.c.country_code)
    return [StateCount(*row) for row in db.execute(query)]


def by_host_state(db: Session, user: User, filters: IncidentFilters) -> list[HostState]:
    """Accountability per country where incidents happened.

    Incidents and fatalities there, the visible cases opened on them, how many of those
    reached a conviction, and the median days from incident to conviction.
    """
    return host_states(counts_by_state(db, user, filters), case_progress(db, user, filters))


def host_states(counts: list[StateCount], progress: list[CaseProgress]) -> list[HostState]:
    cases: dict[str, list[CaseProgress]] = defaultdict(list)
    for case in progress:
        for country in case.countries:
            cases[country].append(case)
    states = []
    for count in counts:
        own = cases.get(count.country, [])
        days = [d for case in own if (d := case.days_to(Step.CONVICTED)) is not None]
        states.append(
            HostState(
                country=count.country,
                incidents=count.incidents,
                fatalities=count.fatalities,
                cases=len(own),
                convictions=sum(1 for case in own if case.step >= Step.CONVICTED),
                median_days_to_conviction=median_days(days),
            )
        )
    return sorted(states, key=lambda s: (-s.incidents, s.country))


# Capacity-building assistance -------------------------------------------------------------------


def assistance_per_year(db: Session, user: User, filters: IncidentFilters) -> list[AssistanceCount]:
    """Assistance records the user may see, per year they started and kind.

    Of the shared filter, the mission, the State (as recipient) and the dates (of the
    start) apply; the others describe incidents, not assistance.
    """
    year = sa.cast(sa.extract("year", CapacityAssistance.started_on), sa.Integer)
    conditions: list[sa.ColumnElement[bool]] = [visible_assistance(user)]
    if filters.mission:
        conditions.append(CapacityAssistance.mission_code == filters.mission)
    if filters.state:
        conditions.append(CapacityAssistance.recipient_state_code == filters.state)
    if filters.date_from:
        conditions.append(CapacityAssistance.started_on >= filters.date_from)
    if filters.date_to:
        conditions.append(CapacityAssistance.started_on <= filters.date_to)
    query = (
        sa.select(year, CapacityAssistance.kind, sa.func.count())
        .where(*conditions)
        .group_by(year, CapacityAssistance.kind)
        .order_by(year, CapacityAssistance.kind)
    )
    return [AssistanceCount(y, kind, count) for y, kind, count in db.execute(query)]


# The summary ------------------------------------------------------------------------------------


def summary(db: Session, user: User, filters: IncidentFilters) -> dict[str, int]:
    """The headline figures for the filter in the viewer's scope.

    ``cases`` are the visible cases of the visible incidents; ``convictions`` those of
    them at or beyond the conviction step of the ladder.
    """
    return summary_of(
        counts_by_state(db, user, filters),
        victim_groups(db, user, filters),
        case_progress(db, user, filters),
    )


def summary_of(
    counts: list[StateCount], victims: list[VictimGroup], progress: list[CaseProgress]
) -> dict[str, int]:
    """The summary from figures already counted."""
    outcomes: dict[str, int] = defaultdict(int)
    for row in victims:
        outcomes[row.outcome] += row.victims
    return {
        "incidents": sum(c.incidents for c in counts),
        "fatalities": outcomes["killed"],
        "injured": outcomes["injured"],
        "abducted": outcomes["abducted"],
        "cases": len(progress),
        "convictions": sum(1 for case in progress if case.step >= Step.CONVICTED),
    }
