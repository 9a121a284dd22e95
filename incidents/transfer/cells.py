"""The cells of an import's row, each read by its column's key into a value, and each
refusal noted as a problem naming its row, column, value and reason."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast

from flask_babel import gettext as _

from capdb.vocabularies import Vocabulary
from incidents.fields import Field as DeclaredField
from incidents.fields import Kind
from incidents.transfer.columns import fold, vocabulary_lookup
from incidents.transfer.spreadsheets import Cell, as_text, blank


@dataclass(frozen=True)
class Problem:
    """A bad cell: where it is, what it holds, and why it is refused."""

    row: int
    column: str
    value: str
    reason: str
    letter: str = ""


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return cast(str, get_column_letter(index + 1))


@dataclass
class Layout:
    """Where each known column is in the file."""

    index: dict[str, int]
    headers: list[str]
    victims: list[int]


class Cells:
    """The cells of one row, read by column key; each refusal is noted as a problem."""

    def __init__(self, number: int, values: list[Cell], layout: Layout) -> None:
        self.row = number
        self.values = values
        self.layout = layout
        self.problems: list[Problem] = []
        self.refused: set[str] = set()

    def raw(self, key: str) -> Cell:
        position = self.layout.index.get(key)
        if position is None or position >= len(self.values):
            return None
        value = self.values[position]
        return None if blank(value) else value

    def refuse(self, key: str, reason: str) -> None:
        position = self.layout.index.get(key)
        header = self.layout.headers[position] if position is not None else key
        letter = column_letter(position) if position is not None else ""
        value = as_text(self.raw(key))
        self.problems.append(Problem(self.row, header, value[:200], reason, letter))
        self.refused.add(key)

    def refuse_all(self, problems: Mapping[str, list[str]]) -> None:
        """Note what the shared rules found, but not in a cell refused already."""
        for key, reasons in problems.items():
            if key not in self.refused:
                for reason in reasons:
                    self.refuse(key, reason)

    def _missing(self, key: str, required: bool) -> None:
        if required:
            self.refuse(key, _("This field is required."))

    def text(self, key: str, *, max_length: int, required: bool = False) -> str | None:
        value = self.raw(key)
        if value is None:
            self._missing(key, required)
            return None
        text = as_text(value)
        if len(text) > max_length:
            self.refuse(key, _("At most %(count)d characters.", count=max_length))
            return None
        return text

    def choice(self, key: str, vocabulary: Vocabulary, *, required: bool = True) -> str | None:
        value = self.raw(key)
        if value is None:
            self._missing(key, required)
            return None
        code = vocabulary_lookup(vocabulary).get(fold(as_text(value)))
        if code is None:
            self.refuse(key, _("Not a value of the list; choose one from the drop-down list."))
        return code

    def country(self, key: str, countries: dict[str, str | None], *, required: bool) -> str | None:
        value = self.raw(key)
        if value is None:
            self._missing(key, required)
            return None
        text = as_text(value)
        code = countries.get(fold(text))
        if code is None:
            known = fold(text) in countries
            self.refuse(
                key,
                _("Several countries have this name; give the ISO code.")
                if known
                else _("Unknown country; give its name or its ISO alpha-3 code."),
            )
        return code

    def date(self, key: str, *, required: bool) -> date | None:
        value = self.raw(key)
        if value is None:
            self._missing(key, required)
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.refuse(key, _("Enter a date as YYYY-MM-DD."))
        return parsed

    def time(self, key: str) -> time | None:
        value = self.raw(key)
        if value is None:
            return None
        parsed = parse_time(value)
        if parsed is None:
            self.refuse(key, _("Enter a time as HH:MM."))
        return parsed

    def degrees(self, key: str) -> float | None:
        value = self.raw(key)
        if value is None:
            return None
        parsed = parse_number(value)
        if parsed is None:
            self.refuse(key, _("Enter decimal degrees, such as 18.44 or -1.41."))
        return parsed


def parse_date(value: Cell) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_time(value: Cell) -> time | None:
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    if not isinstance(value, str):
        return None
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            return datetime.strptime(value.strip(), pattern).time().replace(second=0)
        except ValueError:
            continue
    return None


def parse_number(value: Cell) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def read(
    cells: Cells,
    field: DeclaredField,
    key: str,
    countries: Mapping[frozenset[str], dict[str, str | None]],
) -> Any:
    """The value of a declared field's cell; its default when the cell is blank."""
    value: Any
    if field.kind is Kind.CHOICE and field.vocabulary is not None:
        value = cells.choice(key, field.vocabulary, required=field.required)
    elif field.kind is Kind.COUNTRY:
        value = cells.country(key, countries[field.countries], required=field.required)
    elif field.kind is Kind.DATE:
        value = cells.date(key, required=field.required)
    elif field.kind is Kind.TIME:
        value = cells.time(key)
    elif field.kind is Kind.DEGREES:
        value = cells.degrees(key)
    else:
        value = cells.text(key, max_length=field.max_length or 0, required=field.required)
    # A refused value stays None: the rules between fields pass no judgement on it.
    if value is None and field.default is not None and key not in cells.refused:
        return field.default
    return value
