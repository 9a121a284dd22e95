"""Importing incidents from a spreadsheet (XLSX or CSV), all or nothing.

The file holds one row per incident, its victims in the same row in the columns
``victim1_category`` ... ``victim10_name`` (more victims in ``victim11_...`` and so on, up
to :data:`MAX_VICTIM_COLUMNS`). A column is found by its header, in English or in French,
or by its key; a vocabulary cell takes the code or the label in either language, a country
cell the ISO alpha-3 code or the name in either language.

Every row is checked before anything is written, each cell here and the rules between
fields in :mod:`incidents.recording.rules`, as the incident form and the API check theirs;
a single bad cell and nothing is imported, and the report names every bad cell with its
row, column, value and reason. The rows are then written in one transaction. The mission
and the source reference are the natural key of an imported incident: a row whose key is
already in the database was imported before, and is reported and skipped, so importing
a file twice adds nothing twice.

Headers are a bilingual vocabulary defined here, as the vocabularies are, rather than
translated strings: a French template stays importable whatever the catalog says.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from functools import cache, lru_cache
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.bulk import insert_rows
from capdb.clock import now
from capdb.i18n import current_locale
from capdb.reference import Country, Mission
from capdb.vocabularies import (
    ATTACK_CONTEXT,
    DATE_PRECISION,
    GEO_PRECISION,
    LOCATION_TYPE,
    MEANS_OF_ATTACK,
    OUTCOME,
    PERPETRATOR_TYPE,
    PERSONNEL_CATEGORY,
    SEX,
    VERIFICATION_STATUS,
    Vocabulary,
)
from incidents.models import Incident, Victim
from incidents.recording import rules
from incidents.recording.service import IncidentFields, VictimFields, missions_for, next_reference
from incidents.signals import incidents_saved

TEMPLATE_VICTIMS = 10
MAX_VICTIM_COLUMNS = 30
MAX_ROWS = 50_000
BATCH = 2_000
PROGRESS_STEP = 100
# Rows of the template that carry the drop-down lists.
TEMPLATE_ROWS = 20_000
IMPORTABLE_STATUSES = ("draft", "submitted")

Cell = object
Progress = Callable[[int], None]


def _no_progress(_done: int) -> None:
    return None


# Columns ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    fr: str
    required: bool = False

    def header(self, locale: str) -> str:
        return self.fr if locale.startswith("fr") else self.en


INCIDENT_COLUMNS = (
    Column("source_reference", "Source reference", "Référence source", required=True),
    Column("mission", "Mission", "Mission", required=True),
    Column("occurred_on", "Date", "Date", required=True),
    Column("occurred_time", "Time", "Heure"),
    Column("date_precision", "Date precision", "Précision de la date", required=True),
    Column("country", "Country", "Pays"),
    Column("place", "Place", "Lieu", required=True),
    Column("latitude", "Latitude", "Latitude"),
    Column("longitude", "Longitude", "Longitude"),
    Column("geo_precision", "Location precision", "Précision du lieu", required=True),
    Column("means_of_attack", "Means of attack", "Moyen d'attaque", required=True),
    Column("attack_context", "Attack context", "Contexte de l'attaque", required=True),
    Column("location_type", "Location type", "Type de lieu", required=True),
    Column("perpetrator_type", "Perpetrator type", "Type d'auteur", required=True),
    Column("perpetrator_name", "Perpetrator name", "Nom de l'auteur"),
    Column("narrative", "Narrative", "Récit"),
    Column("sources", "Sources", "Sources"),
    Column("status", "Status", "Statut"),
)

# field of a victim -> English and French header after "Victim N" / "Victime N"
VICTIM_FIELDS = {
    "category": ("category", "catégorie"),
    "nationality": ("nationality", "nationalité"),
    "contributing_country": ("contributing country", "pays contributeur"),
    "unit": ("unit", "unité"),
    "sex": ("sex", "sexe"),
    "outcome": ("outcome", "conséquence"),
    "date_of_death": ("date of death", "date du décès"),
    "name": ("name", "nom"),
}


def victim_column(number: int, name: str) -> Column:
    en, fr = VICTIM_FIELDS[name]
    return Column(f"victim{number}_{name}", f"Victim {number} {en}", f"Victime {number} {fr}")


def template_columns(victims: int = TEMPLATE_VICTIMS) -> list[Column]:
    victim_columns = [
        victim_column(n, name) for n in range(1, victims + 1) for name in VICTIM_FIELDS
    ]
    return [*INCIDENT_COLUMNS, *victim_columns]


@lru_cache(maxsize=8192)  # a column repeats the same few labels thousands of times
def fold(text: str) -> str:
    """Text compared without case, accents or extra spaces: "Engin  explosif IMPROVISE"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def header_key(text: str) -> str:
    """A header reduced to letters and digits, so "Victim 1 category" is victim1_category."""
    return re.sub(r"[^a-z0-9]", "", fold(text))


