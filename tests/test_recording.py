"""Recording an incident and its victims on one form: validation, permissions, stale edits."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import date, time, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth import sessions
from auth.models import AuditEvent, User, UserSession
from capdb.db import utcnow
from incidents.models import Incident, RecordVersion, Victim
from incidents.recording import service as recording
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory
from tests.test_i18n import csrf_token

# Helpers shared with test_workflow.py and test_duplicates.py


def valid_incident(**overrides: str | None) -> dict[str, str]:
    """What a browser posts for a valid new MINUSMA incident with two victims; an override
    of None leaves the field out."""
    data: dict[str, str | None] = {
        "mission": "MINUSMA",
        "occurred_on": "2021-03-14",
        "occurred_time": "",
        "date_precision": "day",
        "country": "MLI",
        "place": "Aguelhok",
        "latitude": "18.44",
        "longitude": "1.41",
        "geo_precision": "exact",
        "means_of_attack": "ied",
        "attack_context": "convoy",
        "location_type": "road",
        "perpetrator_type": "armed_group",
        "perpetrator_name": "",
        "narrative": "A convoy struck an explosive device north of the camp.",
        "sources": "Mission situation report",
        "victims-0-category": "contingent_military",
        "victims-0-nationality": "TCD",
        "victims-0-contributing_country": "TCD",
        "victims-0-unit": "CHAD battalion",
        "victims-0-sex": "male",
        "victims-0-outcome": "killed",
        "victims-0-date_of_death": "2021-03-14",
        "victims-0-name": "Soldier A",
        "victims-1-category": "national_civilian",
        "victims-1-nationality": "MLI",
        "victims-1-contributing_country": "",
        "victims-1-unit": "",
        "victims-1-sex": "female",
        "victims-1-outcome": "injured",
        "victims-1-date_of_death": "",
        "victims-1-name": "",
        "save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post(client: FlaskClient, path: str, data: dict[str, str]) -> TestResponse:
    """Post as the browser would, with the session's CSRF token."""
    token = csrf_token(client.get("/incidents/").text)
    return client.post(path, data={**data, "csrf_token": token})


class _FormReader(HTMLParser):
    """The values a browser would submit from the page's first form with a ``save`` button
    (or its first POST form), buttons left out."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._form: dict[str, str] | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self._form = {}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in {"submit", "button"}:
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self._form[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self._form.setdefault(self._select, self._first_option)
            if "selected" in a:
                self._form[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._form[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            # The parser gives the text after the newline a browser drops after <textarea>.
            self._form[self._textarea] += data.removeprefix("\n")


def page_form(page: str) -> dict[str, str]:
    """The incident form of a page, as a browser would submit it."""
    reader = _FormReader()
    reader.feed(page)
    forms = [f for f in reader.forms if "place" in f]
    assert forms, "the page has no incident form"
    return forms[0]


def sign_in_another_client(app: Flask, db: Session, user: User) -> FlaskClient:
    """A second browser, signed in as the user (as login_as does for ``client``)."""
    browser = app.test_client()
    token = secrets.token_urlsafe(32)
    db.add(UserSession(token_hash=sessions.token_hash(token), user_id=user.id))
    db.flush()
    with browser.session_transaction() as cookie:
        cookie[sessions.SESSION_KEY] = token
    return browser


def field_error(page: str, field_id: str) -> str:
    """The error shown next to a field, or "" if none."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', page)
    return match.group(1) if match else ""


def count(db: Session, model: type[Any]) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model)) or 0


@pytest.fixture
def officer(login_as: LoginAs) -> User:
    return login_as("mission", missions=("MINUSMA",))


@pytest.fixture
def nothing_saved(db: Session) -> Iterator[None]:
    """Fails the test if it leaves any incident, victim or audit entry behind."""
    before = [count(db, m) for m in (Incident, Victim, AuditEvent)]
    yield
    db.expire_all()
    assert [count(db, m) for m in (Incident, Victim, AuditEvent)] == before


# The form page


