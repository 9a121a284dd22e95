"""Which rows of the figure tables answer a viewer's filter, and whether they can.

A :class:`Reading` is a viewer's scope (:func:`incidents.figure_scope.figure_scope`) and
the shared incident filter, turned into conditions on the tables' columns. The tables
answer only what they are split by: a text search or a case stage never; dates only when
they cover whole months (or whole years, for the tables kept by year); a means of attack or
an outcome only where a table keeps them (an outcome an admin added, never). Where they
cannot answer, :func:`reading` or the ``covers_*`` methods say so, and the caller counts
from the incidents instead: the answer is the same either way, only its cost differs.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from auth.models import User
from incidents.figure_scope import figure_scope
from incidents.filters import IncidentFilters
from maps.figure_facts import OUTCOME_BITS
from maps.figure_upkeep import is_built
from maps.models import EVERYONE


@dataclass(frozen=True)
class Reading:
    state: str
    statuses: tuple[str, ...] | None
    missions: tuple[str, ...] | None
    filters: IncidentFilters

    def scope(self, table: Any) -> list[sa.ColumnElement[bool]]:
        """The rows of the viewer's share, statuses and missions that the filter keeps."""
        conditions = [table.state == self.state]
        if self.statuses is not None:
            conditions.append(table.status.in_(self.statuses))
        if self.missions is not None:
            conditions.append(table.mission.in_(self.missions))
        if self.filters.status:
            conditions.append(table.status == self.filters.status)
        if self.filters.mission:
            conditions.append(table.mission == self.filters.mission)
        return conditions

    # Dates

    @property
    def dated(self) -> bool:
        return bool(self.filters.date_from or self.filters.date_to)

    def months(self) -> tuple[int, int] | None:
        """The filter's dates as ``YYYYMM`` bounds, when they fall on whole months."""
        start, end = self.filters.date_from, self.filters.date_to
        if start is not None and start.day != 1:
            return None
        if end is not None and end.day != calendar.monthrange(end.year, end.month)[1]:
            return None
        low = start.year * 100 + start.month if start else 0
        high = end.year * 100 + end.month if end else 999_912
        return low, high

    def years(self) -> tuple[int, int] | None:
        """The filter's dates as years, when they fall on whole years."""
        start, end = self.filters.date_from, self.filters.date_to
        if start is not None and (start.month, start.day) != (1, 1):
            return None
        if end is not None and (end.month, end.day) != (12, 31):
            return None
        return (start.year if start else 1, end.year if end else 9999)

    def year_rows(self, column: InstrumentedAttribute[int]) -> sa.ColumnElement[bool] | None:
        """The rows of a table kept per year (and for every year, as year 0) that answer
        the filter's dates; None when the dates cut a year."""
        if not self.dated:
            return column == 0
        years = self.years()
        if years is None:
            return None
        return sa.and_(column.between(*years), column != 0)

    # What else a table keeps

    @property
    def by_means_or_outcome(self) -> bool:
        return bool(self.filters.means_of_attack or self.filters.outcome)

    def outcome(self, column: Any) -> list[sa.ColumnElement[bool]]:
        if not self.filters.outcome:
            return []
        return [column.bitwise_and(OUTCOME_BITS[self.filters.outcome]) != 0]

    def means(self, column: Any) -> list[sa.ColumnElement[bool]]:
        return [column == self.filters.means_of_attack] if self.filters.means_of_attack else []


def reading(db: Session, user: User, filters: IncidentFilters) -> Reading | None:
    """How the figure tables answer this viewer and filter; None where they cannot."""
    if filters.q or filters.stage:
        return None
    if filters.outcome and filters.outcome not in OUTCOME_BITS:
        return None  # an outcome an admin added: the tables keep no bit for it
    scope = figure_scope(user)
    state = scope.state or filters.state or EVERYONE
    if scope.state and filters.state and filters.state != scope.state:
        return None  # the incidents concerning two States are no share of the tables
    if not is_built(db):
        return None
    return Reading(state, scope.statuses, scope.missions, filters)


def first_of_month(value: int) -> date:
    """The first day of a ``YYYYMM`` month."""
    return date(value // 100, value % 100, 1)