@cache
def _known_headers() -> dict[str, Column]:
    columns = [
        *INCIDENT_COLUMNS,
        *(
            victim_column(n, name)
            for n in range(1, MAX_VICTIM_COLUMNS + 1)
            for name in VICTIM_FIELDS
        ),
    ]
    return {header_key(text): c for c in columns for text in (c.key, c.en, c.fr)}


@cache
def vocabulary_lookup(vocabulary: Vocabulary) -> dict[str, str]:
    """Folded code and labels in both languages -> code."""
    lookup: dict[str, str] = {}
    for term in vocabulary:
        for text in (term.code, term.en, term.fr):
            key = fold(text)
            if lookup.setdefault(key, term.code) != term.code:
                raise ValueError(f"{text!r} names two terms of {vocabulary.name}")
    return lookup


# Reading the file ---------------------------------------------------------------------------


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
    headers = [_as_text(value) for value in first[1]]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise UnreadableFileError(_("The first row should hold the column headers."))
    rows: list[tuple[int, list[Cell]]] = []
    for number, values in table:
        cells = list(values)
        if all(_blank(value) for value in cells):
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


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


# The report ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A bad cell: where it is, what it holds, and why it is refused."""

    row: int
    column: str
    value: str
    reason: str
    letter: str = ""


@dataclass(frozen=True)
class AlreadyImported:
    row: int
    mission: str
    source_reference: str


@dataclass(frozen=True)
class ParsedRow:
    row: int
    source_reference: str
    status: str
    fields: IncidentFields
    victims: list[VictimFields]


@dataclass
class ImportPlan:
    """What the file holds once checked: rows to create, rows imported before, problems."""

    filename: str
    sha256: str
    rows: int
    new: list[ParsedRow] = field(default_factory=list)
    already_imported: list[AlreadyImported] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    dry_run: bool
    created: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.plan.ok


class ImportConflictError(Exception):
    """A key or a reference the import writes was taken by another writer meanwhile."""


# Checking -----------------------------------------------------------------------------------


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return cast(str, get_column_letter(index + 1))


@dataclass
class _Layout:
    """Where each known column is in the file."""

    index: dict[str, int]
    headers: list[str]
    victims: list[int]


def _layout(headers: list[str], row: int, locale: str) -> tuple[_Layout, list[Problem]]:
    known = _known_headers()
    index: dict[str, int] = {}
    problems: list[Problem] = []
    for position, header in enumerate(headers):
        if not header:
            continue
        column = known.get(header_key(header))
        letter = column_letter(position)
        if column is None:
            problems.append(Problem(row, header, header, _("Unknown column."), letter))
        elif column.key in index:
            problems.append(Problem(row, header, header, _("This column appears twice."), letter))
        else:
            index[column.key] = position
    for column in INCIDENT_COLUMNS:
        if column.required and column.key not in index:
            problems.append(Problem(row, column.header(locale), "", _("This column is missing.")))
    victims = sorted({int(m.group(1)) for key in index if (m := re.match(r"victim(\d+)_", key))})
    return _Layout(index, headers, victims), problems


@dataclass(frozen=True)
class _Reference:
    """The reference data a check needs, loaded once."""

    missions: dict[str, Mission]
    allowed_missions: frozenset[str]
    countries: dict[str, str | None]
    latest: date


def _reference(db: Session, user: User) -> _Reference:
    missions = {m.code: m for m in db.scalars(sa.select(Mission))}
    return _Reference(
        missions=missions,
        allowed_missions=frozenset(m.code for m in missions_for(db, user)),
        countries=_country_lookup(db.scalars(sa.select(Country)).all()),
        latest=rules.latest_date(),
    )


def _country_lookup(countries: Sequence[Country]) -> dict[str, str | None]:
    """Folded code and names in both languages -> code; None for a name two countries share."""
    lookup: dict[str, str | None] = {}
    for country in countries:
        for name in (country.name_en, country.name_fr):
            key = fold(name)
            lookup[key] = country.code if lookup.get(key, country.code) == country.code else None
    lookup.update((country.code.casefold(), country.code) for country in countries)
    return lookup


