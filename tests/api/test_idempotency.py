"""A POST sent again with the same Idempotency-Key is answered as the first time and
creates nothing more; the same key with another request is refused."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from incidents.models import IdempotencyKey, Incident
from tests.api.conftest import ApiAs, incident_body
from tests.factories import MovableClock

KEY = {"Idempotency-Key": "a6f1c2e0-retry-1"}


def incidents_count(db: Session) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Incident)) or 0


def test_a_replayed_post_creates_nothing_more(api_as: ApiAs, db: Session) -> None:
    officer = api_as("mission")
    first = officer.post("/incidents", json=incident_body(), headers=KEY)
    assert first.status_code == 201
    before = incidents_count(db)
    again = officer.post("/incidents", json=incident_body(), headers=KEY)
    assert again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert incidents_count(db) == before


def test_the_same_key_with_another_body_is_refused(api_as: ApiAs, db: Session) -> None:
    officer = api_as("mission")
    assert officer.post("/incidents", json=incident_body(), headers=KEY).status_code == 201
    before = incidents_count(db)
    other = officer.post("/incidents", json=incident_body(place="Kidal"), headers=KEY)
    assert other.status_code == 422
    assert other.json is not None
    assert "Idempotency-Key" in other.json["errors"]
    assert incidents_count(db) == before


def test_keys_belong_to_their_user(api_as: ApiAs, db: Session) -> None:
    before = incidents_count(db)
    for _ in range(2):
        response = api_as("mission").post("/incidents", json=incident_body(), headers=KEY)
        assert response.status_code == 201
    assert incidents_count(db) == before + 2


def test_a_refused_request_leaves_its_key_free(api_as: ApiAs) -> None:
    officer = api_as("mission")
    refused = officer.post("/incidents", json=incident_body(place=""), headers=KEY)
    assert refused.status_code == 422
    fixed = officer.post("/incidents", json=incident_body(), headers=KEY)
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers


def test_a_workflow_step_sent_twice_is_taken_once(api_as: ApiAs) -> None:
    officer = api_as("mission")
    created = officer.post("/incidents", json=incident_body()).json
    assert created is not None
    path, body = f"/incidents/{created['id']}/submit", {"version": created["version"]}
    first = officer.post(path, json=body, headers=KEY)
    assert first.status_code == 200
    again = officer.post(path, json=body, headers=KEY)
    assert again.status_code == 200
    assert again.json == first.json
    assert officer.post(path, json=body).status_code == 409


def test_a_malformed_key_is_refused(api_as: ApiAs) -> None:
    officer = api_as("mission")
    for key in ("has spaces", "x" * 101, "é"):
        response = officer.post(
            "/incidents", json=incident_body(), headers={"Idempotency-Key": key}
        )
        assert response.status_code == 400, key
        assert response.json is not None
        assert "Idempotency-Key" in response.json["errors"]


def test_a_key_is_kept_for_a_day_then_purged(
    api_as: ApiAs, db: Session, clock: MovableClock
) -> None:
    officer = api_as("mission")
    assert officer.post("/incidents", json=incident_body(), headers=KEY).status_code == 201
    other_key = {"Idempotency-Key": "another-key"}
    assert officer.post("/incidents", json=incident_body(), headers=other_key).status_code == 201
    clock.offset = timedelta(hours=23)
    assert (
        officer.post("/incidents", json=incident_body(), headers=KEY).headers.get(
            "Idempotent-Replayed"
        )
        == "true"
    )
    assert keys_of(db, officer.user) == {KEY["Idempotency-Key"], "another-key"}
    clock.offset = timedelta(days=1, minutes=1)
    before = incidents_count(db)
    again = officer.post("/incidents", json=incident_body(place="Kidal"), headers=KEY)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert incidents_count(db) == before + 1
    # The day-old keys are gone; the reused one is kept anew.
    assert keys_of(db, officer.user) == {KEY["Idempotency-Key"]}


def keys_of(db: Session, user: User) -> set[str]:
    query = sa.select(IdempotencyKey.key).where(IdempotencyKey.user_id == user.id)
    return set(db.scalars(query.execution_options(populate_existing=True)))
