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