class _Cells:
    """The cells of one row, read by column key; each refusal is noted as a problem."""

    def __init__(self, number: int, values: list[Cell], layout: _Layout) -> None:
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
        return None if _blank(value) else value

    def refuse(self, key: str, reason: str) -> None:
        position = self.layout.index.get(key)
        header = self.layout.headers[position] if position is not None else key
        letter = column_letter(position) if position is not None else ""
        value = _as_text(self.raw(key))
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
        text = _as_text(value)
        if len(text) > max_length:
            self.refuse(key, _("At most %(count)d characters.", count=max_length))
            return None
        return text

    def choice(self, key: str, vocabulary: Vocabulary, *, required: bool = True) -> str | None:
        value = self.raw(key)
        if value is None:
            self._missing(key, required)
            return None
        code = vocabulary_lookup(vocabulary).get(fold(_as_text(value)))
        if code is None:
            self.refuse(key, _("Not a value of the list; choose one from the drop-down list."))
        return code

    def country(self, key: str, countries: dict[str, str | None], *, required: bool) -> str | None:
        value = self.raw(key)
        if value is None:
            self._missing(key, required)
            return None
        text = _as_text(value)
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


def _parse_incident(
    cells: _Cells, reference: _Reference, mission: Mission
) -> IncidentFields | None:
    values: dict[str, Any] = {
        "mission_code": mission.code,
        "occurred_on": cells.date("occurred_on", required=True),
        "occurred_time": cells.time("occurred_time"),
        "date_precision": cells.choice("date_precision", DATE_PRECISION),
        "country_code": cells.country("country", reference.countries, required=False),
        "place": cells.text("place", max_length=rules.PLACE_MAX, required=True),
        "latitude": cells.degrees("latitude"),
        "longitude": cells.degrees("longitude"),
        "geo_precision": cells.choice("geo_precision", GEO_PRECISION),
        "means_of_attack": cells.choice("means_of_attack", MEANS_OF_ATTACK),
        "attack_context": cells.choice("attack_context", ATTACK_CONTEXT),
        "location_type": cells.choice("location_type", LOCATION_TYPE),
        "perpetrator_type": cells.choice("perpetrator_type", PERPETRATOR_TYPE),
        "perpetrator_name": cells.text("perpetrator_name", max_length=rules.PERPETRATOR_NAME_MAX),
        "narrative": cells.text("narrative", max_length=rules.NARRATIVE_MAX) or "",
        "sources": cells.text("sources", max_length=rules.SOURCES_MAX) or "",
    }
    if cells.raw("country") is None:
        values["country_code"] = rules.country_where(None, mission)
    cells.refuse_all(rules.incident_problems(values, mission=mission, latest=reference.latest))
    # A required value that is missing or unreadable has been refused.
    return None if cells.problems else IncidentFields(**values)


def _parse_victim(
    cells: _Cells, number: int, reference: _Reference, occurred_on: date | None
) -> VictimFields | None:
    def key(name: str) -> str:
        return f"victim{number}_{name}"

    if all(cells.raw(key(name)) is None for name in VICTIM_FIELDS):
        return None
    before = len(cells.problems)
    values: dict[str, Any] = {
        "category": cells.choice(key("category"), PERSONNEL_CATEGORY),
        "nationality_code": cells.country(key("nationality"), reference.countries, required=True),
        "contributing_country_code": cells.country(
            key("contributing_country"), reference.countries, required=False
        ),
        "unit": cells.text(key("unit"), max_length=rules.UNIT_MAX),
        "sex": cells.choice(key("sex"), SEX, required=False) or "unknown",
        "outcome": cells.choice(key("outcome"), OUTCOME),
        "date_of_death": cells.date(key("date_of_death"), required=False),
        "name": cells.text(key("name"), max_length=rules.NAME_MAX),
    }
    problems = rules.victim_problems(values, incident_date=occurred_on, latest=reference.latest)
    cells.refuse_all({key(name): reasons for name, reasons in problems.items()})
    return None if len(cells.problems) > before else VictimFields(**values)


