"""The incident filter that lists, maps, charts, exports and the API share, and paging.

A filter is parsed from query arguments, field by field, into either values or reasons
why a value is refused. Applied to a query, it narrows what the access rule already
allows: callers always start from :func:`scoped_incidents`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth.models import User
from capdb.reference import Country, Mission
from capdb.vocabularies import JUDICIAL_STAGE, MEANS_OF_ATTACK, OUTCOME, VERIFICATION_STATUS
from incidents.models import Incident, JudicialCase, Victim, case_incidents
from incidents.policy import concerns, visible_incidents

MAX_PER_PAGE = 200
DEFAULT_PER_PAGE = 50
Q_MAX_LENGTH = 200


@dataclass(frozen=True)
class IncidentFilters:
    mission: str | None = None
    state: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    means_of_attack: str | None = None
    outcome: str | None = None
    stage: str | None = None
    status: str | None = None
    q: str | None = None

    @classmethod
    def parse(cls, db: Session, args: Mapping[str, str]) -> tuple[IncidentFilters, dict[str, str]]:
        """The filters given in ``args``, and a reason for each value refused."""
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in (f.name for f in fields(cls)):
            raw = (args.get(name) or "").strip()
            if not raw:
                continue
            try:
                values[name] = _PARSERS[name](db, raw)
            except ValueError as error:
                errors[name] = str(error)
        if (
            "date_from" in values
            and "date_to" in values
            and values["date_from"] > values["date_to"]
        ):
            errors["date_to"] = _("The end date is before the start date.")
        return cls(**values), errors

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if self.mission:
            conditions.append(Incident.mission_code == self.mission)
        if self.state:
            conditions.append(concerns(self.state))
        if self.date_from:
            conditions.append(Incident.occurred_on >= self.date_from)
        if self.date_to:
            conditions.append(Incident.occurred_on <= self.date_to)
        if self.means_of_attack:
            conditions.append(Incident.means_of_attack == self.means_of_attack)
        if self.status:
            conditions.append(Incident.status == self.status)
        if self.outcome:
            conditions.append(
                sa.exists()
                .where(
                    Victim.incident_id == Incident.id,
                    Victim.deleted_at.is_(None),
                    Victim.outcome == self.outcome,
                )
                .correlate(Incident)
            )
        if self.stage:
            conditions.append(
                sa.exists()
                .where(
                    case_incidents.c.incident_id == Incident.id,
                    case_incidents.c.case_id == JudicialCase.id,
                    JudicialCase.deleted_at.is_(None),
                    JudicialCase.current_stage == self.stage,
                )
                .correlate(Incident)
            )
        if self.q:
            pattern = (
                "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
            conditions.append(
                sa.or_(
                    *(
                        column.ilike(pattern, escape="\\")
                        for column in (
                            Incident.reference,
                            Incident.place,
                            Incident.perpetrator_name,
                            Incident.narrative,
                        )
                    )
                )
            )
        return conditions

    def as_args(self) -> dict[str, str]:
        """The filter as query arguments, for links, exports and the next page."""
        return {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in asdict(self).items()
            if value is not None
        }

    @property
    def active(self) -> bool:
        return bool(self.as_args())


def _date(_db: Session, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def _mission(db: Session, raw: str) -> str:
    code = raw.upper()
    if db.get(Mission, code) is None:
        raise ValueError(_("Unknown mission."))
    return code


def _state(db: Session, raw: str) -> str:
    code = raw.upper()
    if len(code) != 3 or db.get(Country, code) is None:
        raise ValueError(_("Unknown country code."))
    return code


def _vocabulary(vocabulary: Any) -> Any:
    def parse(_db: Session, raw: str) -> str:
        if raw not in vocabulary:
            raise ValueError(_("Unknown value."))
        return raw

    return parse


def _text(_db: Session, raw: str) -> str:
    if "\x00" in raw:  # PostgreSQL cannot hold it in a query parameter
        raise ValueError(_("This text holds characters that are not allowed."))
    if len(raw) > Q_MAX_LENGTH:
        raise ValueError(_("Use at most %(count)d characters.", count=Q_MAX_LENGTH))
    return raw


_PARSERS = {
    "mission": _mission,
    "state": _state,
    "date_from": _date,
    "date_to": _date,
    "means_of_attack": _vocabulary(MEANS_OF_ATTACK),
    "outcome": _vocabulary(OUTCOME),
    "stage": _vocabulary(JUDICIAL_STAGE),
    "status": _vocabulary(VERIFICATION_STATUS),
    "q": _text,
}


def scoped_incidents(user: User, filters: IncidentFilters) -> sa.Select[Incident]:
    """The incidents the user may see that match the filter, in no particular order."""
    return sa.select(Incident).where(visible_incidents(user), *filters.conditions())


# Paging: keyset on the sort column and the id, so a page costs the same at any depth.

# sort name -> (attribute of Incident, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "-date": ("occurred_on", True),
    "date": ("occurred_on", False),
    "-reference": ("reference", True),
    "reference": ("reference", False),
}
DEFAULT_SORT = "-date"


@dataclass(frozen=True)
class Page:
    items: list[Incident]
    next_cursor: str | None


class CursorError(ValueError):
    pass


def encode_cursor(sort: str, incident: Incident) -> str:
    value = getattr(incident, SORTS[sort][0])
    payload = [value.isoformat() if isinstance(value, date) else value, incident.id]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _decode_cursor(sort: str, cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, last_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(last_id, int):
            raise TypeError
        if SORTS[sort][0] == "occurred_on":
            value = date.fromisoformat(value)
        elif not isinstance(value, str):
            raise TypeError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise CursorError(_("This page link is not valid; start from the first page.")) from None
    return value, last_id


def page_of(
    db: Session,
    query: sa.Select[Incident],
    *,
    sort: str = DEFAULT_SORT,
    cursor: str | None = None,
    per_page: int = DEFAULT_PER_PAGE,
) -> Page:
    """One page of the query's incidents after ``cursor``, and the cursor of the next."""
    attribute, descending = SORTS[sort]
    column = getattr(Incident, attribute)
    if cursor:
        value, last_id = _decode_cursor(sort, cursor)
        after = sa.tuple_(column, Incident.id)
        query = query.where(after < (value, last_id) if descending else after > (value, last_id))
    order = (column.desc(), Incident.id.desc()) if descending else (column.asc(), Incident.id.asc())
    rows = list(db.scalars(query.order_by(*order).limit(per_page + 1)))
    more = len(rows) > per_page
    items = rows[:per_page]
    return Page(items, encode_cursor(sort, items[-1]) if more and items else None)
