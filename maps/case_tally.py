"""How far the visible judicial cases got, in sums: what the justice figures need of them.

The trend figures need, of the visible cases of the incidents a viewer sees that match
the filter: how many there are and how many reached a conviction, the same per country of
those incidents, and per step the cases that reached it with the median days it took
(and, per country, to a conviction). :func:`tally_of` counts that from the cases one by
one; :func:`table_tally` from the sums kept in ``figure_cases`` (the cases of a single
incident) and the sums of the few cases that cover several incidents, counted one by one
(kept by :mod:`maps.shared_cases`). A median is found in two reads whatever the number of
cases: the buckets of days first, then the days of the one or two buckets that hold the
middle.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from maps.figure_facts import DAY_BY_DAY, REACHED, bucket_of
from maps.figure_reads import Reading
from maps.ladder import TIMED_STEPS, Step
from maps.models import FigureCases
from maps.stats import CaseProgress, StepDelay, delays, median_days


@dataclass(frozen=True)
class CountryCases:
    cases: int
    convictions: int
    median_days_to_conviction: float | None


@dataclass(frozen=True)
class CaseTally:
    cases: int
    convictions: int
    by_country: dict[str, CountryCases]  # a case counts for each country of its incidents
    delays: list[StepDelay]


def tally_of(progress: list[CaseProgress]) -> CaseTally:
    """The tally of cases counted one by one."""
    own: dict[str, list[CaseProgress]] = defaultdict(list)
    for case in progress:
        for country in case.countries:
            own[country].append(case)
    by_country = {
        country: CountryCases(
            len(cases),
            sum(1 for case in cases if case.step >= Step.CONVICTED),
            median_days([d for case in cases if (d := case.days_to(Step.CONVICTED)) is not None]),
        )
        for country, cases in own.items()
    }
    convictions = sum(1 for case in progress if case.step >= Step.CONVICTED)
    return CaseTally(len(progress), convictions, by_country, delays(progress))


# From the kept sums ---------------------------------------------------------------------------


@dataclass
class Days:
    """The days cases took to one step: cases per bucket of days, and per day in the
    buckets read."""

    buckets: Counter[int] = field(default_factory=Counter)
    days: dict[int, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def add(self, days: int) -> None:
        bucket = bucket_of(days)
        self.buckets[bucket] += 1
        self.days[bucket][days] += 1

    def merge(self, other: Days) -> None:
        """Add the cases ``other`` holds, none of which this holds."""
        self.buckets.update(other.buckets)
        for bucket, days in other.days.items():
            self.days[bucket].update(days)

    def take(self, other: Days) -> None:
        """Take away the cases ``other`` holds, all of which this holds."""
        self.buckets -= other.buckets
        for bucket, days in other.days.items():
            self.days[bucket] -= days
            if not self.days[bucket]:
                del self.days[bucket]

    @property
    def cases(self) -> int:
        return sum(self.buckets.values())

    def _ranks(self) -> tuple[int, int]:
        """The places of the middle (one, or the two either side of it) in day order."""
        return (self.cases - 1) // 2, self.cases // 2

    def middle_buckets(self) -> set[int]:
        wanted, seen, found = self._ranks(), 0, set()
        for bucket in sorted(self.buckets):
            count = self.buckets[bucket]
            found |= {bucket for rank in wanted if seen <= rank < seen + count}
            seen += count
        return found

    def median(self) -> float | None:
        if not self.cases:
            return None
        values = []
        for rank in self._ranks():
            seen = 0
            for bucket in sorted(self.buckets):
                if rank < seen + self.buckets[bucket]:
                    values.append(_nth(self.days[bucket], rank - seen))
                    break
                seen += self.buckets[bucket]
        return median_days(values)


def _nth(days: Counter[int], rank: int) -> int:
    seen = 0
    for day in sorted(days):
        seen += days[day]
        if rank < seen:
            return day
    raise LookupError("fewer days kept than cases counted")


@dataclass
class CaseSums:
    """Cases summed as the tally needs them: per country, per step and its days."""

    cases: Counter[str] = field(default_factory=Counter)  # per country
    convictions: Counter[str] = field(default_factory=Counter)
    steps: dict[int, Days] = field(default_factory=lambda: defaultdict(Days))
    to_conviction: dict[str, Days] = field(default_factory=lambda: defaultdict(Days))
    total: int = 0
    convicted: int = 0

    def copy(self) -> CaseSums:
        """A copy that sums apart from this one (``copy.deepcopy`` took some 20 ms)."""
        copied = CaseSums()
        copied.merge(self)
        return copied

    def merge(self, other: CaseSums) -> None:
        """Add the cases ``other`` sums, none of which these sums hold."""
        self.cases.update(other.cases)
        self.convictions.update(other.convictions)
        for step, days in other.steps.items():
            self.steps[step].merge(days)
        for country, days in other.to_conviction.items():
            self.to_conviction[country].merge(days)
        self.total += other.total
        self.convicted += other.convicted

    def take(self, other: CaseSums) -> None:
        """Take away the cases ``other`` sums, all of which these sums hold (what none of
        them holds any more goes, as if never counted)."""
        self.cases -= other.cases
        self.convictions -= other.convictions
        _take_each(self.steps, other.steps)
        _take_each(self.to_conviction, other.to_conviction)
        self.total -= other.total
        self.convicted -= other.convicted

    def add(self, countries: Collection[str], convicted: bool, days: Iterable[int | None]) -> None:
        """Add one case: the countries of its incidents, whether it reached a conviction,
        and the days it took to each of the timed steps (None: not reached)."""
        self.total += 1
        self.convicted += convicted
        for country in countries:
            self.cases[country] += 1
            self.convictions[country] += convicted
        for step, took in zip(TIMED_STEPS, days, strict=True):
            if took is not None:
                self.steps[int(step)].add(took)
                if step == Step.CONVICTED:
                    for country in countries:
                        self.to_conviction[country].add(took)


Key = TypeVar("Key", int, str)


def _take_each(held: dict[Key, Days], taken: dict[Key, Days]) -> None:
    """Take each of ``taken``'s days from ``held``'s; those left with no case go."""
    for key, days in taken.items():
        held[key].take(days)
        if not held[key].cases:
            del held[key]


def answers(reading: Reading) -> bool:
    """Whether ``figure_cases`` answers the reading's filter."""
    return reading.year_rows(FigureCases.year) is not None and not reading.by_means_or_outcome