def check(
    db: Session,
    user: User,
    sheet: Sheet,
    *,
    filename: str,
    sha256: str = "",
    progress: Progress = _no_progress,
) -> ImportPlan:
    """Check every row of the sheet; nothing is written."""
    plan = ImportPlan(filename=filename, sha256=sha256, rows=len(sheet.rows))
    layout, plan.problems = _layout(sheet.headers, sheet.header_row, current_locale())
    if plan.problems:
        return plan
    reference = _reference(db, user)
    keyed = _keys(sheet, layout, reference, plan)
    existing = _existing_keys(db, [key for _cells, key in keyed if key is not None])
    first_row: dict[tuple[str, str], int] = {}
    for done, (cells, key) in enumerate(keyed, start=1):
        if key is not None and key in existing:
            plan.already_imported.append(AlreadyImported(cells.row, key[0], key[1]))
        elif key is not None and key in first_row:
            cells.refuse(
                "source_reference",
                _("This source reference is already on row %(row)d.", row=first_row[key]),
            )
        else:
            if key is not None:
                first_row[key] = cells.row
            parsed = _parse_row(cells, layout, reference, key)
            if parsed is not None:
                plan.new.append(parsed)
        plan.problems.extend(cells.problems)
        if done % PROGRESS_STEP == 0:
            progress(PROGRESS_STEP)
    progress(len(keyed) % PROGRESS_STEP)
    return plan


def _keys(
    sheet: Sheet, layout: _Layout, reference: _Reference, plan: ImportPlan
) -> list[tuple[_Cells, tuple[str, str] | None]]:
    """Each row with its natural key (mission, source reference), None when unreadable."""
    keyed: list[tuple[_Cells, tuple[str, str] | None]] = []
    for number, values in sheet.rows:
        cells = _Cells(number, values, layout)
        source_reference = cells.text("source_reference", max_length=80, required=True)
        mission_code = _as_text(cells.raw("mission")).upper()
        if not mission_code:
            cells.refuse("mission", _("This field is required."))
        elif mission_code not in reference.missions:
            cells.refuse("mission", _("Unknown mission; give its acronym, such as MINUSMA."))
        elif mission_code not in reference.allowed_missions:
            cells.refuse("mission", _("You cannot record incidents for this mission."))
        key = None
        if source_reference is not None and not cells.problems:
            key = (mission_code, source_reference)
        keyed.append((cells, key))
    return keyed


