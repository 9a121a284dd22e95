"""The trend figures' counts, read from the figure tables (:mod:`maps.models`).

Each function answers what its namesake in :mod:`maps.stats` counts from the incidents,
for a :class:`maps.figure_reads.Reading`, or None when the tables cannot answer that
filter (the caller then counts from the incidents).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from maps.figure_facts import NONE
from maps.figure_reads import Reading
from maps.models import (
    BY_COUNTRY,
    BY_MONTH,
    BY_MONTH_AND_COUNTRY,
    BY_MONTH_AND_MEANS,
    BY_YEAR,
    FigureCount,
    FigureVictims,
)
from maps.stats import Period, PeriodCount, StateCount, VictimGroup, period_label


def _grain(reading: Reading, wanted: str) -> list[sa.ColumnElement[bool]] | None:
    """The rows of the coarsest grain that holds what is ``wanted`` (``"year"``,
    ``"month"`` or ``"country"``, with the step) and answers the filter; None if none does."""
    t = FigureCount
    if wanted == "year" and not reading.filters.outcome:
        years = reading.years() if reading.dated else (0, 9999)
        if years is not None:
            return [
                t.grain == BY_YEAR,
                t.month.between(years[0] * 100, years[1] * 100),
                *reading.means(t.means),
            ]
    if wanted == "country" and not reading.dated and not reading.by_means_or_outcome:
        return [t.grain == BY_COUNTRY]
    months = reading.months() if reading.dated else (0, 999_912)
    if months is None:
        return None
    if wanted == "month" and not reading.filters.outcome:
        return [t.grain == BY_MONTH_AND_MEANS, t.month.between(*months), *reading.means(t.means)]
    if wanted == "country" and not reading.by_means_or_outcome:
        return [t.grain == BY_MONTH_AND_COUNTRY, t.month.between(*months)]
    return [
        t.grain == BY_MONTH,
        t.month.between(*months),
        *reading.means(t.means),
        *reading.outcome(t.outcomes),
    ]


def counts_over_time(db: Session, reading: Reading, period: Period) -> list[PeriodCount] | None:
    rows = _grain(reading, "year" if period is Period.YEAR else "month")
    if rows is None:
        return None
    t = FigureCount
    year = (t.month // 100).label("year")
    when: list[Any] = [year] if period is Period.YEAR else [year, (t.month % 100).label("month")]
    keys = (*when, t.mission, t.means)
    query = (
        sa.select(*keys, sa.func.sum(t.incidents), sa.func.sum(t.killed))
        .where(*reading.scope(t), *rows)
        .group_by(*keys)
        .order_by(*keys)
    )
    counts = []
    for *moment, mission, means, incidents, fatalities in db.execute(query):
        label = period_label(moment[0], moment[1] if len(moment) > 1 else 0)
        counts.append(PeriodCount(label, mission, means, int(incidents), int(fatalities)))
    return counts


def incidents_counted(db: Session, reading: Reading) -> int | None:
    """How many incidents the reading's viewer sees that match its filter: the total of a
    list, in a few rows whatever the number of incidents."""
    rows = _grain(reading, "country")
    if rows is None:
        return None
    t = FigureCount
    found = db.scalar(sa.select(sa.func.sum(t.incidents)).where(*reading.scope(t), *rows))
    return int(found or 0)


def counts_by_state(db: Session, reading: Reading) -> list[StateCount] | None:
    rows = _grain(reading, "country")
    if rows is None:
        return None
    t = FigureCount
    query = (
        sa.select(t.country, sa.func.sum(t.incidents), sa.func.sum(t.killed))
        .where(*reading.scope(t), *rows)
        .group_by(t.country)
    )
    return [StateCount(country, int(n), int(k)) for country, n, k in db.execute(query)]


def incidents_by_step(db: Session, reading: Reading) -> dict[int, int] | None:
    """Incidents by the furthest step one of their cases reached (0: no case)."""
    rows = _grain(reading, "country")
    if rows is None:
        return None
    t = FigureCount
    query = (
        sa.select(t.step, sa.func.sum(t.incidents)).where(*reading.scope(t), *rows).group_by(t.step)
    )
    return {int(step): int(n) for step, n in db.execute(query)}


def victim_groups(db: Session, reading: Reading) -> list[VictimGroup] | None:
    t = FigureVictims
    years = reading.year_rows(t.year)
    if years is None or reading.by_means_or_outcome:
        return None
    keys = (t.category, t.nationality, t.contributor, t.outcome)
    query = sa.select(*keys, sa.func.sum(t.victims)).where(*reading.scope(t), years).group_by(*keys)
    return [
        VictimGroup(category, nationality, contributor if contributor != NONE else None,
                    outcome, int(victims))
        for category, nationality, contributor, outcome, victims in db.execute(query)
    ]  # fmt: skip
