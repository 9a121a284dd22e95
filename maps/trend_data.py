"""The counts the trend figures are made of, from the kept sums where they can answer.

:class:`TrendData` holds, for one viewer, filter and period, the counts that every figure
of the trends page, its CSV downloads, the statistics API and the report draw on: incidents
and fatalities over time and by country, incidents by the step of justice reached, victims
by group, and the tally of cases. Each is read from the figure tables when they answer the
filter (:mod:`maps.trend_tables`, :mod:`maps.case_tally`) and counted from the incidents
otherwise (:mod:`maps.stats`); both give the same numbers, which the equivalence tests
check for every figure and every role.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import cached_property

from sqlalchemy.orm import Session

from auth.models import User
from incidents.filters import IncidentFilters
from maps import stats, trend_tables
from maps.case_tally import CaseTally, CountryCases, answers, table_tally, tally_of
from maps.figure_reads import Reading, reading
from maps.ladder import Step
from maps.shared_cases import shared_case_sums
from maps.stats import FunnelStep, HostState, Period

NO_CASES = CountryCases(0, 0, None)


class TrendData:
    def __init__(
        self,
        db: Session,
        user: User,
        filters: IncidentFilters,
        period: Period,
        *,
        kept: bool = True,
    ) -> None:
        """``kept``: read the kept sums where they answer (the equivalence tests compare
        with ``kept=False``, which always counts from the incidents)."""
        self.db, self.user, self.filters, self.period = db, user, filters, period
        self.reading: Reading | None = reading(db, user, filters) if kept else None

    @cached_property
    def over_time(self) -> list[stats.PeriodCount]:
        if (
            self.reading
            and (found := trend_tables.counts_over_time(self.db, self.reading, self.period))
            is not None
        ):
            return found
        return stats.counts_over_time(self.db, self.user, self.filters, self.period)

    @cached_property
    def state_counts(self) -> list[stats.StateCount]:
        if (
            self.reading
            and (found := trend_tables.counts_by_state(self.db, self.reading)) is not None
        ):
            return found
        return stats.counts_by_state(self.db, self.user, self.filters)

    @cached_property
    def steps(self) -> dict[int, int]:
        """Incidents by the furthest step one of their visible cases reached (0: none)."""
        if (
            self.reading
            and (found := trend_tables.incidents_by_step(self.db, self.reading)) is not None
        ):
            return found
        reached: dict[int, Step] = {}
        for case in self._progress:
            for incident in case.incidents:
                reached[incident] = max(reached.get(incident, Step.CASE_OPENED), case.step)
        steps = Counter(int(step) for step in reached.values())
        total = sum(count.incidents for count in self.state_counts)
        steps[0] = total - len(reached)
        return {step: n for step, n in steps.items() if n}

    @cached_property
    def victim_groups(self) -> list[stats.VictimGroup]:
        if (
            self.reading
            and (found := trend_tables.victim_groups(self.db, self.reading)) is not None
        ):
            return found
        return stats.victim_groups(self.db, self.user, self.filters)

    @cached_property
    def cases(self) -> CaseTally:
        if self.reading is not None and answers(self.reading):
            shared = shared_case_sums(self.db, self.user, self.filters)
            found = table_tally(self.db, self.reading, shared)
            if found is not None:
                return found
        return tally_of(self._progress)

    @cached_property
    def _progress(self) -> list[stats.CaseProgress]:
        return stats.case_progress(self.db, self.user, self.filters)

    # What the figures make of them

    def funnel(self) -> list[FunnelStep]:
        total = sum(self.steps.values())
        return [FunnelStep(Step.INCIDENT, total)] + [
            FunnelStep(step, sum(n for s, n in self.steps.items() if s >= step))
            for step in Step
            if step > Step.INCIDENT
        ]

    def host_states(self) -> list[HostState]:
        states = []
        for count in self.state_counts:
            cases = self.cases.by_country.get(count.country, NO_CASES)
            states.append(
                HostState(
                    country=count.country,
                    incidents=count.incidents,
                    fatalities=count.fatalities,
                    cases=cases.cases,
                    convictions=cases.convictions,
                    median_days_to_conviction=cases.median_days_to_conviction,
                )
            )
        return sorted(states, key=lambda s: (-s.incidents, s.country))

    def summary(self) -> dict[str, int]:
        outcomes: dict[str, int] = defaultdict(int)
        for group in self.victim_groups:
            outcomes[group.outcome] += group.victims
        return {
            "incidents": sum(count.incidents for count in self.state_counts),
            "fatalities": outcomes["killed"],
            "injured": outcomes["injured"],
            "abducted": outcomes["abducted"],
            "cases": self.cases.cases,
            "convictions": self.cases.convictions,
        }
