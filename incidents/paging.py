"""Paging through incidents: keyset on the sort column and the id, so that a page costs the
same at any depth; the sorts a list, an export and the API take, and their cursors.

:func:`page_of` pages through a query of :mod:`incidents.filters` (``listed_incidents``),
in the date order of the rows of ``incident_states`` that a focal point's list is joined
to, or by the relevance of a search (:mod:`incidents.search`). A list of several missions
(an officer's) reads each mission's range of its index and merges them
(:func:`first_of_each`).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.sql import util as sql_util

from capdb.db import MAX_ID
from incidents import search
from incidents.models import Incident, IncidentState

DEFAULT_PER_PAGE = 50
# The execution option by which a query asks to be paged one range each (:func:`by_ranges`).
RANGES = "capdb_ranges"


def _order_columns(query: sa.Select[Incident], sort: str, q: str | None) -> tuple[Any, Any]:
    """What a page is ordered and continued on: the sort's key (:func:`order_key`) and the
    id; in date order, those of the rows of ``incident_states`` a list is joined to, if it
    is."""
    attribute = SORTS[sort][0]
    by_date = attribute == "occurred_on" or (attribute == "relevance" and not q)
    joined = {t for f in query.get_final_froms() for t in sql_util.find_tables(f)}
    if by_date and IncidentState.__table__ in joined:
        return IncidentState.occurred_on, IncidentState.incident_id
    return order_key(sort, q), Incident.id


# sort name -> (attribute of Incident, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "-date": ("occurred_on", True),
    "date": ("occurred_on", False),
    "-reference": ("reference", True),
    "reference": ("reference", False),
    # The best answers to the text first; by date without a text. The default with a text.
    "relevance": ("relevance", True),
}
DEFAULT_SORT = "-date"


def order_key(sort: str, q: str | None = None) -> sa.ColumnElement[Any]:
    """What a sort orders by: an attribute of the incident, or the search's rank."""
    attribute = SORTS[sort][0]
    if attribute == "relevance":
        if q:
            return search.rank(q)
        attribute = "occurred_on"
    column: sa.ColumnElement[Any] = getattr(Incident, attribute)
    return column


@dataclass(frozen=True)
class Page:
    items: list[Incident]
    next_cursor: str | None


class CursorError(ValueError):
    pass


def encode_cursor(value: Any, incident_id: int) -> str:
    """The last row's sort value and id, as the next page's cursor."""
    payload = [value.isoformat() if isinstance(value, date) else value, incident_id]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str, q: str | None = None) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, last_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(last_id, int) or not 0 < last_id <= MAX_ID:
            raise TypeError
        attribute = SORTS[sort][0]
        if attribute == "relevance" and q:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise TypeError
        elif attribute in ("occurred_on", "relevance"):
            value = date.fromisoformat(value)
        elif not isinstance(value, str) or "\x00" in value:
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
    q: str | None = None,
) -> Page:
    """One page of the query's incidents after ``cursor``, and the cursor of the next;
    ``q`` is the filter's text, which the relevance of a search ranks."""
    descending = SORTS[sort][1]
    column, id_column = _order_columns(query, sort, q)
    if cursor:
        value, last_id = decode_cursor(sort, cursor, q)
        after = sa.tuple_(column, id_column)
        query = query.where(after < (value, last_id) if descending else after > (value, last_id))
    order = (column.desc(), id_column.desc()) if descending else (column.asc(), id_column.asc())
    query = query.add_columns(column.label("sort_key")).order_by(*order).limit(per_page + 1)
    ranges = query.get_execution_options().get(RANGES)
    if ranges and column is Incident.occurred_on:
        query = query.where(Incident.id.in_(first_of_each(query, Incident.id, *ranges)))
    rows = db.execute(query).all()
    items = [row[0] for row in rows[:per_page]]
    last = rows[per_page - 1] if len(rows) > per_page else None
    return Page(items, encode_cursor(last.sort_key, last[0].id) if last is not None else None)


def by_ranges(query: sa.Select[Any], column: Any, values: Sequence[str]) -> sa.Select[Any]:
    """The query, asking :func:`page_of` to read it in date order one range of ``column``'s
    index each (``values``, which the query's own condition limits it to)."""
    return query.execution_options(**{RANGES: (column, tuple(values))})


def first_of_each(
    paged: sa.Select[Any], id_column: Any, column: Any, values: Sequence[str]
) -> sa.CompoundSelect[Any]:
    """The ids (``id_column``) of the same page (``paged``: ordered and limited) of the rows
    where ``column`` is each of ``values``, merged: the page's rows are among them.

    An index on ``column`` and the order gives each value's rows in order, but PostgreSQL
    cannot merge the ranges of an ``IN`` list: it walks the order's own index instead, past
    every newer row of other values, ten times as many with ten times the data. Each value's
    page reads about as many rows as it shows; a row found under several values counts once.
    """
    parts = [paged.where(column == value).with_only_columns(id_column) for value in values]
    return sa.union_all(*(sa.select(part.subquery().c[0]) for part in parts))
