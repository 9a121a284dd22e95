"""Who is asking, and the records they name, loaded through the access rule first.

A view that names a record gets it from one of these decorators, which run before the
request body is read: a record outside the viewer's scope answers 404 whatever was sent,
and one the viewer may see but not change answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.access import allowed_or_403 as allowed_or_403
from auth.access import viewer as viewer
from auth.models import User
from capdb.db import session as session
from incidents.models import CapacityAssistance, Incident, JudicialCase, Victim
from incidents.paging import first_of_each
from incidents.policy import (
    CaseListing,
    assistance_or_404,
    case_or_404,
    defendant_or_404,
    incident_or_404,
    stage_event_or_404,
    victim_or_404,
)

View = Callable[..., Any]
Rule = Callable[[User, Any], bool]


def _loading(
    argument: str, name: str, load: Callable[[Session, User, int], Any], allowed: Rule | None
) -> Callable[[View], View]:
    """The view gets the record ``name`` instead of the id ``argument``; 403 unless
    ``allowed(user, record)``."""

    def decorate(view: View) -> View:
        @wraps(view)
        def loaded(*args: Any, **kwargs: Any) -> Any:
            user = viewer()
            record = load(session(), user, kwargs.pop(argument))
            if allowed is not None:
                allowed_or_403(allowed(user, record))
            return view(*args, **{name: record}, **kwargs)

        return loaded

    return decorate


def _case_record(
    argument: str, name: str, load: Callable[[Session, User, JudicialCase, int], Any], allowed: Rule
) -> Callable[[View], View]:
    """Below :func:`with_case`: the view gets the case's record ``name`` instead of the id
    ``argument``, 404 unless the viewer sees it and it is of that case, then 403 unless
    ``allowed(user, record)``: the verb is asked of the record, never of its case."""

    def decorate(view: View) -> View:
        @wraps(view)
        def loaded(*args: Any, **kwargs: Any) -> Any:
            user = viewer()
            record = load(session(), user, kwargs["case"], kwargs.pop(argument))
            allowed_or_403(allowed(user, record))
            return view(*args, **{name: record}, **kwargs)

        return loaded

    return decorate


def with_defendant(allowed: Rule = lambda _user, _record: True) -> Callable[[View], View]:
    return _case_record("defendant_id", "defendant", defendant_or_404, allowed)


def with_stage_event(allowed: Rule) -> Callable[[View], View]:
    return _case_record("event_id", "event", stage_event_or_404, allowed)


def _victim(db_session: Session, user: User, victim_id: int) -> Victim:
    return victim_or_404(db_session, user, victim_id)


def _incident(db_session: Session, user: User, incident_id: int) -> Incident:
    return incident_or_404(db_session, user, incident_id)


def _case(db_session: Session, user: User, case_id: int) -> JudicialCase:
    return case_or_404(db_session, user, case_id)


def _assistance(db_session: Session, user: User, record_id: int) -> CapacityAssistance:
    return assistance_or_404(db_session, user, record_id)


def with_incident(allowed: Rule | None = None) -> Callable[[View], View]:
    return _loading("incident_id", "incident", _incident, allowed)


def with_victim(allowed: Rule | None = None) -> Callable[[View], View]:
    return _loading("victim_id", "victim", _victim, allowed)


def with_case(allowed: Rule | None = None) -> Callable[[View], View]:
    return _loading("case_id", "case", _case, allowed)


def with_assistance(allowed: Rule | None = None) -> Callable[[View], View]:
    return _loading("record_id", "record", _assistance, allowed)


def newest_first(
    db: Session, statement: sa.Select[Any], id_column: Any, query: dict[str, Any]
) -> tuple[list[Any], int | None]:
    """A page of the statement's records by descending id, after ``query``'s cursor (the
    last id of the previous page), and the cursor of the next page (None on the last)."""
    if "cursor" in query:
        statement = statement.where(id_column < query["cursor"])
    per_page = query["per_page"]
    rows = list(db.scalars(statement.order_by(id_column.desc()).limit(per_page + 1)))
    items = rows[:per_page]
    return items, items[-1].id if len(rows) > per_page else None


def newest_cases(
    db: Session, listing: CaseListing, statement: sa.Select[Any], query: dict[str, Any]
) -> tuple[list[JudicialCase], int | None]:
    """:func:`newest_first` for the cases of ``statement`` (over ``JudicialCase``) in a
    listing (:func:`incidents.policy.case_listing`). A focal point's or an officer's are
    looked for among the first of each of its rows' ranges (the State's, each mission's),
    read in their index's order: in the cases' own order PostgreSQL would walk every newer
    case of other States or missions first, ten times as many with ten times the data."""
    statement = statement.where(listing.condition)
    if listing.rows is not None:
        rows = listing.rows
        # Each row's case is checked by a subquery, which PostgreSQL cannot make a join: as
        # a join it merged the rows with every newer case, expecting the State's or the
        # mission's cases spread evenly over time, which they are not.
        kept = sa.select(sa.true()).where(JudicialCase.id == rows.case_id)
        if statement.whereclause is not None:
            kept = kept.where(statement.whereclause)
        ranged = sa.select(rows.case_id).where(kept.scalar_subquery())
        if "cursor" in query:
            ranged = ranged.where(rows.case_id < query["cursor"])
        ranged = ranged.order_by(rows.case_id.desc()).limit(query["per_page"] + 1)
        firsts = first_of_each(ranged, rows.case_id, getattr(rows, listing.key), listing.values)
        statement = statement.where(JudicialCase.id.in_(firsts))
    return newest_first(db, statement, JudicialCase.id, query)
