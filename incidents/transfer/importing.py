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

The columns are those of the fields declared in :mod:`incidents.fields`
(:mod:`incidents.transfer.columns`); the file is read by :mod:`incidents.transfer.spreadsheets`,
its cells by :mod:`incidents.transfer.cells`, and the template made by
:mod:`incidents.transfer.template`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.bulk import insert_rows
from capdb.clock import now
from capdb.i18n import current_locale
from capdb.reference import Country, Mission
from capdb.vocabularies import VERIFICATION_STATUS
from incidents import policy
from incidents.concerned import refresh_incident_states
from incidents.fields import INCIDENT_FIELDS, Kind, named
from incidents.models import Incident, Victim
from incidents.recording import rules
from incidents.recording.service import IncidentFields, VictimFields, references_for
from incidents.signals import incidents_inserted, incidents_saved
from incidents.transfer import un_layout
from incidents.transfer.cells import (
    Cells,
    Layout,
    Problem,
    column_letter,
    parse_date,
    parse_number,
    parse_time,
    read,
)
from incidents.transfer.columns import (
    IMPORTABLE_STATUSES,
    INCIDENT_COLUMNS,
    INCIDENT_IMPORTED,
    MAX_VICTIM_COLUMNS,
    TEMPLATE_VICTIMS,
    VICTIM_FIELDS,
    VICTIM_IMPORTED,
    Column,
    country_lookups,
    fold,
    header_key,
    known_headers,
    template_columns,
    victim_column,
    vocabulary_lookup,
)
from incidents.transfer.spreadsheets import (
    MAX_ROWS,
    Cell,
    Sheet,
    UnreadableFileError,
    as_text,
    read_spreadsheet,
)
from incidents.transfer.template import template_csv, template_xlsx

# Names that were defined here before the import was split, and that callers still use.
__all__ = [
    "MAX_ROWS",
    "MAX_VICTIM_COLUMNS",
    "TEMPLATE_VICTIMS",
    "VICTIM_FIELDS",
    "Cell",
    "Column",
    "Problem",
    "UnreadableFileError",
    "fold",
    "header_key",
    "known_headers",
    "parse_date",
    "parse_number",
    "parse_time",
    "read_spreadsheet",
    "template_columns",
    "template_csv",
    "template_xlsx",
    "victim_column",
    "vocabulary_lookup",
]

BATCH = 2_000
PROGRESS_STEP = 100

Progress = Callable[[int], None]


def _no_progress(_done: int) -> None:
    return None


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
    # In the UN's layout (incidents.transfer.un_layout): its casualties of other types of
    # incident, left out.
    un_layout: bool = False
    un_left_out: int = 0

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


def _layout(headers: list[str], row: int, locale: str) -> tuple[Layout, list[Problem]]:
    known = known_headers()
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
    return Layout(index, headers, victims), problems


@dataclass(frozen=True)
class _Reference:
    """The reference data a check needs, loaded once."""

    missions: dict[str, Mission]
    allowed_missions: frozenset[str]
    # Per kinds of country a field takes (capdb.reference.PLACES...), its lookup.
    countries: dict[frozenset[str], dict[str, str | None]]
    latest: date


def _reference(db: Session, user: User) -> _Reference:
    missions = {m.code: m for m in db.scalars(sa.select(Mission))}
    return _Reference(
        missions=missions,
        allowed_missions=frozenset(m.code for m in policy.missions_for(db, user)),
        countries=country_lookups(db.scalars(sa.select(Country)).all()),
        latest=rules.latest_date(),
    )


# What a row records of the incident; its mission is read with its key.
_RECORDED = tuple(f for f in INCIDENT_IMPORTED if f.recorded and f.kind is not Kind.MISSION)
_SOURCE_REFERENCE = named(INCIDENT_FIELDS, "source_reference")


def _parse_incident(cells: Cells, reference: _Reference, mission: Mission) -> IncidentFields | None:
    values: dict[str, Any] = {
        "mission_code": mission.code,
        **{f.model_attribute: read(cells, f, f.name, reference.countries) for f in _RECORDED},
    }
    if cells.raw("country") is None:
        values["country_code"] = rules.country_where(None, mission)
    cells.refuse_all(rules.incident_problems(values, mission=mission, latest=reference.latest))
    cells.refuse_all(rules.retired_problems(values, _RECORDED, None))
    # A required value that is missing or unreadable has been refused.
    return None if cells.problems else IncidentFields(**values)


def _parse_victim(
    cells: Cells, number: int, reference: _Reference, occurred_on: date | None
) -> VictimFields | None:
    def key(name: str) -> str:
        return f"victim{number}_{name}"

    if all(cells.raw(key(name)) is None for name in VICTIM_FIELDS):
        return None
    before = len(cells.problems)
    values: dict[str, Any] = {
        f.model_attribute: read(cells, f, key(f.name), reference.countries) for f in VICTIM_IMPORTED
    }
    problems = rules.victim_problems(values, incident_date=occurred_on, latest=reference.latest)
    problems |= rules.retired_problems(values, VICTIM_IMPORTED, None)
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
    un_grouping: str = "day",
) -> ImportPlan:
    """Check every row of the sheet; nothing is written. A sheet in the UN's layout is read
    as incidents grouped by ``un_grouping`` (:mod:`incidents.transfer.un_layout`)."""
    plan = ImportPlan(filename=filename, sha256=sha256, rows=len(sheet.rows))
    if un_layout.is_un_layout(sheet.headers):
        translated = un_layout.translate(db, sheet, un_grouping)
        sheet, plan.un_layout, plan.un_left_out = translated.sheet, True, translated.left_out
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
    if plan.un_layout:  # the cells are the UN's, not in the columns checked
        plan.problems = [replace(p, letter="") for p in plan.problems]
    return plan


def _keys(
    sheet: Sheet, layout: Layout, reference: _Reference, plan: ImportPlan
) -> list[tuple[Cells, tuple[str, str] | None]]:
    """Each row with its natural key (mission, source reference), None when unreadable."""
    keyed: list[tuple[Cells, tuple[str, str] | None]] = []
    for number, values in sheet.rows:
        cells = Cells(number, values, layout)
        source_reference = cells.text(
            "source_reference", max_length=_SOURCE_REFERENCE.max_length or 0, required=True
        )
        mission_code = as_text(cells.raw("mission")).upper()
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
    cells: Cells, layout: Layout, reference: _Reference, key: tuple[str, str] | None
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
            # Written in SQL, past the session's hook: the States they concern too.
            refresh_incident_states(db, ids)
            if ids:  # listeners (the maps feature) count them, and derive their areas
                incidents_inserted.send(db, incident_ids=ids)
                incidents_saved.send(db, incident_ids=ids)
            audit.record(
                db,
                "import",
                user=user,
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
    keys = [(row.fields.mission_code, row.fields.occurred_on.year) for row in rows]
    references = references_for(db, keys)
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
    db: Session,
    user: User,
    data: bytes,
    filename: str,
    *,
    dry_run: bool = False,
    un_grouping: str = "day",
) -> ImportResult:
    """Read, check and, unless it is a dry run or a cell is wrong, write the file."""
    sheet = read_spreadsheet(data, filename)
    sha256 = hashlib.sha256(data).hexdigest()
    plan = check(db, user, sheet, filename=filename, sha256=sha256, un_grouping=un_grouping)
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
