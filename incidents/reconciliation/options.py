"""What a reconciliation is asked for, read from a page's or the API's query, and its
export as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from flask_babel import gettext as _

from capdb.reference import ACRONYM, ACRONYM_MAX
from incidents.reconciliation.matching import (
    DEFAULT_TOLERANCE,
    MAX_TOLERANCE,
    Options,
    Reconciliation,
)

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _year(raw: str, name: str, errors: dict[str, str]) -> int | None:
    if not raw:
        return None
    if raw.isdigit() and 1945 <= int(raw) <= 2200:
        return int(raw)
    errors[name] = _("Give a year such as 2021.")
    return None


def options_from(args: Mapping[str, str]) -> tuple[Options, dict[str, str]]:
    """The options in a query's arguments, and a reason per value refused."""
    errors: dict[str, str] = {}
    mission = (args.get("mission") or "").strip().upper() or None
    if mission and (len(mission) > ACRONYM_MAX or not ACRONYM.fullmatch(mission)):
        errors["mission"] = _("Choose a mission.")
        mission = None
    raw = (args.get("tolerance") or "").strip()
    tolerance = DEFAULT_TOLERANCE
    if raw:
        if raw.isdigit() and int(raw) <= MAX_TOLERANCE:
            tolerance = int(raw)
        else:
            errors["tolerance"] = _("Give a number of days from 0 to %(max)d.", max=MAX_TOLERANCE)
    options = Options(
        mission=mission,
        year_from=_year((args.get("year_from") or "").strip(), "year_from", errors),
        year_to=_year((args.get("year_to") or "").strip(), "year_to", errors),
        tolerance=tolerance,
        by_nationality=args.get("by_nationality") in ("1", "true"),
        by_personnel_type=args.get("by_personnel_type") in ("1", "true"),
    )
    return options, errors


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def reconciliation_csv(result: Reconciliation) -> str:
    """One line per mission and year (and nationality, personnel type when asked)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            _("Mission"), _("Year"), _("Nationality"), _("Personnel type"),
            _("capdb: killed by malicious acts"), _("UN: malicious-act fatalities"),
            _("Difference"), _("Matched"), _("In capdb only"), _("In the UN's data only"),
            _("Explanation"),
        ]
    )  # fmt: skip
    for row in result.rows:
        writer.writerow(
            _cell(value)
            for value in (
                row.mission, row.year, row.nationality, row.personnel_type, row.capdb, row.un,
                row.difference, row.matched,
                " ".join(c.label for c in row.unmatched_capdb),
                " ".join(c.label for c in row.unmatched_un),
                row.note.text if row.note else "",
            )
        )  # fmt: skip
    return buffer.getvalue()
