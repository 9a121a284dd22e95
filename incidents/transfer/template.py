"""The import's template: its header row as CSV, or a workbook with drop-down lists and
instructions, in the user's language."""

from __future__ import annotations

import csv
import io
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from capdb.reference import Country, Mission
from capdb.vocabularies import Vocabulary
from incidents.fields import INCIDENT_FIELDS, VICTIM_FIELDS, Kind, imported
from incidents.transfer.cells import column_letter
from incidents.transfer.columns import (
    IMPORTABLE_STATUSES,
    INCIDENT_COLUMNS,
    MAX_VICTIM_COLUMNS,
    TEMPLATE_VICTIMS,
    Column,
    fold,
    template_columns,
    victim_column,
)

# Rows of the template that carry the drop-down lists.
TEMPLATE_ROWS = 20_000


def template_csv(locale: str) -> bytes:
    """The header row, in the language, with a byte-order mark so Excel reads it as UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([column.header(locale) for column in template_columns()])
    return buffer.getvalue().encode("utf-8-sig")


_DECLARED = (*imported(INCIDENT_FIELDS), *imported(VICTIM_FIELDS))
# column key -> the vocabulary its drop-down list offers
_LISTS: dict[str, Vocabulary] = {
    f.name: f.vocabulary for f in _DECLARED if f.kind is Kind.CHOICE and f.vocabulary is not None
}
_COUNTRY_COLUMNS = frozenset(f.name for f in _DECLARED if f.kind is Kind.COUNTRY)
_DATE_COLUMNS = frozenset(f.name for f in _DECLARED if f.kind is Kind.DATE)


def template_xlsx(db: Session, locale: str) -> bytes:
    """A workbook to fill in: the incidents sheet with drop-down lists, its instructions,
    and a hidden sheet of the lists' codes and labels."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Incidents"
    columns = template_columns()
    sheet.append([column.header(locale) for column in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    ranges = _write_lists(workbook.create_sheet("lists"), db, locale)
    _add_drop_downs(sheet, columns, ranges)
    with force_locale(locale):
        _write_instructions(workbook.create_sheet("Instructions", 0), locale)
    workbook.active = 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_lists(sheet: Any, db: Session, locale: str) -> dict[str, str]:
    """One pair of columns (label, code) per list; the range of each list's labels."""
    lists: dict[str, list[tuple[str, str]]] = {
        name: [
            (term.label(locale), term.code)
            for term in vocabulary
            if name != "status" or term.code in IMPORTABLE_STATUSES
        ]
        for name, vocabulary in _LISTS.items()
    }
    lists["mission"] = [
        (code, code) for code in db.scalars(sa.select(Mission.code).order_by(Mission.code))
    ]
    countries = db.scalars(sa.select(Country)).all()
    lists["country"] = sorted(
        ((c.name(locale), c.code) for c in countries), key=lambda c: fold(c[0])
    )
    ranges: dict[str, str] = {}
    for number, (name, entries) in enumerate(lists.items()):
        label, code = column_letter(2 * number), column_letter(2 * number + 1)
        sheet[f"{label}1"], sheet[f"{code}1"] = name, f"{name} (code)"
        for row, (text, value) in enumerate(entries, start=2):
            sheet[f"{label}{row}"], sheet[f"{code}{row}"] = text, value
        ranges[name] = f"lists!${label}$2:${label}${len(entries) + 1}"
    sheet.sheet_state = "hidden"
    return ranges


def _add_drop_downs(sheet: Any, columns: list[Column], ranges: dict[str, str]) -> None:
    from openpyxl.worksheet.datavalidation import DataValidation

    validations: dict[str, Any] = {}
    for position, column in enumerate(columns):
        name = column.key.split("_", 1)[1] if column.key.startswith("victim") else column.key
        letter = column_letter(position)
        if name in _DATE_COLUMNS:
            sheet.column_dimensions[letter].number_format = "yyyy-mm-dd"
        list_name = "country" if name in _COUNTRY_COLUMNS else name
        if list_name not in ranges:
            continue
        if list_name not in validations:
            # A warning, not a stop: codes typed by hand are accepted by the import too.
            validations[list_name] = DataValidation(
                type="list", formula1=f"={ranges[list_name]}", allow_blank=True,
                showErrorMessage=True, errorStyle="warning",
            )  # fmt: skip
            sheet.add_data_validation(validations[list_name])
        validations[list_name].add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")


def _write_instructions(sheet: Any, locale: str) -> None:
    from openpyxl.styles import Font

    required = ", ".join(c.header(locale) for c in INCIDENT_COLUMNS if c.required)
    victim = victim_column(1, "category").header(locale)
    lines = [
        _("Importing incidents into capdb"),
        "",
        _("Fill in the sheet “Incidents”, one row per incident, below its row of headers."),
        _("Columns are found by their header, in English or in French, in any order. "
          "Required columns: %(columns)s.", columns=required),
        _("Victims are in the same row: up to %(count)d in the columns “%(example)s” and "
          "following; add columns numbered 11 to %(max)d for more.",
          count=TEMPLATE_VICTIMS, example=victim, max=MAX_VICTIM_COLUMNS),
        _("Choose values from the drop-down lists. The code or the label in English or in "
          "French is accepted too; countries by name or by ISO alpha-3 code."),
        _("Dates as YYYY-MM-DD; a time as HH:MM, only when the date is exact."),
        _("Source reference: your own reference for the incident, unique within the mission. "
          "Importing the file again adds nothing twice: rows whose mission and source "
          "reference are already in capdb are reported and skipped."),
        _("Country: left blank, the mission's first host country."),
        _("Status: draft (the default) or submitted for validation."),
        _("Nothing is imported while a cell is wrong: the report names each bad cell with "
          "its row, column, value and reason."),
    ]  # fmt: skip
    for line in lines:
        sheet.append([line])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 120
