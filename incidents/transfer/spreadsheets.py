"""Reading an import's file, XLSX or CSV, into its header row and its non-blank rows."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

from flask_babel import gettext as _

from incidents.transfer.columns import fold

MAX_ROWS = 50_000
Cell = object


class UnreadableFileError(ValueError):
    """The file is not a spreadsheet that can be read; the message says so to the user."""


@dataclass(frozen=True)
class Sheet:
    headers: list[str]
    # (row number in the spreadsheet, the row's cells)
    rows: list[tuple[int, list[Cell]]]
    header_row: int = 1


def read_spreadsheet(data: bytes, filename: str) -> Sheet:
    """The header row and the non-blank rows of an XLSX or CSV file."""
    if filename.lower().endswith(".xlsx") or data[:4] == b"PK\x03\x04":
        table = _xlsx_rows(data)
    elif filename.lower().endswith((".csv", ".txt")):
        table = enumerate(_csv_rows(data), start=1)
    else:
        raise UnreadableFileError(_("Upload an .xlsx or a .csv file."))
    return _sheet_of(table)


def _sheet_of(table: Iterator[tuple[int, Sequence[Cell]]]) -> Sheet:
    first = next(table, None)
    if first is None:
        raise UnreadableFileError(_("The file is empty."))
    headers = [as_text(value) for value in first[1]]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise UnreadableFileError(_("The first row should hold the column headers."))
    rows: list[tuple[int, list[Cell]]] = []
    for number, values in table:
        cells = list(values)
        if all(blank(value) for value in cells):
            continue
        if len(rows) == MAX_ROWS:
            raise UnreadableFileError(
                _("A file may hold at most %(count)d rows; split it in parts.", count=MAX_ROWS)
            )
        rows.append((number, cells))
    return Sheet(headers, rows, header_row=first[0])


# Workbooks are read with openpyxl in read-only mode, which streams the sheet.
MAX_UNZIPPED = 200 * 1024 * 1024


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Sequence[Cell]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(entry.file_size for entry in archive.infolist()) > MAX_UNZIPPED:
                raise UnreadableFileError(_("The workbook is too large."))
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            named = [name for name in book.sheetnames if fold(name) == "incidents"]
            sheet = book[(named or book.sheetnames)[0]]
            rows = [
                (number, list(values))
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
            ]
        finally:
            book.close()
    except UnreadableFileError:
        raise
    except Exception as error:  # openpyxl raises many kinds of error on a damaged file
        raise UnreadableFileError(
            _("This file cannot be read as an Excel workbook (.xlsx).")
        ) from error
    return iter(rows)


def _csv_rows(data: bytes) -> Iterator[Sequence[Cell]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets saved as CSV on Windows are in its Western European code page.
        text = data.decode("cp1252", errors="replace")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    try:
        return iter(list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
    except csv.Error as error:
        raise UnreadableFileError(
            _("This file cannot be read as CSV: %(reason)s", reason=str(error))
        ) from error


def blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def as_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()
