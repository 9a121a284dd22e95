"""The map's counts, read from the figure tables (:mod:`maps.models`).

Each function answers what :mod:`maps.map_data` otherwise counts from the incidents, for
a :class:`maps.figure_reads.Reading`, or None when the tables cannot answer (dates,
outcomes, or a grid finer than the finest level kept); the caller then counts from the
incidents. The answer is the same either way, cell by cell and area by area.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from maps.figure_facts import FINEST_LEVEL, NONE
from maps.figure_reads import Reading
from maps.grid import Cell, Grid
from maps.models import FigureArea, FigureCell


@dataclass(frozen=True)
class AreaCount:
    code: str | None
    incidents: int
    fatalities: int | None  # None when not asked for
    unlocated: int  # of the incidents, those without coordinates


def _answers(reading: Reading) -> bool:
    """The map's tables keep the means of attack, not the dates or the outcomes."""
    return not (reading.dated or reading.filters.outcome)


def grid_cells(db: Session, reading: Reading, grid: Grid) -> list[Cell] | None:
    if not _answers(reading) or grid.level > FINEST_LEVEL:
        return None
    t = FigureCell
    keys = (t.gx, t.gy)
    query = (
        sa.select(
            sa.func.sum(t.incidents),
            sa.func.sum(t.killed),
            sa.func.sum(t.sum_x),
            sa.func.sum(t.sum_y),
            sa.func.sum(t.sum_id),
        )
        .where(
            *reading.scope(t),
            *reading.means(t.means),
            t.level == grid.level,
            t.gx.between(grid.west, grid.east),
            t.gy.between(grid.south, grid.north),
        )
        .group_by(*keys)
        .order_by(*keys)  # the cells in one order, whichever way they are read
    )
    return [
        Cell(int(n), int(k), int(x), int(y), int(i) if n == 1 else None)
        for n, k, x, y, i in db.execute(query)
    ]


def area_counts(db: Session, reading: Reading, level: str) -> list[AreaCount] | None:
    if not _answers(reading):
        return None
    t = FigureArea
    query = (
        sa.select(t.code, sa.func.sum(t.incidents), sa.func.sum(t.killed), sa.func.sum(t.unlocated))
        .where(*reading.scope(t), *reading.means(t.means), t.level == level)
        .group_by(t.code)
    )
    return [
        AreaCount(code if code != NONE else None, int(n), int(k), int(unlocated))
        for code, n, k, unlocated in db.execute(query)
    ]