def test_the_form_offers_only_the_officers_missions(client: FlaskClient, officer: User) -> None:
    page = client.get("/incidents/new")
    assert page.status_code == 200
    assert '<option selected value="MINUSMA">' in page.text
    assert 'value="MINUSCA"' not in page.text
    # The mission's host country is the default country.
    assert '<option selected value="MLI">' in page.text
    # One victim row to start with, each with a remove box.
    assert 'name="victims-0-category"' in page.text
    assert 'name="victims-0-remove"' in page.text


def test_the_point_picker_is_configured_by_attributes_and_scripts_are_files(
    client: FlaskClient, officer: User
) -> None:
    page = client.get("/incidents/new").text
    assert "data-point-picker" in page
    assert 'data-latitude="latitude"' in page
    assert 'data-longitude="longitude"' in page
    assert "data-tile-url" not in page  # no tile server unless one is configured
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts
    assert all(" src=" in tag for tag in scripts)
    assert "/vendor/leaflet/leaflet.js" in page
    assert "/static/js/point-picker.js" in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    assert "http://" not in page
    assert "https://" not in page


@pytest.mark.parametrize("role", ["analyst", "member_state"])
def test_only_missions_and_admins_record(client: FlaskClient, login_as: LoginAs, role: str) -> None:
    login_as(role)
    assert client.get("/incidents/new").status_code == 403
    assert post(client, "/incidents/new", valid_incident()).status_code == 403


def test_labels_follow_the_language(client: FlaskClient, officer: User) -> None:
    page = client.get("/incidents/new", headers={"Accept-Language": "fr"}).text
    assert "Engin explosif improvisé" in page
    assert "Militaire de contingent" in page


# Creating


def test_an_incident_is_recorded_with_its_two_victims(
    client: FlaskClient, officer: User, db: Session
) -> None:
    response = post(client, "/incidents/new", valid_incident())
    assert response.status_code == 302
    incident = db.scalars(sa.select(Incident)).one()
    assert response.location == f"/incidents/{incident.id}"
    assert re.fullmatch(r"MINUSMA-2021-\d{4}", incident.reference)
    assert incident.reference == "MINUSMA-2021-0001"
    assert (incident.status, incident.version) == ("draft", 1)
    assert incident.created_by_id == officer.id == incident.updated_by_id
    assert (incident.place, incident.latitude, incident.longitude) == ("Aguelhok", 18.44, 1.41)
    assert incident.perpetrator_name is None
    victims = sorted(incident.victims, key=lambda v: v.category)
    assert [(v.category, v.nationality_code, v.contributing_country_code) for v in victims] == [
        ("contingent_military", "TCD", "TCD"),
        ("national_civilian", "MLI", None),
    ]
    assert victims[0].date_of_death == date(2021, 3, 14)
    assert victims[0].name == "Soldier A"
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "create")).one()
    assert (event.user_id, event.target_type, event.target_id) == (
        officer.id,
        "incidents",
        str(incident.id),
    )
    assert event.detail["reference"] == incident.reference
    assert sorted(event.detail["victims"]) == sorted(v.id for v in victims)


def test_references_number_each_mission_and_year_apart(
    db: Session, make_incident: IncidentFactory
) -> None:
    make_incident(reference="MINUSMA-2021-0041")
    make_incident(reference="MINUSMA-2021-0007")
    make_incident(reference="MINUSMA-2020-0099", occurred_on=date(2020, 5, 1))
    make_incident(reference="MINUSMA-2021-IMPORTED")
    make_incident(reference="MINUSCA-2021-0500", mission_code="MINUSCA", country_code="CAF")
    assert recording.next_reference(db, "MINUSMA", 2021) == "MINUSMA-2021-0042"
    assert recording.next_reference(db, "MINUSMA", 2022) == "MINUSMA-2022-0001"
    assert recording.next_reference(db, "MINUSCA", 2021) == "MINUSCA-2021-0501"


