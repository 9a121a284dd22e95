"""The UN's fatality data as a known layout of the import: a mission back-captures its
history from it, then completes each incident.

A sheet with the UN's columns (``incident_date, casualty_id, mission_acronym...``) is read
as rows of capdb's own layout, then checked and written as any import: with a dry run, the
usual errors per row (reported on the UN's line that starts the incident), all or nothing,
and nothing twice (each incident's source reference names its UN casualties' day or
casualty). Only the casualties of malicious acts are crimes against peacekeepers: the others
are left out, and counted. Casualties are grouped into incidents by the rule the user
chose: one incident per mission and day (``day``), or one per casualty (``casualty``).

What the UN does not say (the place, the means of attack...) is recorded as unknown or
"other", for the mission to complete; each casualty is a victim killed on the incident's
day, of the personnel category the UN's type maps to, its contributing country (for
uniformed personnel) its nationality.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.reference import Country, Mission, mission_named
from incidents.reconciliation.un_data import parse_date
from incidents.transfer.columns import MAX_VICTIM_COLUMNS, fold
from incidents.transfer.spreadsheets import Cell, Sheet, as_text

GROUPINGS = ("day", "casualty")
MALICIOUS_ACT = "malicious act"
# Each UN personnel type as the one category capdb records it under until completed.
CATEGORY_OF = {
    "military": "contingent_military",
    "military observer": "military_expert",
    "police": "individual_police",
    "international civilian": "international_civilian",
    "local": "national_civilian",
}
OTHER_CATEGORY = "contractor"
UNIFORMED_TYPES = frozenset({"military", "military observer", "police"})
SEX_OF = {"male": "male", "female": "female"}
NO_NATIONALITY = frozenset({"", "unknown", "undetermined", "not specified", "n/a", "na"})
INCIDENT_DEFAULTS = {
    "date_precision": "day",
    "place": "Not given by the UN's data",
    "geo_precision": "country",
    "means_of_attack": "other",
    "attack_context": "other",
    "location_type": "other",
    "perpetrator_type": "unknown",
    "status": "draft",
    "sources": "UN peacekeeping fatalities open data (peacekeeping.un.org)",
}
VICTIM_FIELDS = ("category", "nationality", "contributing_country", "sex", "outcome")


def is_un_layout(headers: Sequence[str]) -> bool:
    folded = {fold(h) for h in headers}
    return {"incident_date", "casualty_id", "mission_acronym", "type_of_incident"} <= folded


@dataclass(frozen=True)
class Translated:
    sheet: Sheet
    left_out: int  # casualties of other types of incident


@dataclass
class _Casualty:
    line: int
    values: dict[str, str]


def _nationalities(db: Session) -> dict[str, str]:
    countries = db.scalars(sa.select(Country))
    lookup = {fold(n): c.code for c in countries for n in (c.name_en, c.name_fr)}
    lookup.update({fold(c): c for c in db.scalars(sa.select(Country.code))})
    lookup["stateless"] = "XXA"
    return lookup


def _nationality(values: dict[str, str], lookup: dict[str, str]) -> str:
    code = fold(values.get("isocode3", ""))
    if len(code) == 3 and code in lookup:
        return lookup[code]
    name = fold(values.get("casualty_nationality", ""))
    return "XXX" if name in NO_NATIONALITY else lookup.get(name, "XXX")


def _group_key(casualty: _Casualty, grouping: str) -> tuple[str, ...]:
    values = casualty.values
    if grouping == "casualty":
        return ("casualty", values.get("casualty_id", ""), str(casualty.line))
    return ("day", values.get("mission_acronym", "").upper(), values.get("incident_date", ""))


def translate(db: Session, sheet: Sheet, grouping: str) -> Translated:
    """The sheet in capdb's layout: one row per incident."""
    index = {fold(h): i for i, h in enumerate(sheet.headers)}
    groups: dict[tuple[str, ...], list[_Casualty]] = defaultdict(list)
    left_out = 0
    for line, cells in sheet.rows:
        values = {name: as_text(cells[i]) if i < len(cells) else "" for name, i in index.items()}
        if fold(values.get("type_of_incident", "")) != MALICIOUS_ACT:
            left_out += 1
            continue
        casualty = _Casualty(line, values)
        groups[_group_key(casualty, grouping)].append(casualty)
    missions = list(db.scalars(sa.select(Mission)))
    lookup = _nationalities(db)
    # A day with more casualties than a row takes victims makes several incidents.
    parts = [
        (group[start : start + MAX_VICTIM_COLUMNS], start // MAX_VICTIM_COLUMNS + 1)
        for group in sorted(groups.values(), key=lambda g: g[0].line)
        for start in range(0, len(group), MAX_VICTIM_COLUMNS)
    ]
    headers = _headers(max((len(part) for part, _n in parts), default=1))
    rows = [(part[0].line, _row(part, grouping, n, headers, missions, lookup)) for part, n in parts]
    return Translated(Sheet(headers, rows, sheet.header_row), left_out)


def _headers(victims: int) -> list[str]:
    incident = ["mission", "source_reference", "occurred_on", *INCIDENT_DEFAULTS, "narrative"]
    return (
        incident
        + [f"victim{n}_{f}" for n in range(1, victims + 1) for f in VICTIM_FIELDS]
        + [f"victim{n}_date_of_death" for n in range(1, victims + 1)]
    )


def _row(
    group: list[_Casualty],
    grouping: str,
    part: int,
    headers: list[str],
    missions: Sequence[Mission],
    lookup: dict[str, str],
) -> list[Cell]:
    first = group[0].values
    acronym, day = first.get("mission_acronym", ""), first.get("incident_date", "")
    parsed = parse_date(day)
    mission = mission_named(missions, acronym, parsed) if acronym else None
    code = mission.code if mission else acronym.upper()
    ids = [c.values.get("casualty_id", "") for c in group]
    reference = f"UN {code} {parsed.isoformat() if parsed else day}"
    if part > 1:
        reference += f" ({part})"
    if grouping == "casualty":
        reference = f"UN casualty {first.get('casualty_id', '')}"
    cells: dict[str, Cell] = {
        "mission": code,
        "source_reference": reference[:80],
        "occurred_on": parsed.isoformat() if parsed else day,
        **INCIDENT_DEFAULTS,
        "narrative": "Back-captured from the UN's fatality data: casualties "
        + ", ".join(ids)
        + ".",
    }
    for n, casualty in enumerate(group, start=1):
        cells |= _victim(n, casualty.values, lookup, cells["occurred_on"])
    return [cells.get(header) for header in headers]


def _victim(n: int, values: dict[str, str], lookup: dict[str, str], day: Cell) -> dict[str, Cell]:
    kind = fold(values.get("casualty_personnel_type", ""))
    nationality = _nationality(values, lookup)
    return {
        f"victim{n}_category": CATEGORY_OF.get(kind, OTHER_CATEGORY),
        f"victim{n}_nationality": nationality,
        f"victim{n}_contributing_country": nationality if kind in UNIFORMED_TYPES else None,
        f"victim{n}_sex": SEX_OF.get(fold(values.get("gender", "")), "unknown"),
        f"victim{n}_outcome": "killed",
        f"victim{n}_date_of_death": day,
    }
