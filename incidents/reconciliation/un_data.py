"""Reading the UN's fatality data into an external reference set.

The UN publishes one row per casualty since 1948 (peacekeeping.un.org, "Peacekeeping
fatalities open data"), with the columns ``incident_date, casualty_id, mission_acronym,
type_of_casualty, gender, casualty_nationality, casualty_personnel_type, type_of_incident,
m49_code, isocode3, last_update``. Each row is kept whatever it says: its mission is looked
up among capdb's by acronym or by an alias the UN uses, on the day (None: unknown to capdb);
its nationality by ISO code, else by name, else undetermined (XXX). A file without those
columns, or a row whose date or casualty cannot be read, is refused whole, saying where.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb import db as database
from capdb.config import current_config
from capdb.reference import Country, Mission, mission_named
from incidents.errors import InputError
from incidents.un_figures import MALICIOUS_ACT, UnFatality, UnFatalitySet

log = logging.getLogger(__name__)

COLUMNS = (
    "incident_date", "casualty_id", "mission_acronym", "type_of_casualty", "gender",
    "casualty_nationality", "casualty_personnel_type", "type_of_incident", "m49_code",
    "isocode3", "last_update",
)  # fmt: skip
REQUIRED = ("incident_date", "casualty_id", "mission_acronym", "type_of_incident")
MAX_ROWS = 100_000
UNDETERMINED = "XXX"
STATELESS = "XXA"
# What the UN writes for a nationality it does not give.
NO_NATIONALITY = frozenset({"", "unknown", "undetermined", "not specified", "n/a", "na", "none"})
DATE_FORMATS = ("%Y-%m-%d", "%d-%b-%y", "%d-%b-%Y", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y")

# The UN's personnel types and capdb's personnel categories, declared once: each UN type
# covers these categories; a category not named here (one an admin added) is "Other".
UN_PERSONNEL_TYPES: dict[str, frozenset[str]] = {
    "Military": frozenset({"contingent_military"}),
    "Military Observer": frozenset({"military_expert"}),
    "Police": frozenset({"individual_police", "formed_police_unit"}),
    "International Civilian": frozenset({"international_civilian"}),
    "Local": frozenset({"national_civilian"}),
    "Other": frozenset({"un_volunteer", "contractor"}),
}
OTHER = "Other"


def un_type_of(category: str) -> str:
    """The UN's personnel type of one of capdb's personnel categories."""
    return next((t for t, covered in UN_PERSONNEL_TYPES.items() if category in covered), OTHER)


def un_type_named(text: str) -> str:
    """The UN's personnel type as written, in its own spelling; "Other" when not one."""
    folded = _fold(text)
    return next((t for t in UN_PERSONNEL_TYPES if _fold(t) == folded), OTHER)


class UnDataError(InputError):
    """The file cannot be read as the UN's data; ``problems`` says where."""


@dataclass(frozen=True)
class ParsedRow:
    values: dict[str, str]
    incident_date: date


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_date(text: str) -> date | None:
    text = text.strip()
    for candidate in (text, text.split(" ")[0], text.split("T")[0]):
        for pattern in DATE_FORMATS:
            try:
                day = datetime.strptime(candidate, pattern).date()
            except ValueError:
                continue
            # A two-digit year from before 1945 is the century's end: '48 is 1948.
            return day.replace(year=day.year - 100) if day.year > date.today().year else day
    return None