def test_a_reference_taken_meanwhile_is_retried_with_the_next_number(
    client: FlaskClient,
    officer: User,
    db: Session,
    make_incident: IncidentFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_incident(reference="MINUSMA-2021-0001", latitude=None, longitude=None)
    computed = iter(["MINUSMA-2021-0001"])  # what a request that lost the race computed
    real = recording.next_reference

    def racing(db: Session, mission_code: str, year: int) -> str:
        return next(computed, None) or real(db, mission_code, year)

    monkeypatch.setattr(recording, "next_reference", racing)
    response = post(client, "/incidents/new", valid_incident(latitude="", longitude=""))
    assert response.status_code == 302
    references = db.scalars(sa.select(Incident.reference).order_by(Incident.reference)).all()
    assert references == ["MINUSMA-2021-0001", "MINUSMA-2021-0002"]
    assert count(db, Victim) == 2


def test_a_reference_that_stays_taken_is_a_conflict_not_a_crash(
    client: FlaskClient, officer: User, db: Session, make_incident: IncidentFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    make_incident(reference="MINUSMA-2021-0001", latitude=None, longitude=None)
    monkeypatch.setattr(recording, "next_reference", lambda *_args: "MINUSMA-2021-0001")
    response = post(client, "/incidents/new", valid_incident(latitude="", longitude=""))
    assert response.status_code == 409
    assert "No free reference was found; please save again." in response.text
    db.expire_all()
    assert (count(db, Incident), count(db, Victim), count(db, AuditEvent)) == (1, 0, 0)


def test_the_country_defaults_to_the_missions_host(
    client: FlaskClient, officer: User, db: Session
) -> None:
    assert post(client, "/incidents/new", valid_incident(country="")).status_code == 302
    assert db.scalars(sa.select(Incident.country_code)).one() == "MLI"


def test_status_version_author_and_reference_cannot_be_posted(
    client: FlaskClient, officer: User, db: Session, make_user: UserFactory
) -> None:
    someone = make_user("admin")
    forged = valid_incident(
        status="validated",
        reference="FORGED-1",
        version="7",
        created_by_id=str(someone.id),
        submitted_by_id=str(someone.id),
        validated_by_id=str(someone.id),
        duplicate_of_id="1",
        mission_code="MINUSCA",
        **{"victims-0-incident_id": "1", "victims-0-victim_id": ""},
    )
    assert post(client, "/incidents/new", forged).status_code == 302
    incident = db.scalars(sa.select(Incident)).one()
    assert (incident.status, incident.version, incident.reference) == (
        "draft",
        1,
        "MINUSMA-2021-0001",
    )
    assert incident.created_by_id == officer.id
    assert incident.mission_code == "MINUSMA"
    assert (incident.submitted_by_id, incident.validated_by_id, incident.duplicate_of_id) == (
        None,
        None,
        None,
    )


def test_an_exact_time_is_kept(client: FlaskClient, officer: User, db: Session) -> None:
    data = valid_incident(date_precision="exact", occurred_time="14:30")
    assert post(client, "/incidents/new", data).status_code == 302
    assert db.scalars(sa.select(Incident.occurred_time)).one() == time(14, 30)


def test_a_comma_is_a_decimal_mark(client: FlaskClient, officer: User, db: Session) -> None:
    data = valid_incident(latitude="18,5", longitude="-1,25")
    assert post(client, "/incidents/new", data).status_code == 302
    incident = db.scalars(sa.select(Incident)).one()
    assert (incident.latitude, incident.longitude) == (18.5, -1.25)


TOMORROW_EVERYWHERE = (date.today() + timedelta(days=2)).isoformat()

INVALID_FIELDS = [
    ("mission", "", "Choose the mission."),
    ("mission", "MINUSCA", "You cannot record incidents for this mission."),
    ("mission", "NOTAMISSION", "You cannot record incidents for this mission."),
    ("occurred_on", "", "Enter the date of the incident."),
    ("occurred_on", "14/03/2021", "Enter a date such as 2021-03-14."),
    ("occurred_on", TOMORROW_EVERYWHERE, "The date cannot be in the future."),
    ("occurred_on", "1900-01-01", "The date is before the first peacekeeping mission."),
    ("occurred_time", "14:30", "A time is given only with an exact date and time."),
    ("occurred_time", "25:61", "Enter a time such as 14:30."),
    ("date_precision", "week", "Choose one of the listed values."),
    ("country", "ZZZ", "Choose a country from the list."),
    ("place", "", "Name the place."),
    ("place", "   ", "Name the place."),
    ("place", "x" * 201, "Field cannot be longer than 200 characters."),
    ("latitude", "91", "A latitude is between -90 and 90."),
    ("latitude", "-90.5", "A latitude is between -90 and 90."),
    ("latitude", "north", "Enter decimal degrees, such as 18.44 or -1.41."),
    ("latitude", "nan", "Enter decimal degrees, such as 18.44 or -1.41."),
    ("latitude", "1e2", "Enter decimal degrees, such as 18.44 or -1.41."),
    ("latitude", "", "Give the latitude with the longitude."),
    ("longitude", "180.01", "A longitude is between -180 and 180."),
    ("longitude", "", "Give the longitude with the latitude."),
    ("geo_precision", "street", "Choose one of the listed values."),
    ("means_of_attack", "", "Choose the means of attack."),
    ("means_of_attack", "laser", "Choose one of the listed values."),
    ("attack_context", "", "Choose the context of the attack."),
    ("location_type", "", "Choose the type of location."),
    ("perpetrator_type", "", "Choose the type of perpetrator."),
    ("perpetrator_type", "aliens", "Choose one of the listed values."),
    ("perpetrator_name", "x" * 201, "Field cannot be longer than 200 characters."),
    ("narrative", "x" * 20_001, "Field cannot be longer than 20000 characters."),
    ("sources", "x" * 5_001, "Field cannot be longer than 5000 characters."),
]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    INVALID_FIELDS,
    ids=[f"{name}={value[:12]!r}" for name, value, _message in INVALID_FIELDS],
)
@pytest.mark.usefixtures("nothing_saved")
def test_each_invalid_field_is_refused_next_to_it_and_nothing_is_saved(
    client: FlaskClient, officer: User, name: str, value: str, message: str
) -> None:
    response = post(client, "/incidents/new", valid_incident(**{name: value}))
    assert response.status_code == 422
    assert field_error(response.text, name) == message
    # Listed in the summary at the top too, linking to the field.
    assert f'<a href="#{name}">' in response.text


VICTIM_RULES = [
    # Uniformed personnel need the country that contributed them; civilians have none.
    ({"category": "formed_police_unit", "contributing_country": ""}, "contributing_country",
     "Give the country that contributed this uniformed person&#39;s contingent or unit."),
    ({"category": "military_expert", "contributing_country": ""}, "contributing_country",
     "Give the country that contributed this uniformed person&#39;s contingent or unit."),
    ({"category": "international_civilian", "contributing_country": "FRA"},
     "contributing_country", "Only uniformed personnel have a contributing country."),
    ({"category": "contractor", "contributing_country": "FRA"}, "contributing_country",
     "Only uniformed personnel have a contributing country."),
    ({"contributing_country": "ZZZ"}, "contributing_country", "Choose a country from the list."),
    # A date of death only for the killed, not before the incident nor in the future.
    ({"outcome": "injured"}, "date_of_death",
     "A date of death is given only for a victim who was killed."),
    ({"date_of_death": "2021-03-13"}, "date_of_death",
     "The date of death cannot be before the incident."),
    ({"date_of_death": TOMORROW_EVERYWHERE}, "date_of_death", "The date cannot be in the future."),
    ({"date_of_death": "March 14"}, "date_of_death", "Enter a date such as 2021-03-14."),
    ({"category": ""}, "category", "Choose the personnel category."),
    ({"category": "general"}, "category", "Choose one of the listed values."),
    ({"nationality": ""}, "nationality", "Choose the victim&#39;s nationality."),
    ({"nationality": "ZZZ"}, "nationality", "Choose a country from the list."),
    ({"outcome": "", "date_of_death": ""}, "outcome", "Choose what happened to the victim."),
    ({"sex": "other"}, "sex", "Choose one of the listed values."),
    ({"unit": "u" * 121}, "unit", "Field cannot be longer than 120 characters."),
    ({"name": "n" * 201}, "name", "Field cannot be longer than 200 characters."),
]  # fmt: skip


@pytest.mark.parametrize(("values", "name", "message"), VICTIM_RULES)
@pytest.mark.usefixtures("nothing_saved")
def test_victim_rules(
    client: FlaskClient, officer: User, values: dict[str, str], name: str, message: str
) -> None:
    data = valid_incident(**{f"victims-0-{key}": value for key, value in values.items()})
    response = post(client, "/incidents/new", data)
    assert response.status_code == 422
    assert field_error(response.text, f"victims-0-{name}") == message
    assert "Victim 1: " in response.text  # the summary names the row


def test_a_victim_killed_on_the_day_or_later_and_civilians_without_contributor_are_accepted(
    client: FlaskClient, officer: User, db: Session
) -> None:
    data = valid_incident(
        **{
            "victims-0-date_of_death": "2021-03-20",
            "victims-1-category": "un_volunteer",
            "victims-1-outcome": "killed",
            "victims-1-date_of_death": "2021-03-14",
        }
    )
    assert post(client, "/incidents/new", data).status_code == 302
    assert count(db, Victim) == 2


def test_blank_and_removed_rows_are_not_saved(
    client: FlaskClient, officer: User, db: Session
) -> None:
    data = valid_incident(
        **{
            # A spare row left empty (its sex keeps the default), and a row marked removed
            # even though it is invalid.
            "victims-2-category": "",
            "victims-2-nationality": "",
            "victims-2-sex": "unknown",
            "victims-2-outcome": "",
            "victims-3-category": "contingent_military",
            "victims-3-contributing_country": "",
            "victims-3-remove": "y",
        }
    )
    assert post(client, "/incidents/new", data).status_code == 302
    assert count(db, Victim) == 2


def test_no_victim_at_all_is_allowed(client: FlaskClient, officer: User, db: Session) -> None:
    data = {k: v for k, v in valid_incident().items() if not k.startswith("victims-")}
    assert post(client, "/incidents/new", data).status_code == 302
    assert count(db, Incident) == 1
    assert count(db, Victim) == 0


@pytest.mark.usefixtures("nothing_saved")
def test_add_a_victim_shows_one_more_row_and_saves_nothing(
    client: FlaskClient, officer: User
) -> None:
    data = valid_incident(place="Tessalit", save=None, add_victim="Add a victim")
    response = post(client, "/incidents/new", data)
    assert response.status_code == 200
    fields = page_form(response.text)
    assert fields["place"] == "Tessalit"
    assert fields["victims-1-nationality"] == "MLI"
    assert "victims-2-category" in fields
    assert fields["victims-2-category"] == ""
    assert "victims-3-category" not in fields
    assert 'class="error"' not in response.text  # not validated yet


def test_add_a_victim_twice_then_save(client: FlaskClient, officer: User, db: Session) -> None:
    page = post(client, "/incidents/new", valid_incident(save=None, add_victim="Add a victim"))
    fields = page_form(page.text)
    fields.update(
        {
            "victims-2-category": "individual_police",
            "victims-2-nationality": "SEN",
            "victims-2-contributing_country": "SEN",
            "victims-2-outcome": "abducted",
        }
    )
    assert post(client, "/incidents/new", {**fields, "save": "Save"}).status_code == 302
    assert sorted(db.scalars(sa.select(Victim.outcome))) == ["abducted", "injured", "killed"]


@pytest.mark.usefixtures("nothing_saved")
def test_a_post_without_csrf_token_is_refused(client: FlaskClient, officer: User) -> None:
    assert client.post("/incidents/new", data=valid_incident()).status_code == 400


def test_an_admin_records_for_any_mission(
    client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    login_as("admin")
    assert 'value="MINUSCA"' in client.get("/incidents/new").text
    data = valid_incident(mission="MINUSCA", country="CAF", latitude="4.36", longitude="18.55")
    assert post(client, "/incidents/new", data).status_code == 302
    assert db.scalars(sa.select(Incident.reference)).one() == "MINUSCA-2021-0001"


# Editing


@pytest.fixture
def draft(make_incident: IncidentFactory, make_victim: VictimFactory, officer: User) -> Incident:
    incident = make_incident(
        status="draft", created_by_id=officer.id, updated_by_id=officer.id, place="Aguelhok"
    )
    make_victim(incident, category="contingent_military", outcome="injured")
    make_victim(incident, category="national_civilian", nationality_code="MLI",
                contributing_country_code=None, outcome="injured")  # fmt: skip
    return incident


def edit_page(client: FlaskClient, incident: Incident) -> dict[str, str]:
    response = client.get(f"/incidents/{incident.id}/edit")
    assert response.status_code == 200
    return page_form(response.text)


def test_the_edit_form_shows_the_incident_and_its_victims(
    client: FlaskClient, draft: Incident
) -> None:
    fields = edit_page(client, draft)
    assert fields["place"] == "Aguelhok"
    assert fields["version"] == "1"
    assert fields["means_of_attack"] == "ied"
    assert fields["latitude"] == "18.44"
    ids = sorted(int(fields[f"victims-{i}-victim_id"]) for i in (0, 1))
    assert ids == sorted(v.id for v in draft.victims)
    assert "victims-2-category" not in fields


def test_an_edit_changes_fields_and_victims_and_keeps_the_previous_version(
    client: FlaskClient, draft: Incident, db: Session, officer: User
) -> None:
    kept, removed = sorted(draft.victims, key=lambda v: v.category)
    fields = edit_page(client, draft)
    row = {v: k.split("-")[1] for k, v in fields.items() if k.endswith("-victim_id")}
    fields.update(
        {
            "place": "Tessalit",
            f"victims-{row[str(kept.id)]}-outcome": "killed",
            f"victims-{row[str(kept.id)]}-date_of_death": "2021-03-15",
            f"victims-{row[str(removed.id)]}-remove": "y",
        }
    )
    response = post(client, f"/incidents/{draft.id}/edit", {**fields, "save": "Save"})
    assert response.status_code == 302
    assert response.location == f"/incidents/{draft.id}"
    db.expire_all()
    assert (draft.place, draft.version, draft.updated_by_id) == ("Tessalit", 2, officer.id)
    assert (kept.outcome, kept.date_of_death) == ("killed", date(2021, 3, 15))
    assert removed.deleted_at is not None  # soft-deleted, restorable
    kept_version = db.scalars(
        sa.select(RecordVersion).where(
            RecordVersion.record_type == "incidents", RecordVersion.record_id == draft.id
        )
    ).one()
    assert kept_version.data["place"] == "Aguelhok"
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "update")).one()
    assert event.detail["fields"] == ["place"]
    assert event.detail["victims"] == {"added": [], "changed": [kept.id], "removed": [removed.id]}


