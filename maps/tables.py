"""A figure's table as the chart reads it: its cells, their text, and how it is charted.

Kept apart from :mod:`maps.charts`, which builds the figures, so that :mod:`maps.drawing`
can draw a table without importing the module that imports it to draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

Cell = str | int | float | None


@dataclass(frozen=True)
class Chart:
    """How a figure's table is drawn: which columns are series, in which layout."""

    series: tuple[int, ...]
    value_label: str
    horizontal: bool = False
    stacked: bool = True


class Table(Protocol):
    """What a chart is drawn from: a named, titled table and how to chart it."""

    @property
    def name(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def headers(self) -> tuple[str, ...]: ...

    @property
    def rows(self) -> tuple[tuple[Cell, ...], ...]: ...

    @property
    def chart(self) -> Chart: ...


def cell_text(cell: Cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return f"{cell:g}" if cell.is_integer() else f"{cell:.1f}"
    return str(cell)


# The drawing's size: 8 inches wide, its height from the number of bars.
WIDTH_INCHES = 8.0
POINTS_PER_INCH = 72  # the unit of the SVG's view box


def chart_inches(figure: Table) -> tuple[float, float]:
    """Width and height of the figure's chart, in inches."""
    chart = figure.chart
    if not chart.horizontal:
        return WIDTH_INCHES, 3.6
    bars_per_row = 1 if chart.stacked else len(chart.series)
    return WIDTH_INCHES, max(2.2, 0.9 + len(figure.rows) * (0.22 + 0.12 * bars_per_row))


def chart_points(figure: Table) -> tuple[int, int]:
    """Width and height of the figure's chart in the units of its SVG view box."""
    width, height = chart_inches(figure)
    return round(width * POINTS_PER_INCH), round(height * POINTS_PER_INCH)