def read_rows(data: bytes) -> list[ParsedRow]:
    """The rows of the UN's CSV; :class:`UnDataError` naming every bad line (at most 20)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    reader = csv.DictReader(io.StringIO(text))
    headers = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    missing = [c for c in REQUIRED if c not in headers]
    if missing:
        raise UnDataError({"file": _("Columns missing: %(columns)s.", columns=", ".join(missing))})
    rows: list[ParsedRow] = []
    problems: dict[str, str] = {}
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise UnDataError({"file": _("More than %(max)d rows.", max=MAX_ROWS)})
        values = {c: (raw.get(headers[c]) or "").strip() for c in COLUMNS if c in headers}
        day = parse_date(values.get("incident_date", ""))
        if day is None:
            problems[f"line {line}"] = _(
                "Unreadable incident_date: %(value)s.", value=values.get("incident_date", "")
            )
        elif not values["casualty_id"] or not values["type_of_incident"]:
            problems[f"line {line}"] = _("A casualty_id and a type_of_incident are needed.")
        else:
            rows.append(ParsedRow(values, day))
        if len(problems) >= 20:
            break
    if problems:
        raise UnDataError(problems)
    return rows


def _nationality_lookup(countries: Iterable[Country]) -> dict[str, str]:
    lookup = {_fold(n): c.code for c in countries for n in (c.name_en, c.name_fr)}
    lookup.update({_fold(c.code): c.code for c in countries})
    lookup["stateless"] = STATELESS
    return lookup


def nationality_of(values: dict[str, str], lookup: dict[str, str]) -> str:
    """The ISO code, else the name, else undetermined."""
    code = values.get("isocode3", "").upper()
    if len(code) == 3 and _fold(code) in lookup:
        return lookup[_fold(code)]
    name = _fold(values.get("casualty_nationality", ""))
    if name in NO_NATIONALITY:
        return UNDETERMINED
    return lookup.get(name, UNDETERMINED)


def _record(
    row: ParsedRow, set_id: int, missions: Sequence[Mission], lookup: dict[str, str]
) -> dict[str, Any]:
    values = row.values
    mission = mission_named(missions, values["mission_acronym"], row.incident_date)
    return {
        "set_id": set_id,
        "casualty_id": values["casualty_id"][:40],
        "incident_date": row.incident_date,
        "mission_acronym": values["mission_acronym"][:40],
        "mission_code": mission.code if mission else None,
        "type_of_casualty": values.get("type_of_casualty", "")[:40],
        "gender": values.get("gender", "")[:20],
        "nationality": values.get("casualty_nationality", "")[:120],
        "nationality_code": nationality_of(values, lookup),
        "personnel_type": values.get("casualty_personnel_type", "")[:40],
        "type_of_incident": values["type_of_incident"][:40],
        "m49_code": values.get("m49_code", "")[:10],
        "isocode3": values.get("isocode3", "")[:10],
        "last_update": values.get("last_update", "")[:40],
    }


def load_un_figures(db: Session, data: bytes, source: str, *, by: User | None) -> UnFatalitySet:
    """Keep the file as a new reference set (the one reconciled from now on); audited."""
    rows = read_rows(data)
    missions = list(db.scalars(sa.select(Mission)))
    lookup = _nationality_lookup(db.scalars(sa.select(Country)))
    fatality_set = UnFatalitySet(
        source=source[:300],
        sha256=hashlib.sha256(data).hexdigest(),
        rows=len(rows),
        malicious=sum(1 for r in rows if r.values["type_of_incident"] == MALICIOUS_ACT),
        loaded_by_id=by.id if by else None,
    )
    db.add(fatality_set)
    db.flush()
    records = [_record(row, fatality_set.id, missions, lookup) for row in rows]
    if records:
        db.execute(sa.insert(UnFatality), records)
    unknown = sorted({r["mission_acronym"] for r in records if r["mission_code"] is None})
    detail = {"rows": len(records), "malicious": fatality_set.malicious, "unknown": unknown[:50]}
    audit.record(db, "import", user=by, target=fatality_set, detail=detail)
    return fatality_set


def current_set(db: Session) -> UnFatalitySet | None:
    return db.scalar(sa.select(UnFatalitySet).order_by(UnFatalitySet.id.desc()).limit(1))


def refresh_from_path(app: Flask | None = None) -> UnFatalitySet | None:
    """The periodic job: load CAPDB_UN_FATALITIES_PATH when its content changed."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        path = current_config().un_fatalities_path
        if not path:
            return None
        data = Path(path).read_bytes()
        with database.writes(), database.database().sessionmaker.begin() as session:
            latest = current_set(session)
            if latest is not None and latest.sha256 == hashlib.sha256(data).hexdigest():
                return None
            loaded = load_un_figures(session, data, path, by=None)
        log.info("the UN's fatality data was loaded again from its path (%d rows)", loaded.rows)
        return loaded
