"""The incident filter that lists, maps, charts, exports and the API share, and what a path
takes beside it (an order, pages: :mod:`incidents.paging`).

A filter is parsed from query arguments, field by field, into either values or reasons
why a value is refused. Applied to a query, it narrows what the access rule already
allows: callers always start from :func:`scoped_incidents`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Response, current_app, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from auth.models import User
from capdb.reference import PLACES, STATES, Country, Mission, countries_of
from capdb.vocabularies import (
    JUDICIAL_STAGE,
    MEANS_OF_ATTACK,
    OUTCOME,
    VERIFICATION_STATUS,
    Vocabulary,
)
from incidents import search
from incidents.models import Incident, IncidentState, JudicialCase, Victim, case_incidents
from incidents.paging import DEFAULT_PER_PAGE as DEFAULT_PER_PAGE
from incidents.paging import DEFAULT_SORT as DEFAULT_SORT
from incidents.paging import SORTS as SORTS
from incidents.paging import CursorError as CursorError
from incidents.paging import Page as Page
from incidents.paging import by_ranges, decode_cursor
from incidents.paging import order_key as order_key
from incidents.paging import page_of as page_of
from incidents.policy import concerns, visible_incidents
from incidents.visibility import incident_listing

MAX_PER_PAGE = 200
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
        """The filters given in ``args``, and a reason for each value refused.

        ``args`` may be a multi-dict (a request's query): a filter given twice is refused,
        rather than one of its values silently chosen.
        """
        values, errors = read_fields(db, args, FILTER_FIELDS)
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
        # The text (``q``) is searched with the viewer's scope: scoped_incidents.
        return conditions

    def as_args(self) -> dict[str, str]:
        """The filter as query arguments, for links, exports and the next page."""
        return {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in asdict(self).items()
            if value is not None
        }

    def link_args(self) -> dict[str, str]:
        """The filter as query arguments of a link to another page: an empty filter is
        ``q=`` there, so that the page does not take its preset instead."""
        return self.as_args() or {"q": ""}

    @property
    def active(self) -> bool:
        return bool(self.as_args())


def _date(_db: Session, raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD.")) from None


def parse_mission(db: Session, raw: str) -> str:
    code = raw.upper()
    if db.get(Mission, code) is None:
        raise ValueError(_("Unknown mission."))
    return code


def parse_state(db: Session, raw: str) -> str:
    """A State, today's or a former one: stateless and undetermined are nationalities that
    no incident concerns (capdb.reference.PLACES)."""
    code = raw.upper()
    country = db.get(Country, code) if len(code) == 3 else None
    if country is None or country.kind not in PLACES:
        raise ValueError(_("Unknown country code."))
    return code


def parse_acting_state(db: Session, raw: str) -> str:
    """A State that acts today (receives assistance, prosecutes): capdb.reference.STATES."""
    code = parse_state(db, raw)
    country = db.get(Country, code)
    if country is None or country.kind not in STATES:
        raise ValueError(_("Unknown country code."))
    return code


def parse_vocabulary(vocabulary: Any) -> Any:
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


def mission_codes(db: Session) -> list[str]:
    return list(db.scalars(sa.select(Mission.code).order_by(Mission.code)))


def country_codes(db: Session) -> list[str]:
    return list(db.scalars(sa.select(Country.code).order_by(Country.code)))


def state_codes(db: Session) -> list[str]:
    return [c.code for c in countries_of(db, STATES)]


def place_codes(db: Session) -> list[str]:
    return [c.code for c in countries_of(db, PLACES)]


def vocabulary_codes(vocabulary: Vocabulary) -> Callable[[Session], list[str]]:
    return lambda _db: list(vocabulary.codes)


@dataclass(frozen=True)
class FilterField:
    """One query argument of the filter: how it is read, and how the API documents it.

    ``values`` gives the allowed values (read from the reference data for missions and
    countries), which the OpenAPI document lists so that generated clients check them.
    """

    name: str
    parse: Callable[[Session, str], Any]
    description: str
    values: Callable[[Session], list[str]] | None = None
    format: str | None = None
    max_length: int | None = None


FILTER_FIELDS: tuple[FilterField, ...] = (
    FilterField("mission", parse_mission, "A mission's acronym.", mission_codes),
    FilterField("state", parse_state, "ISO alpha-3 of a State the incidents concern.", place_codes),
    FilterField("date_from", _date, "Incidents on or after this date.", format="date"),
    FilterField("date_to", _date, "Incidents on or before this date.", format="date"),
    FilterField(
        "means_of_attack",
        parse_vocabulary(MEANS_OF_ATTACK),
        "How.",
        vocabulary_codes(MEANS_OF_ATTACK),
    ),
    FilterField(
        "outcome", parse_vocabulary(OUTCOME), "A victim's outcome.", vocabulary_codes(OUTCOME)
    ),
    FilterField(
        "stage",
        parse_vocabulary(JUDICIAL_STAGE),
        "A case's current stage.",
        vocabulary_codes(JUDICIAL_STAGE),
    ),
    FilterField(
        "status",
        parse_vocabulary(VERIFICATION_STATUS),
        "The verification status.",
        vocabulary_codes(VERIFICATION_STATUS),
    ),
    FilterField("q", _text, "Text to look for.", max_length=Q_MAX_LENGTH),
)


def read_fields(
    db: Session, args: Mapping[str, str], fields: tuple[FilterField, ...]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values of ``fields`` given in ``args`` (each read by its field), and a reason for
    each value refused: the one reading of a filter, whichever list it narrows."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        try:
            raw = _one_value(args, field.name)
            if raw:
                values[field.name] = field.parse(db, raw)
        except ValueError as error:
            errors[field.name] = str(error)
    return values, errors


def _one_value(args: Mapping[str, str], name: str) -> str:
    """The argument's value, stripped; refused if given more than once or holding a NUL
    character (which PostgreSQL cannot take as a query parameter)."""
    getlist = getattr(args, "getlist", None)
    if getlist is not None and len(getlist(name)) > 1:
        raise ValueError(_("Give this value only once."))
    raw = (args.get(name) or "").strip()
    if "\x00" in raw:
        raise ValueError(_("This text holds characters that are not allowed."))
    return raw


def scoped_incidents(user: User, filters: IncidentFilters) -> sa.Select[Incident]:
    """The incidents the user may see that match the filter, in no particular order.

    The text is searched within what the user may see (see :mod:`incidents.search`).
    """
    searched = [search.matches(user, filters.q)] if filters.q else []
    return sa.select(Incident).where(visible_incidents(user), *filters.conditions(), *searched)


def listed_incidents(user: User, filters: IncidentFilters) -> sa.Select[Incident]:
    """The same incidents, for pages in date order (:func:`page_of`).

    A Member State's focal point's are joined to its State's rows of ``incident_states``
    (:func:`incidents.visibility.incident_listing`), whose index holds them in date order,
    and the date range applies to those rows too: a page then reads about as many rows as
    it shows. In the incidents' own date order PostgreSQL would walk every newer incident
    of other States first, ten times as many with ten times the data. An officer's of
    several missions are read one mission at a time, for the same reason
    (:func:`incidents.paging.first_of_each`).

    The text is searched within what the user may see, as in :func:`scoped_incidents`.
    """
    listing = incident_listing(user)
    searched = [search.matches(user, filters.q)] if filters.q else []
    statement = sa.select(Incident).where(listing.condition, *filters.conditions(), *searched)
    if len(listing.missions) > 1 and not filters.mission:
        return by_ranges(statement, Incident.mission_code, listing.missions)
    if listing.state is None:
        return statement
    rows = IncidentState
    statement = statement.join(
        rows, sa.and_(rows.incident_id == Incident.id, rows.state == listing.state)
    )
    if filters.date_from:
        statement = statement.where(rows.occurred_on >= filters.date_from)
    if filters.date_to:
        statement = statement.where(rows.occurred_on <= filters.date_to)
    return statement


# Requests: the filter and what a path takes beside it ---------------------------------------

MAX_CURSOR = 500


@dataclass(frozen=True)
class Paging:
    """What a path takes beside the filter: an order (``sort``), and pages (``cursor``
    and ``per_page``, at most ``max_per_page``)."""

    sort: bool = False
    pages: bool = False
    default_per_page: int = DEFAULT_PER_PAGE
    max_per_page: int = MAX_PER_PAGE


FILTER_ONLY = Paging()
SORTED = Paging(sort=True)
PAGED = Paging(sort=True, pages=True)


@dataclass(frozen=True)
class FilterRequest:
    filters: IncidentFilters
    sort: str = DEFAULT_SORT
    cursor: str | None = None
    per_page: int = DEFAULT_PER_PAGE
    # A paged list counts exactly beyond 10,000 only when asked (``count=exact``).
    exact_total: bool = False


def parse_request(
    db: Session, args: Mapping[str, str], paging: Paging = FILTER_ONLY
) -> tuple[FilterRequest, dict[str, str]]:
    """The filter, order and page asked for in ``args``, and a reason for each value
    refused: the one reading of a filter that pages, downloads, the API, the map and the
    statistics share (the API's query schemas call it)."""
    filters, errors = IncidentFilters.parse(db, args)
    sort, cursor, per_page = DEFAULT_SORT, None, paging.default_per_page
    exact_total = False
    if paging.sort:
        try:
            sort = _sort(_one_value(args, "sort"), filters.q)
        except ValueError as error:
            errors["sort"] = str(error)
    if paging.pages:
        try:
            per_page = _per_page(_one_value(args, "per_page"), paging)
        except ValueError as error:
            errors["per_page"] = str(error)
        try:
            cursor = _cursor(_one_value(args, "cursor"), sort, filters.q)
        except ValueError as error:
            errors["cursor"] = str(error)
        try:
            exact_total = _exact(_one_value(args, "count"))
        except ValueError as error:
            errors["count"] = str(error)
    return FilterRequest(filters, sort, cursor, per_page, exact_total), errors


def _exact(raw: str) -> bool:
    if raw not in ("", "exact"):
        raise ValueError(_("Leave this out, or ask for the exact count with exact."))
    return raw == "exact"


def _sort(raw: str, q: str | None = None) -> str:
    if not raw:
        return "relevance" if q else DEFAULT_SORT
    if raw not in SORTS:
        raise ValueError(_("Unknown sort order."))
    return raw


def _per_page(raw: str, paging: Paging) -> int:
    if not raw:
        return paging.default_per_page
    refusal = _("Choose a number between {min} and {max}.").format(min=1, max=paging.max_per_page)
    try:
        number = int(raw)
    except ValueError:
        raise ValueError(refusal) from None
    if not 1 <= number <= paging.max_per_page:
        raise ValueError(refusal)
    return number


def _cursor(raw: str, sort: str, q: str | None = None) -> str | None:
    if not raw:
        return None
    if len(raw) > MAX_CURSOR:
        raise CursorError(_("This page link is not valid; start from the first page."))
    decode_cursor(sort, raw, q)
    return raw


# The paths that read the filter: each view that does is marked, with what it takes beside.

FILTER_MARK = "incident_filter"
V = TypeVar("V", bound=Callable[..., Any])


def takes_filter(paging: Paging = FILTER_ONLY) -> Callable[[V], V]:
    """Mark a page or download as reading the incident filter (see :func:`from_request`);
    the route sweep of the tests finds every marked view in the URL map."""

    def mark(view: V) -> V:
        setattr(view, FILTER_MARK, paging)
        return view

    return mark


def from_request(
    db: Session, *, preset: Mapping[str, str] | None = None
) -> tuple[FilterRequest, dict[str, str]]:
    """The filter of the current request, read as its view's mark says; a view that is not
    marked cannot read one (a programming error, found by any test of the view).

    A page opened with no query at all (from the menu) starts from the ``preset`` filter
    (:func:`incidents.filter_choices.preset_filter`); any query, even one clearing every
    field (``?q=``), replaces it.
    """
    view = current_app.view_functions.get(request.endpoint or "")
    paging = getattr(view, FILTER_MARK, None)
    if not isinstance(paging, Paging):
        raise LookupError(f"{request.endpoint} reads the incident filter unmarked")
    return parse_request(db, shown_args(preset), paging)


def shown_args(preset: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """The query the page's filter form shows: the request's, or the preset without one."""
    if preset and not request.args:
        return MultiDict(preset)
    return request.args


def invalid_filter(errors: Mapping[str, str]) -> Response:
    """A download asked with an invalid filter: each field and its reason, as plain text."""
    lines = [_("The filter is not valid:")]
    lines += [f"{field}: {message}" for field, message in errors.items()]
    return Response("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")