def test_a_victim_change_alone_moves_the_incident_version(
    client: FlaskClient, draft: Incident, db: Session
) -> None:
    fields = edit_page(client, draft)
    fields["victims-0-unit"] = "Medical unit"
    assert (
        post(client, f"/incidents/{draft.id}/edit", {**fields, "save": "Save"}).status_code == 302
    )
    db.expire_all()
    assert draft.version == 2


def test_saving_unchanged_changes_nothing(
    client: FlaskClient, draft: Incident, db: Session
) -> None:
    fields = edit_page(client, draft)
    response = post(client, f"/incidents/{draft.id}/edit", {**fields, "save": "Save"})
    assert response.status_code == 302
    db.expire_all()
    assert draft.version == 1
    assert count(db, AuditEvent) == 0


def test_an_edit_cannot_touch_another_incidents_victim(
    client: FlaskClient, draft: Incident, db: Session, make_victim: VictimFactory
) -> None:
    elsewhere = make_victim(name="Someone else")
    fields = edit_page(client, draft)
    fields["victims-0-victim_id"] = str(elsewhere.id)
    fields["victims-0-name"] = "Overwritten"
    response = post(client, f"/incidents/{draft.id}/edit", {**fields, "save": "Save"})
    assert response.status_code == 422
    assert "This victim is not part of this incident." in response.text
    db.expire_all()
    assert elsewhere.name == "Someone else"
    assert draft.version == 1


