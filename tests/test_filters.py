from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from auth.models import User
from incidents.filters import (
    CursorError,
    IncidentFilters,
    listed_incidents,
    page_of,
    scoped_incidents,
)
from incidents.models import Incident, JudicialCase, Victim
from tests.factories import IncidentFactory, UserFactory


def parse(app: Flask, db: Session, **args: str) -> tuple[IncidentFilters, dict[str, str]]:
    with app.test_request_context():
        return IncidentFilters.parse(db, args)


def references(db: Session, user: User, filters: IncidentFilters) -> set[str]:
    query = scoped_incidents(user, filters).with_only_columns(Incident.reference)
    return set(db.scalars(query))


@pytest.fixture
def incidents(db: Session, make_incident: IncidentFactory) -> dict[str, Incident]:
    made = {
        "ied-mali": make_incident(
            reference="A-1", occurred_on=date(2019, 5, 1), narrative="IED on the Gao road"
        ),
        "fire-mali": make_incident(
            reference="A-2",
            occurred_on=date(2021, 7, 9),
            means_of_attack="indirect_fire",
            attack_context="camp_attack",
            status="submitted",
        ),
        "drc": make_incident(
            reference="B-1",
            mission_code="MONUSCO",
            country_code="COD",
            occurred_on=date(2020, 2, 2),
            means_of_attack="small_arms",
            narrative="100% sure_ambush",
        ),
    }
    db.add(
        Victim(
            incident=made["drc"],
            category="contingent_military",
            nationality_code="IND",
            contributing_country_code="IND",
            outcome="killed",
        )
    )
    db.add(
        JudicialCase(
            prosecuting_state_code="MLI",
            jurisdiction="ordinary",
            current_stage="charged",
            incidents=[made["ied-mali"]],
        )
    )
    db.flush()
    return made


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, {"A-1", "A-2", "B-1"}),
        ({"mission": "minusma"}, {"A-1", "A-2"}),
        ({"state": "IND"}, {"B-1"}),
        ({"state": "MLI"}, {"A-1", "A-2"}),
        ({"date_from": "2020-01-01"}, {"A-2", "B-1"}),
        ({"date_from": "2020-01-01", "date_to": "2020-12-31"}, {"B-1"}),
        ({"means_of_attack": "indirect_fire"}, {"A-2"}),
        ({"outcome": "killed"}, {"B-1"}),
        ({"stage": "charged"}, {"A-1"}),
        ({"status": "submitted"}, {"A-2"}),
        # The text is searched word by word (tests/test_search.py): no character of it is
        # a wildcard, and words are whole.
        ({"q": "gao"}, {"A-1"}),
        ({"q": "road GAO"}, {"A-1"}),
        ({"q": "100%"}, {"B-1"}),
        ({"q": "z%"}, set()),
        ({"q": "ambush"}, {"B-1"}),
        ({"q": "e_a"}, set()),
        ({"q": "d_o"}, set()),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else None,
)
def test_each_filter_narrows_the_list(
    app: Flask,
    db: Session,
    make_user: UserFactory,
    incidents: dict[str, Incident],
    args: dict[str, str],
    expected: set[str],
) -> None:
    filters, errors = parse(app, db, **args)
    assert errors == {}
    assert references(db, make_user("admin"), filters) == expected


def test_filters_never_widen_the_access_rule(
    app: Flask, db: Session, make_user: UserFactory, incidents: dict[str, Incident]
) -> None:
    filters, _ = parse(app, db, status="submitted")
    assert references(db, make_user("analyst"), filters) == set()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"mission": "NOSUCH"}, "mission"),
        ({"state": "ZZZ"}, "state"),
        ({"state": "FRANCE"}, "state"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2021-02-30"}, "date_from"),
        ({"date_from": "2021-01-02", "date_to": "2021-01-01"}, "date_to"),
        ({"means_of_attack": "drone"}, "means_of_attack"),
        ({"outcome": "missing"}, "outcome"),
        ({"stage": "done"}, "stage"),
        ({"status": "approved"}, "status"),
        ({"q": "x" * 201}, "q"),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else None,
)
def test_invalid_values_are_explained_field_by_field(
    app: Flask, db: Session, args: dict[str, str], field: str
) -> None:
    _filters, errors = parse(app, db, **args)
    assert list(errors) == [field]
    assert errors[field]


def test_as_args_round_trips(app: Flask, db: Session) -> None:
    filters, _ = parse(app, db, mission="MINUSMA", date_from="2020-01-01", q="road")
    assert filters.as_args() == {"mission": "MINUSMA", "date_from": "2020-01-01", "q": "road"}
    assert parse(app, db, **filters.as_args())[0] == filters