def table_tally(db: Session, reading: Reading, shared: CaseSums) -> CaseTally | None:
    """The tally from ``figure_cases``, with ``shared``, the sums of the visible cases of
    several incidents; None when the table cannot answer the filter."""
    years = reading.year_rows(FigureCases.year)
    if years is None or not answers(reading):
        return None
    scope = [*reading.scope(FigureCases), years]
    counting = shared.copy()  # the shared sums may be kept for other readings
    _read_reached(db, scope, counting)
    _read_buckets(db, scope, counting)
    _read_days(db, scope, counting)
    by_country = {
        country: CountryCases(
            counting.cases[country],
            counting.convictions[country],
            counting.to_conviction[country].median(),
        )
        for country in counting.cases
    }
    steps = [counting.steps[int(step)] for step in TIMED_STEPS]
    return CaseTally(
        counting.total,
        counting.convicted,
        by_country,
        [StepDelay(step, d.cases, d.median()) for step, d in zip(TIMED_STEPS, steps, strict=True)],
    )


def _read_reached(db: Session, scope: list[sa.ColumnElement[bool]], counting: CaseSums) -> None:
    rows = db.execute(
        sa.select(FigureCases.country, FigureCases.value, sa.func.sum(FigureCases.cases))
        .where(*scope, FigureCases.measure == REACHED)
        .group_by(FigureCases.country, FigureCases.value)
    )
    for country, reached, cases in rows:
        counting.cases[country] += int(cases)
        counting.total += int(cases)
        if reached >= Step.CONVICTED:
            counting.convictions[country] += int(cases)
            counting.convicted += int(cases)


def _read_buckets(db: Session, scope: list[sa.ColumnElement[bool]], counting: CaseSums) -> None:
    rows = db.execute(
        sa.select(
            FigureCases.country,
            FigureCases.measure,
            FigureCases.bucket,
            sa.func.sum(FigureCases.cases),
        )
        .where(*scope, FigureCases.measure.between(REACHED + 1, DAY_BY_DAY - 1))
        .group_by(FigureCases.country, FigureCases.measure, FigureCases.bucket)
    )
    for country, step, bucket, cases in rows:
        counting.steps[step].buckets[bucket] += int(cases)
        if step == Step.CONVICTED:
            counting.to_conviction[country].buckets[bucket] += int(cases)


def _read_days(db: Session, scope: list[sa.ColumnElement[bool]], counting: CaseSums) -> None:
    """The days, one by one, of the buckets that hold a median."""
    wanted = {(step, b) for step, d in counting.steps.items() for b in d.middle_buckets()}
    convicted = int(Step.CONVICTED)
    for d in counting.to_conviction.values():
        wanted |= {(convicted, b) for b in d.middle_buckets()}
    if not wanted:
        return
    pairs = sa.tuple_(FigureCases.measure, FigureCases.bucket).in_(
        sorted((step + DAY_BY_DAY, bucket) for step, bucket in wanted)
    )
    rows = db.execute(
        sa.select(
            FigureCases.country,
            FigureCases.measure,
            FigureCases.bucket,
            FigureCases.value,
            sa.func.sum(FigureCases.cases),
        )
        .where(*scope, pairs)
        .group_by(FigureCases.country, FigureCases.measure, FigureCases.bucket, FigureCases.value)
    )
    for country, measure, bucket, days, cases in rows:
        step = measure - DAY_BY_DAY
        _add_days(counting.steps[step], bucket, days, int(cases))
        if step == convicted:
            _add_days(counting.to_conviction[country], bucket, days, int(cases))


def _add_days(days: Days, bucket: int, value: int, cases: int) -> None:
    days.days[bucket][value] += cases