def test_an_officer_cannot_edit_another_missions_incident(
    client: FlaskClient, officer: User, make_incident: IncidentFactory
) -> None:
    other = make_incident(status="draft", mission_code="MINUSCA", country_code="CAF",
                          reference="MINUSCA-2021-0001")  # fmt: skip
    assert client.get(f"/incidents/{other.id}/edit").status_code == 404
    assert post(client, f"/incidents/{other.id}/edit", valid_incident()).status_code == 404


def test_an_officer_cannot_move_an_incident_to_another_mission(
    client: FlaskClient, draft: Incident, db: Session
) -> None:
    fields = edit_page(client, draft)
    response = post(
        client, f"/incidents/{draft.id}/edit", {**fields, "mission": "MINUSCA", "save": "Save"}
    )
    assert response.status_code == 422
    assert field_error(response.text, "mission") == "You cannot record incidents for this mission."
    db.expire_all()
    assert draft.mission_code == "MINUSMA"


@pytest.mark.parametrize("status", ["submitted", "validated"])
def test_an_officer_edits_only_drafts(
    client: FlaskClient, draft: Incident, db: Session, status: str
) -> None:
    fields = edit_page(client, draft)
    draft.status = status
    db.flush()
    assert client.get(f"/incidents/{draft.id}/edit").status_code == 403
    response = post(client, f"/incidents/{draft.id}/edit", {**fields, "place": "X", "save": "1"})
    assert response.status_code == 403
    db.expire_all()
    assert draft.place == "Aguelhok"


