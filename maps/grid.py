"""The map's grid: square cells of 90 / 2^level degrees, counted from (-180, -90).

Points are placed in whole millionths of a degree (about 0.1 m) with integer arithmetic,
so that SQL on either database and Python put a point in the same cell, and so that the
figure tables (:class:`maps.models.FigureCell`) and a count made from the incidents agree
exactly. A view is drawn at one level: the cells that cover a given number of screen
pixels at its zoom, or larger cells (a level up, then another) while the view would hold
more than its bound. The cells a view holds are those it overlaps, whole: an incident
just outside the view but in a cell at its edge counts in that cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from incidents.models import Incident
from maps.viewport import View

MICRO = 1_000_000
# A level-0 cell's side, and the offsets that make every index non-negative.
SPAN = 90 * MICRO
ORIGIN_X = 180 * MICRO
ORIGIN_Y = 90 * MICRO
# Levels above the zoom: a cell of 64 screen pixels is the zoom's own level (256-pixel
# tiles, 360 degrees at zoom 0), a cell of 16 pixels two levels finer.
CLUSTER_LEVELS = 0
HEAT_LEVELS = 2


def micro(value: QueryableAttribute[float | None]) -> sa.ColumnElement[int]:
    """The coordinate in whole millionths of a degree, as the database rounds it."""
    return sa.cast(sa.func.round(value * MICRO), sa.BigInteger)


def index_sql(
    micros: sa.ColumnElement[int], origin: int, factor: sa.ColumnElement[int] | int
) -> sa.ColumnElement[int]:
    """The cell index of a coordinate in millionths, at the level whose ``2**level`` is
    ``factor``: integer division of non-negative integers, a floor on both databases."""
    return (micros + origin) * factor // SPAN


def index_of(micros: int, origin: int, level: int) -> int:
    return ((micros + origin) << level) // SPAN


@dataclass(frozen=True)
class Cell:
    count: int
    fatalities: int | None  # None when not asked for
    sum_x: int  # the incidents' coordinates, in millionths of a degree
    sum_y: int
    only_id: int | None  # the incident, when the cell holds just one

    @property
    def longitude(self) -> float:  # the incidents' centre
        return self.sum_x / self.count / MICRO

    @property
    def latitude(self) -> float:
        return self.sum_y / self.count / MICRO


@dataclass(frozen=True)
class Grid:
    """The cells of a view at one level: indexes from ``west`` to ``east`` and from
    ``south`` to ``north``, inclusive."""

    level: int
    west: int
    east: int
    south: int
    north: int

    @property
    def cells(self) -> int:
        return (self.east - self.west + 1) * (self.north - self.south + 1)

    def degrees(self, index: int) -> float:
        """Where the cell ``index`` starts, in degrees from the origin."""
        return index * SPAN / (1 << self.level) / MICRO

    def holds(self) -> sa.ColumnElement[bool]:
        """Incidents in the grid's cells, as a condition on ``incidents``; the plain range
        of coordinates it implies (a little wider) lets an index narrow the search."""
        x, y = micro(Incident.longitude), micro(Incident.latitude)
        factor = 1 << self.level
        slack = 2 / MICRO
        return sa.and_(
            Incident.longitude.between(
                self.degrees(self.west) - 180 - slack, self.degrees(self.east + 1) - 180 + slack
            ),
            Incident.latitude.between(
                self.degrees(self.south) - 90 - slack, self.degrees(self.north + 1) - 90 + slack
            ),
            index_sql(x, ORIGIN_X, factor).between(self.west, self.east),
            index_sql(y, ORIGIN_Y, factor).between(self.south, self.north),
        )


def grid_for(view: View, finer: int, max_cells: int) -> Grid:
    """The view's grid: at ``finer`` levels above its zoom, or coarser while it would hold
    more than ``max_cells`` cells."""
    level = view.zoom + finer
    while True:
        grid = _grid_at(view, level)
        if grid.cells <= max_cells or level == 0:
            return grid
        level -= 1


def _grid_at(view: View, level: int) -> Grid:
    def at(degrees: float, origin: int) -> int:
        return index_of(round(degrees * MICRO), origin, level)

    return Grid(
        level,
        at(view.west, ORIGIN_X),
        at(view.east, ORIGIN_X),
        at(view.south, ORIGIN_Y),
        at(view.north, ORIGIN_Y),
    )
