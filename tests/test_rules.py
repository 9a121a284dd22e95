"""The rules between an incident's fields, its victims' and the reference data: checked
directly, and refused alike by the form, the API and the spreadsheet import."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth import tokens
from auth.models import User
from capdb.reference import Country, Mission
from incidents.fields import NARRATIVE_MAX, SOURCES_MAX
from incidents.recording import rules
from incidents.transfer import importing
from tests.api.conftest import ApiClient, errors_of, incident_body
from tests.factories import LoginAs
from tests.test_import import ENGLISH_ROW, csv_file
from tests.test_recording import field_error, post, valid_incident

TODAY = date(2024, 5, 1)
MALI = Country(code="MLI", name_en="Mali", name_fr="Mali")
MINUSMA = Mission(
    code="MINUSMA",
    name_en="MINUSMA",
    name_fr="MINUSMA",
    started_on=date(2013, 4, 25),
    ended_on=date(2023, 12, 31),
    hosts=[MALI],
)
HOSTLESS = Mission(
    code="UNTEST", name_en="Test", name_fr="Test", started_on=date(2000, 1, 1), hosts=[]
)


# The rules themselves -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "mission", "problem"),
    [
        (date(2021, 3, 14), MINUSMA, None),
        (date(2013, 4, 25), MINUSMA, None),
        (date(2023, 12, 31), MINUSMA, None),
        (TODAY, None, None),
        (TODAY + timedelta(days=1), None, "The date cannot be in the future."),
        (date(1947, 12, 31), None, "The date is before the first peacekeeping mission."),
        (date(1947, 12, 31), MINUSMA, "The date is before the first peacekeeping mission."),
        (
            date(2013, 4, 24),
            MINUSMA,
            "MINUSMA operated from 2013-04-25 to 2023-12-31; give a date within that period.",
        ),
        (
            date(2024, 1, 1),
            MINUSMA,
            "MINUSMA operated from 2013-04-25 to 2023-12-31; give a date within that period.",
        ),
        (date(2013, 4, 24), None, None),
    ],
)
def test_the_date_is_neither_in_the_future_nor_outside_the_missions_years(
    day: date, mission: Mission | None, problem: str | None
) -> None:
    assert rules.date_problem(day, mission, latest=TODAY) == problem


def test_the_latest_date_is_today_somewhere_on_earth() -> None:
    assert rules.latest_date() - date.today() in {timedelta(0), timedelta(days=1)}


@pytest.mark.parametrize(
    ("occurred_time", "precision", "refused"),
    [
        (None, "day", False),
        (time(14, 30), "exact", False),
        (time(0, 0), "day", True),
        (time(14, 30), "month", True),
        (time(14, 30), None, False),  # the precision is refused on its own; no second reason
    ],
)
def test_a_time_only_with_an_exact_date(
    occurred_time: time | None, precision: str | None, refused: bool
) -> None:
    problem = rules.time_problem(occurred_time, precision)
    assert (problem == "A time is given only with an exact date and time.") is refused
    assert (problem is not None) is refused


@pytest.mark.parametrize(
    ("latitude", "longitude", "problems"),
    [
        (None, None, {}),
        (0.0, 0.0, {}),
        (-90.0, 180.0, {}),
        (90.01, 1.0, {"latitude": ["A latitude is between -90 and 90."]}),
        (1.0, -180.5, {"longitude": ["A longitude is between -180 and 180."]}),
        (None, 1.0, {"latitude": ["Give the latitude with the longitude."]}),
        (0.0, None, {"longitude": ["Give the longitude with the latitude."]}),
    ],
)
def test_coordinates_come_together_and_in_range(
    latitude: float | None, longitude: float | None, problems: rules.Problems
) -> None:
    assert rules.coordinate_problems(latitude, longitude) == problems


def test_a_blank_country_is_the_missions_first_host() -> None:
    assert rules.country_where("NER", MINUSMA) == "NER"
    assert rules.country_where(None, MINUSMA) == "MLI"
    assert rules.country_where("", HOSTLESS) is None
    assert rules.country_where(None, None) is None
    assert rules.incident_problems({}, mission=MINUSMA, latest=TODAY) == {}
    assert rules.incident_problems({}, mission=HOSTLESS, latest=TODAY) == {
        "country": ["Choose the country where it happened."]
    }
    # An unknown mission is the interface's to report; the country is not judged by it.
    assert rules.incident_problems({}, mission=None, latest=TODAY) == {}


def test_incident_problems_are_keyed_by_the_interfaces_field_names() -> None:
    values = {
        "occurred_on": date(2012, 1, 1),
        "occurred_time": time(8, 0),
        "date_precision": "day",
        "country_code": None,
        "latitude": 18.44,
        "longitude": None,
    }
    problems = rules.incident_problems(values, mission=HOSTLESS, latest=TODAY)
    assert set(problems) == {"occurred_time", "country", "longitude"}
    problems = rules.incident_problems(values, mission=MINUSMA, latest=TODAY)
    assert problems["occurred_on"] == [
        "MINUSMA operated from 2013-04-25 to 2023-12-31; give a date within that period."
    ]
    assert set(problems) == {"occurred_on", "occurred_time", "longitude"}


UNIFORMED_PERSON = "Give the country that contributed this uniformed person's contingent or unit."


@pytest.mark.parametrize(
    ("category", "contributing", "problem"),
    [
        ("contingent_military", "TCD", None),
        ("contingent_military", None, UNIFORMED_PERSON),
        ("formed_police_unit", "", UNIFORMED_PERSON),
        ("military_expert", None, UNIFORMED_PERSON),
        ("national_civilian", None, None),
        ("international_civilian", "FRA", "Only uniformed personnel have a contributing country."),
        ("contractor", "FRA", "Only uniformed personnel have a contributing country."),
        (None, "FRA", None),  # the category is missing or unreadable
        ("general", "FRA", None),  # not a category
    ],
)
def test_uniformed_personnel_and_only_they_have_a_contributing_country(
    category: str | None, contributing: str | None, problem: str | None
) -> None:
    assert rules.contributing_country_problem(category, contributing) == problem


@pytest.mark.parametrize(
    ("death", "outcome", "problem"),
    [
        (date(2021, 3, 14), "killed", None),
        (date(2021, 4, 1), "killed", None),
        (
            date(2021, 3, 14),
            "injured",
            "A date of death is given only for a victim who was killed.",
        ),
        (date(2021, 3, 14), None, None),  # the outcome is refused on its own; no second reason
        (date(2021, 3, 13), "killed", "The date of death cannot be before the incident."),
        (TODAY + timedelta(days=1), "killed", "The date cannot be in the future."),
    ],
)
def test_a_date_of_death_only_for_the_killed_between_the_incident_and_today(
    death: date, outcome: str | None, problem: str | None
) -> None:
    found = rules.date_of_death_problem(
        death, outcome, incident_date=date(2021, 3, 14), latest=TODAY
    )
    assert found == problem


def test_victim_problems_are_keyed_by_the_interfaces_field_names() -> None:
    values = {
        "category": "formed_police_unit",
        "contributing_country_code": None,
        "outcome": "abducted",
        "date_of_death": date(2021, 3, 14),
    }
    problems = rules.victim_problems(values, incident_date=None, latest=TODAY)
    assert problems == {
        "contributing_country": [UNIFORMED_PERSON],
        "date_of_death": ["A date of death is given only for a victim who was killed."],
    }
    assert rules.victim_problems({}, incident_date=None) == {}


def test_messages_are_in_the_users_language(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert rules.date_problem(date(2024, 1, 1), MINUSMA, latest=TODAY) == (
            "MINUSMA a opéré du 2013-04-25 au 2023-12-31 ; "
            "indiquez une date comprise dans cette période."
        )


# The same bad input, refused alike by the form, the API and the import --------------------


@dataclass(frozen=True)
class Case:
    """One bad input, as values of the incident and of its first victim, with the field
    refused and why."""

    name: str
    message: str
    incident: dict[str, str] = field(default_factory=dict)
    victim: dict[str, str] = field(default_factory=dict)


CASES = [
    Case(
        "occurred_time",
        "A time is given only with an exact date and time.",
        incident={"occurred_time": "14:30", "date_precision": "day"},
    ),
    Case(
        "occurred_on",
        "MINUSMA operated from 2013-04-25 to 2023-12-31; give a date within that period.",
        incident={"occurred_on": "2012-06-01"},
    ),
    Case(
        "occurred_on",
        "The date cannot be in the future.",
        incident={"occurred_on": (date.today() + timedelta(days=3)).isoformat()},
    ),
    Case(
        "longitude",
        "Give the longitude with the latitude.",
        incident={"longitude": "", "latitude": "18.44"},
    ),
    Case(
        "latitude",
        "A latitude is between -90 and 90.",
        incident={"latitude": "91", "longitude": "1.41"},
    ),
    Case(
        "contributing_country",
        UNIFORMED_PERSON,
        victim={"contributing_country": "", "category": "formed_police_unit"},
    ),
    Case(
        "date_of_death",
        "A date of death is given only for a victim who was killed.",
        victim={"date_of_death": "2021-06-01", "outcome": "injured"},
    ),
]


def _form_error(client: FlaskClient, case: Case) -> str:
    victim = {f"victims-0-{name}": value for name, value in case.victim.items()}
    response = post(client, "/incidents/new", valid_incident(**case.incident, **victim))
    assert response.status_code == 422
    name = f"victims-0-{case.name}" if case.victim else case.name
    return html.unescape(field_error(response.text, name))


def _api_value(name: str, value: str) -> Any:
    if value == "":
        return None
    return float(value) if name in {"latitude", "longitude"} else value


def _api_errors(api: ApiClient, case: Case) -> list[str]:
    body = incident_body(**{k: _api_value(k, v) for k, v in case.incident.items()})
    body["victims"][0].update({k: _api_value(k, v) for k, v in case.victim.items()})
    response = api.post("/incidents", json=body)
    assert response.status_code == 422
    return errors_of(response).get(f"victims.0.{case.name}" if case.victim else case.name, [])


def _import_problems(app: Flask, db: Session, user: User, case: Case) -> list[str]:
    known = importing.known_headers()
    row = {known[importing.header_key(h)].key: v for h, v in ENGLISH_ROW.items()}
    row |= case.incident | {f"victim1_{name}": value for name, value in case.victim.items()}
    column = f"victim1_{case.name}" if case.victim else case.name
    with app.test_request_context():
        result = importing.import_spreadsheet(db, user, csv_file([row]), "case.csv", dry_run=True)
    return [p.reason for p in result.plan.problems if p.column == column]


@pytest.mark.parametrize("case", CASES, ids=[c.message[:32] for c in CASES])
def test_the_form_the_api_and_the_import_refuse_alike(
    app: Flask, client: FlaskClient, db: Session, login_as: LoginAs, case: Case
) -> None:
    officer = login_as("mission", missions=("MINUSMA",))
    _token, secret = tokens.create(db, officer)
    api = ApiClient(client, officer, secret)
    assert _form_error(client, case) == case.message
    assert _api_errors(api, case) == [case.message]
    assert _import_problems(app, db, officer, case) == [case.message]


def test_a_blank_country_is_the_host_for_the_form_the_api_and_the_import(
    app: Flask, client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    officer = login_as("mission", missions=("MINUSMA",))
    assert post(client, "/incidents/new", valid_incident(country="")).status_code == 302
    _token, secret = tokens.create(db, officer)
    body = incident_body()
    del body["country"]
    created = ApiClient(client, officer, secret).post("/incidents", json=body)
    assert created.status_code == 201
    assert created.json is not None
    row = ENGLISH_ROW | {"Country": ""}
    with app.test_request_context():
        result = importing.import_spreadsheet(
            db, officer, csv_file([row]), "host.csv", dry_run=True
        )
    assert result.ok, result.plan.problems
    assert created.json["country"] == result.plan.new[0].fields.country_code == "MLI"


def test_the_import_takes_the_forms_lengths(app: Flask, db: Session, login_as: LoginAs) -> None:
    officer = login_as("mission", missions=("MINUSMA",))
    row = ENGLISH_ROW | {
        "Narrative": "n" * NARRATIVE_MAX,
        "Sources": "s" * (SOURCES_MAX + 1),
    }
    with app.test_request_context():
        result = importing.import_spreadsheet(
            db, officer, csv_file([row]), "long.csv", dry_run=True
        )
    assert [p.column for p in result.plan.problems] == ["Sources"]