def test_an_admin_edits_a_validated_incident(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory, db: Session
) -> None:
    login_as("admin")
    incident = make_incident(status="validated", latitude=None, longitude=None)
    fields = edit_page(client, incident)
    fields["place"] = "Kidal"
    assert (
        post(client, f"/incidents/{incident.id}/edit", {**fields, "save": "Save"}).status_code
        == 302
    )
    db.expire_all()
    assert (incident.place, incident.status) == ("Kidal", "validated")


def test_an_edit_without_csrf_token_is_refused(
    client: FlaskClient, draft: Incident, db: Session
) -> None:
    fields = edit_page(client, draft)
    del fields["csrf_token"]
    response = client.post(f"/incidents/{draft.id}/edit", data={**fields, "place": "Kidal"})
    assert response.status_code == 400
    db.expire_all()
    assert (draft.place, draft.version, count(db, AuditEvent)) == ("Aguelhok", 1, 0)


# Stale edits: two people editing the same incident


def test_a_stale_edit_is_refused_with_what_changed_meanwhile(
    app: Flask, client: FlaskClient, draft: Incident, officer: User, db: Session,
    make_user: UserFactory,
) -> None:  # fmt: skip
    colleague = make_user("mission", missions=("MINUSMA",), email="colleague@capdb.test")
    other = sign_in_another_client(app, db, colleague)
    mine, theirs = edit_page(client, draft), edit_page(other, draft)
    assert mine["version"] == theirs["version"] == "1"

    theirs.update({"place": "Tessalit", "means_of_attack": "small_arms", "save": "Save"})
    assert post(other, f"/incidents/{draft.id}/edit", theirs).status_code == 302

    mine.update({"place": "Kidal", "narrative": "My account", "save": "Save"})
    refused = post(client, f"/incidents/{draft.id}/edit", mine)
    assert refused.status_code == 409
    assert "changed by someone else since you opened it. Nothing was saved." in refused.text
    assert "<strong>Place</strong>: Tessalit" in refused.text
    assert "<strong>Means of attack</strong>: Small arms fire" in refused.text
    assert "<strong>Narrative</strong>" not in refused.text  # theirs did not change it
    assert "colleague@capdb.test" in refused.text
    db.expire_all()
    assert (draft.place, draft.means_of_attack, draft.version) == ("Tessalit", "small_arms", 2)
    assert draft.narrative != "My account"

    # The refused form keeps what I typed, now carrying the current version: saving it
    # again is a decision taken knowing the changes.
    again = page_form(refused.text)
    assert (again["place"], again["version"]) == ("Kidal", "2")
    assert post(client, f"/incidents/{draft.id}/edit", {**again, "save": "Save"}).status_code == 302
    db.expire_all()
    assert (draft.place, draft.version) == ("Kidal", 3)