@pytest.mark.parametrize("sort", ["-date", "date", "reference", "-reference"])
def test_paging_walks_every_incident_once_in_order(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory, sort: str
) -> None:
    day = date(2020, 1, 1)
    for number in range(23):  # several share a date: the id breaks the tie
        make_incident(reference=f"P-{number:03d}", occurred_on=day + timedelta(days=number // 3))
    query = scoped_incidents(make_user("admin"), IncidentFilters())
    seen: list[Incident] = []
    cursor = None
    while True:
        page = page_of(db, query, sort=sort, cursor=cursor, per_page=5)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    key = (lambda i: (i.occurred_on, i.id)) if "date" in sort else (lambda i: (i.reference, i.id))
    assert [i.id for i in seen] == [
        i.id for i in sorted(seen, key=key, reverse=sort.startswith("-"))
    ]
    assert len({i.id for i in seen}) == 23


@pytest.mark.parametrize("cursor", ["not-base64!", "W10", "WyJ4IiwgMV0", "eyJhIjogMX0"])
def test_a_tampered_cursor_is_refused(
    app: Flask, db: Session, make_user: UserFactory, cursor: str
) -> None:
    query = scoped_incidents(make_user("admin"), IncidentFilters())
    with app.test_request_context(), pytest.raises(CursorError):
        page_of(db, query, cursor=cursor)


def walk(db: Session, query: Any, sort: str) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = page_of(db, query, sort=sort, cursor=cursor, per_page=4)
        seen.extend(incident.id for incident in page.items)
        cursor = page.next_cursor
        if cursor is None:
            return seen


LIST_FILTERS = pytest.mark.parametrize(
    "args",
    [{}, {"date_from": "2020-01-03", "date_to": "2020-01-07"}, {"mission": "MONUSCO"}],
    ids=str,
)


def listed_and_ruled(
    app: Flask, db: Session, user: User, args: dict[str, str], sort: str
) -> tuple[list[int], list[int]]:
    """The pages of a list (listed_incidents) and of the access rule (scoped_incidents)."""
    filters, errors = parse(app, db, **args)
    assert errors == {}
    listed = walk(db, listed_incidents(user, filters), sort)
    return listed, walk(db, scoped_incidents(user, filters), sort)


@pytest.mark.parametrize("sort", ["-date", "date", "-reference"])
@LIST_FILTERS
def test_a_member_states_list_pages_through_its_incidents_as_the_rule_has_them(
    app: Flask,
    db: Session,
    make_incident: IncidentFactory,
    make_user: UserFactory,
    sort: str,
    args: dict[str, str],
) -> None:
    """The list joined to the State's rows (listed_incidents) holds the incidents the
    access rule gives (scoped_incidents), in the same order, page after page."""
    day = date(2020, 1, 1)
    for number in range(24):
        mission, country = ("MONUSCO", "COD") if number % 3 else ("MINUSMA", "MLI")
        incident = make_incident(
            reference=f"L-{number:03d}",
            mission_code=mission,
            country_code=country,
            occurred_on=day + timedelta(days=number // 2),
            status="draft" if number % 7 == 0 else "validated",
        )
        if number % 2:
            db.add(Victim(incident=incident, category="contingent_military",
                          nationality_code="TCD", contributing_country_code="TCD",
                          outcome="injured"))  # fmt: skip
    db.flush()
    listed, expected = listed_and_ruled(app, db, make_user("member_state", state="TCD"), args, sort)
    assert listed == expected
    assert listed  # the case is not empty


@pytest.mark.parametrize("sort", ["-date", "date", "-reference", "relevance"])
@LIST_FILTERS
def test_an_officer_of_several_missions_pages_through_them_merged(
    app: Flask,
    db: Session,
    make_incident: IncidentFactory,
    make_user: UserFactory,
    sort: str,
    args: dict[str, str],
) -> None:
    """Read one mission's range at a time (listed_incidents), the pages hold what the access
    rule gives (scoped_incidents), in the same order, each incident once."""
    day = date(2020, 1, 1)
    missions = ("MONUSCO", "MINUSMA", "UNMISS")
    for number in range(30):
        make_incident(
            reference=f"M-{number:03d}",
            mission_code=missions[number % 3],
            occurred_on=day + timedelta(days=number // 4),  # ties across missions
        )
    officer = make_user("mission", missions=("MONUSCO", "MINUSMA"))
    listed, expected = listed_and_ruled(app, db, officer, args, sort)
    assert listed == expected
    assert len(set(listed)) == len(listed) >= 10
