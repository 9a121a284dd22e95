"""History is recordable: a closed mission takes incidents dated within its period, and a
date outside it is refused with the mission's own dates, on the form and through the API.
The demo's mission officers each have a mission still operating."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import User
from capdb.clock import now
from demo.accounts import DEMO_ACCOUNTS
from demo.seed import seed_demo
from incidents.models import Incident
from tests.factories import LoginAs
from tests.test_recording import post, valid_incident

MINUSMA_PERIOD = "MINUSMA operated from 2013-04-25 to 2023-12-31"


def test_a_closed_missions_incident_is_recorded_within_its_period(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    saved = post(
        client,
        "/incidents/new",
        valid_incident(occurred_on="2023-12-31", **{"victims-0-date_of_death": "2023-12-31"}),
    )
    assert saved.status_code == 302, saved.text
    assert db.scalar(sa.select(Incident).where(Incident.occurred_on == date(2023, 12, 31)))


def test_the_form_gives_the_missions_dates_for_a_date_outside_them(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    today = now().date().isoformat()
    refused = post(client, "/incidents/new", valid_incident(occurred_on=today))
    assert refused.status_code == 422
    assert MINUSMA_PERIOD in refused.text
    # The form names the closed mission with its period before anything is typed.
    page = client.get("/incidents/new").text
    assert "MINUSMA · " in page
    assert "(2013-04-25 – 2023-12-31)" in page


def test_an_open_mission_is_offered_first_and_records_today(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA", "MONUSCO"))
    page = client.get("/incidents/new").text
    chosen = re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', page)
    assert chosen is not None
    assert "MONUSCO" in chosen.groups()
    today = now().date().isoformat()
    saved = post(
        client,
        "/incidents/new",
        valid_incident(mission="MONUSCO", country="COD", occurred_on=today,
                       **{"victims-0-date_of_death": today}),
    )  # fmt: skip
    assert saved.status_code == 302, saved.text


def test_every_demo_mission_officer_has_an_operating_mission(db: Session) -> None:
    seed_demo(db, 50, 2589)
    officers = [a["email"] for a in DEMO_ACCOUNTS if a["role"] == "mission"]
    assert len(officers) >= 3
    for email in officers:
        user = db.scalar(sa.select(User).where(User.email == email))
        assert user is not None
        assert any(not mission.is_closed for mission in user.missions), email