def test_a_stale_edit_is_recognised_when_only_a_victim_changed(
    app: Flask, client: FlaskClient, draft: Incident, db: Session, make_user: UserFactory
) -> None:
    other = sign_in_another_client(app, db, make_user("mission", missions=("MINUSMA",)))
    mine, theirs = edit_page(client, draft), edit_page(other, draft)
    theirs.update({"victims-0-unit": "Engineers", "save": "Save"})
    assert post(other, f"/incidents/{draft.id}/edit", theirs).status_code == 302
    refused = post(client, f"/incidents/{draft.id}/edit", {**mine, "place": "Kidal", "save": "1"})
    assert refused.status_code == 409
    assert "<strong>Victim</strong>" in refused.text
    assert "(changed)" in refused.text
    db.expire_all()
    assert draft.place == "Aguelhok"


def test_a_victims_own_version_is_checked(
    client: FlaskClient, draft: Incident, db: Session
) -> None:
    fields = edit_page(client, draft)
    # Changed elsewhere without going through the form (as an import or the API might).
    draft.victims[0].unit = "Changed elsewhere"
    db.flush()
    response = post(
        client, f"/incidents/{draft.id}/edit", {**fields, "place": "Kidal", "save": "1"}
    )
    assert response.status_code == 409
    db.expire_all()
    assert (draft.place, draft.victims[0].unit) == ("Aguelhok", "Changed elsewhere")