def _existing_keys(db: Session, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    references = sorted({reference for _mission, reference in keys})
    for start in range(0, len(references), 500):
        rows = db.execute(
            sa.select(Incident.mission_code, Incident.source_reference).where(
                Incident.source_reference.in_(references[start : start + 500])
            )
        )
        found.update((mission, str(source)) for mission, source in rows)
    return found & set(keys)


def _parse_row(
    cells: _Cells, layout: _Layout, reference: _Reference, key: tuple[str, str] | None
) -> ParsedRow | None:
    if key is None:
        return None
    mission = reference.missions[key[0]]
    fields = _parse_incident(cells, reference, mission)
    occurred_on = fields.occurred_on if fields is not None else None
    victims = [_parse_victim(cells, n, reference, occurred_on) for n in layout.victims]
    status = cells.choice("status", VERIFICATION_STATUS, required=False) or "draft"
    if status not in IMPORTABLE_STATUSES:
        cells.refuse(
            "status",
            _("An import creates drafts or submitted incidents; validate them on their page."),
        )
    if cells.problems or fields is None:
        return None
    return ParsedRow(
        row=cells.row,
        source_reference=key[1],
        status=status,
        fields=fields,
        victims=[v for v in victims if v is not None],
    )


# Writing ------------------------------------------------------------------------------------


def write(
    db: Session, user: User, plan: ImportPlan, *, progress: Progress = _no_progress
) -> list[int]:
    """Create the plan's new incidents and their victims, all or none; their ids.

    Runs in a savepoint, so that a failure part-way leaves the caller's transaction as it
    was; the caller's commit makes the import permanent.
    """
    if not plan.ok:
        raise ValueError("a plan with problems is never written")
    try:
        with db.begin_nested():
            ids = _insert(db, user, plan.new, progress)
            if ids:  # listeners (the maps feature) derive the new incidents' admin areas
                incidents_saved.send(db, incident_ids=ids)
            audit.record(
                db,
                "import",
                user=user if user.id is not None else None,
                actor=None if user.id is not None else user.email,
                target_type="incidents",
                detail={
                    "file": plan.filename,
                    "sha256": plan.sha256,
                    "rows": plan.rows,
                    "created": len(ids),
                    "already_imported": len(plan.already_imported),
                    "incidents": ids,
                },
            )
    except (sa.exc.IntegrityError, psycopg.IntegrityError) as error:
        raise ImportConflictError(str(error)) from error
    return ids


def _insert(db: Session, user: User, rows: Sequence[ParsedRow], progress: Progress) -> list[int]:
    references = _references(db, rows)
    stamp = now()
    ids: list[int] = []
    incidents = cast(sa.Table, Incident.__table__)
    victims = cast(sa.Table, Victim.__table__)
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        incident_rows = [
            _incident_row(row, reference, user, stamp)
            for row, reference in zip(batch, references[start : start + BATCH], strict=True)
        ]
        batch_ids = insert_rows(db, incidents, incident_rows, returning_ids=True)
        victim_rows = [
            {**_values(victim), "incident_id": incident_id, "version": 1,
             "created_at": stamp, "updated_at": stamp}
            for row, incident_id in zip(batch, batch_ids, strict=True)
            for victim in row.victims
        ]  # fmt: skip
        insert_rows(db, victims, victim_rows)
        ids.extend(batch_ids)
        progress(len(batch))
    return ids


def _values(record: IncidentFields | VictimFields) -> dict[str, Any]:
    """The dataclass's fields, shallow (``asdict`` deep-copies, which costs seconds here)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _references(db: Session, rows: Sequence[ParsedRow]) -> list[str]:
    """The next free references of each mission and year, in the order of the rows."""
    following: dict[tuple[str, int], int] = {}
    references = []
    for row in rows:
        group = (row.fields.mission_code, row.fields.occurred_on.year)
        if group not in following:
            first = next_reference(db, *group)
            following[group] = int(first.rsplit("-", 1)[1])
        references.append(f"{group[0]}-{group[1]}-{following[group]:04d}")
        following[group] += 1
    return references


def _incident_row(row: ParsedRow, reference: str, user: User, stamp: datetime) -> dict[str, Any]:
    submitted = row.status == "submitted"
    return {
        **_values(row.fields),
        "reference": reference,
        "source_reference": row.source_reference,
        "status": row.status,
        "created_by_id": user.id,
        "updated_by_id": user.id,
        "submitted_at": stamp if submitted else None,
        "submitted_by_id": user.id if submitted else None,
        "created_at": stamp,
        "updated_at": stamp,
        "version": 1,
    }


# The whole import ---------------------------------------------------------------------------


def import_spreadsheet(
    db: Session, user: User, data: bytes, filename: str, *, dry_run: bool = False
) -> ImportResult:
    """Read, check and, unless it is a dry run or a cell is wrong, write the file."""
    sheet = read_spreadsheet(data, filename)
    plan = check(db, user, sheet, filename=filename, sha256=hashlib.sha256(data).hexdigest())
    if dry_run or not plan.ok:
        return ImportResult(plan, dry_run)
    return ImportResult(plan, dry_run, write(db, user, plan))


def report_rows(problems: Iterable[Problem]) -> Iterator[list[str]]:
    """The problems as rows of a table, its header first, in the current language."""
    yield [_("Row"), _("Column"), _("Value"), _("Reason")]
    for problem in problems:
        column = f"{problem.letter} ({problem.column})" if problem.letter else problem.column
        yield [str(problem.row), column, problem.value, problem.reason]


# Templates ----------------------------------------------------------------------------------


def template_csv(locale: str) -> bytes:
    """The header row, in the language, with a byte-order mark so Excel reads it as UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([column.header(locale) for column in template_columns()])
    return buffer.getvalue().encode("utf-8-sig")


# column key -> the vocabulary its drop-down list offers
_LISTS: dict[str, Vocabulary] = {
    "date_precision": DATE_PRECISION,
    "geo_precision": GEO_PRECISION,
    "means_of_attack": MEANS_OF_ATTACK,
    "attack_context": ATTACK_CONTEXT,
    "location_type": LOCATION_TYPE,
    "perpetrator_type": PERPETRATOR_TYPE,
    "status": VERIFICATION_STATUS,
    "category": PERSONNEL_CATEGORY,
    "sex": SEX,
    "outcome": OUTCOME,
}
_COUNTRY_COLUMNS = frozenset({"country", "nationality", "contributing_country"})
_DATE_COLUMNS = frozenset({"occurred_on", "date_of_death"})


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
