"""A draft's key, claimed by the incident form as the API's create claims it: whichever
way the draft reaches capdb first, sending it again the other way records nothing more."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import User
from incidents.models import Incident
from tests.api.conftest import API, incident_body
from tests.factories import LoginAs
from tests.test_i18n import csrf_token
from tests.test_recording import post, valid_incident

KEY = "5f0b2a8e-4c1d-4e0f-9a7b-3c2d1e0f9a8b"


@pytest.fixture
def officer(login_as: LoginAs) -> User:
    return login_as("mission", missions=("MINUSMA",))


def incidents_count(db: Session) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Incident)) or 0


def through_api(client: FlaskClient, key: str, **overrides: Any) -> Any:
    token = csrf_token(client.get("/incidents/new").text)
    return client.post(
        f"{API}/incidents",
        json=incident_body(**overrides),
        headers={"X-CSRFToken": token, "Idempotency-Key": key},
    )


def recorded_id(location: str) -> int:
    return int(location.rstrip("/").rsplit("/", 1)[-1])


def test_the_form_first_then_the_api_records_once(
    client: FlaskClient,
    officer: User,
    db: Session,
) -> None:
    before = incidents_count(db)
    saved = post(client, "/incidents/new", valid_incident(draft_key=KEY))
    assert saved.status_code == 302
    again = through_api(client, KEY)
    assert again.status_code == 201, again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json is not None
    assert incidents_count(db) == before + 1
    record = db.scalar(sa.select(Incident).order_by(Incident.id.desc()).limit(1))
    assert record is not None
    assert again.json["id"] == record.id
    assert again.json["reference"] == record.reference
    assert len(again.json["victims"]) == 2


def test_the_api_first_then_the_form_leads_to_the_same_incident(
    client: FlaskClient,
    officer: User,
    db: Session,
) -> None:
    created = through_api(client, KEY)
    assert created.status_code == 201
    assert created.json is not None
    before = incidents_count(db)
    again = post(client, "/incidents/new", valid_incident(draft_key=KEY))
    assert again.status_code == 303
    assert recorded_id(again.headers["Location"]) == created.json["id"]
    assert incidents_count(db) == before
    page = client.get(again.headers["Location"]).text
    assert "This draft was recorded already; here it is." in page


def test_the_form_sent_twice_records_once(
    client: FlaskClient,
    officer: User,
    db: Session,
) -> None:
    before = incidents_count(db)
    first = post(client, "/incidents/new", valid_incident(draft_key=KEY))
    second = post(client, "/incidents/new", valid_incident(draft_key=KEY))
    assert (first.status_code, second.status_code) == (302, 303)
    assert incidents_count(db) == before + 1


def test_a_refused_form_leaves_the_key_free(
    client: FlaskClient,
    officer: User,
    db: Session,
) -> None:
    refused = post(client, "/incidents/new", valid_incident(draft_key=KEY, place=""))
    assert refused.status_code == 422
    created = through_api(client, KEY)
    assert created.status_code == 201
    assert "Idempotent-Replayed" not in created.headers


@pytest.mark.parametrize("key", ["", "has spaces", "x" * 101, "é"])
def test_without_a_usable_key_the_form_records_as_before(
    client: FlaskClient,
    officer: User,
    db: Session,
    key: str,
) -> None:
    before = incidents_count(db)
    for _ in range(2):
        assert post(client, "/incidents/new", valid_incident(draft_key=key)).status_code == 302
    assert incidents_count(db) == before + 2


def test_keys_belong_to_their_user(
    client: FlaskClient,
    officer: User,
    db: Session,
    login_as: LoginAs,
) -> None:
    assert post(client, "/incidents/new", valid_incident(draft_key=KEY)).status_code == 302
    login_as("mission", missions=("MINUSMA",))
    before = incidents_count(db)
    assert post(client, "/incidents/new", valid_incident(draft_key=KEY)).status_code == 302
    assert incidents_count(db) == before + 1