def test_the_optimistic_lock_catches_a_write_between_check_and_save(
    app: Flask, db: Session, draft: Incident, officer: User
) -> None:
    """Two sessions: the second writes after the first read the incident at version 1."""
    first = app.extensions["capdb.db"].sessionmaker()
    second = app.extensions["capdb.db"].sessionmaker()
    mine = first.get_one(Incident, draft.id)
    _ = mine.victims
    theirs = second.get_one(Incident, draft.id)
    theirs.place = "Tessalit"
    second.flush()

    fields = recording.IncidentFields(
        **{name: getattr(mine, name) for name in recording.IncidentFields.__dataclass_fields__}
        | {"place": "Kidal"}
    )
    user = first.get_one(User, officer.id)
    with pytest.raises(recording.StaleEditError) as stale:
        recording.update_incident(first, user, mine, fields, [], loaded_version=1)
    assert [(c.name, c.value) for c in stale.value.fields] == [("place", "Tessalit")]
    assert stale.value.current_version == 2
    assert mine.place == "Tessalit"  # re-read: nothing of the refused edit remains
    second.close()
    first.close()


def test_the_service_itself_refuses_an_edit_loaded_at_an_older_version(
    db: Session, draft: Incident, officer: User
) -> None:
    fields = recording.IncidentFields(
        **{name: getattr(draft, name) for name in recording.IncidentFields.__dataclass_fields__}
        | {"place": "Kidal"}
    )
    draft.place = "Tessalit"
    db.flush()
    with pytest.raises(recording.StaleEditError):
        recording.update_incident(db, officer, draft, fields, [], loaded_version=1)
    assert draft.place == "Tessalit"


def test_the_history_shows_the_author_of_the_change_that_made_an_edit_stale(
    db: Session, draft: Incident, officer: User
) -> None:
    db.info["actor_id"] = officer.id
    draft.place = "Tessalit"
    draft.updated_at = utcnow()
    db.flush()
    stale = recording.stale_edit(db, draft, 1, user=officer)
    assert stale.editors == [officer.email]
    # Editors are named as the policy lets the user know them; without a user, not at all.
    assert recording.stale_edit(db, draft, 1).editors == []
    assert [c.name for c in stale.fields] == ["place"]


def test_text_with_a_nul_character_is_refused_next_to_its_field(
    client: FlaskClient, officer: User, db: Session
) -> None:
    response = post(client, "/incidents/new", valid_incident(narrative="bad\x00text"))
    assert response.status_code == 422
    assert "not allowed" in field_error(response.text, "narrative")
    assert count(db, Incident) == 0
