"""PUT sends a draft whole, with its victims, on the version it was made on: the incident
form's edit as the offline outbox sends it. Victims with an id are changed, those without
added, the others removed; a stale version changes nothing and answers the record now."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from incidents.models import Incident, Victim
from tests.api.conftest import ApiAs, ApiClient, World, errors_of, incident_body, json_of

KEY = {"Idempotency-Key": "0b7e9d7c-edit-1"}


@pytest.fixture
def draft(api_as: ApiAs) -> tuple[ApiClient, dict[str, Any]]:
    officer = api_as("mission")
    second = {
        "category": "national_civilian",
        "nationality": "MLI",
        "sex": "female",
        "outcome": "injured",
    }
    body = incident_body()
    body["victims"].append(second)
    return officer, json_of(officer.post("/incidents", json=body))


def whole(incident: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The incident as the form would send it back: its fields, version and victims."""
    body = incident_body(version=incident["version"])
    body["victims"] = [
        {key: value for key, value in victim.items() if key not in {"identifier"}}
        for victim in incident["victims"]
    ]
    body.update(changes)
    return body


def test_a_whole_edit_changes_adds_and_removes_victims(
    draft: tuple[ApiClient, dict[str, Any]], db: Session
) -> None:
    officer, incident = draft
    body = whole(incident, place="Gao airport")
    kept = body["victims"][0] | {"unit": "Chad battalion"}
    added = {"category": "un_volunteer", "nationality": "SEN", "outcome": "abducted"}
    body["victims"] = [kept, added]
    response = officer.request("PUT", f"/incidents/{incident['id']}", json=body)
    assert response.status_code == 200, response.json
    saved = json_of(response)
    assert saved["place"] == "Gao airport"
    assert saved["version"] == incident["version"] + 1
    record = db.get_one(Incident, incident["id"])
    live = {v.id: v for v in record.victims if v.deleted_at is None}
    assert len(live) == 2
    assert live[kept["id"]].unit == "Chad battalion"
    removed = db.get_one(Victim, incident["victims"][1]["id"])
    assert removed.deleted_at is not None
    assert {v.category for v in live.values()} == {"contingent_military", "un_volunteer"}


def test_a_stale_whole_edit_changes_nothing(
    draft: tuple[ApiClient, dict[str, Any]], db: Session
) -> None:
    officer, incident = draft
    path = f"/incidents/{incident['id']}"
    moved = officer.patch(path, json={"place": "Bamako", "version": incident["version"]})
    assert moved.status_code == 200
    response = officer.request("PUT", path, json=whole(incident, place="Kidal"))
    assert response.status_code == 409
    assert json_of(response)["current"]["place"] == "Bamako"
    db.expire_all()
    assert db.get_one(Incident, incident["id"]).place == "Bamako"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": None}, "version"),
        ({"place": ""}, "place"),
        ({"latitude": 123}, "latitude"),
        ({"victims": [{"category": "nobody", "nationality": "TCD", "outcome": "killed"}]},
         "victims.0.category"),
        ({"victims": [{"id": 1, "category": "national_civilian", "nationality": "MLI",
                       "outcome": "injured"}]}, "victims.0.version"),
    ],
)  # fmt: skip
def test_each_invalid_field_is_named(
    draft: tuple[ApiClient, dict[str, Any]], change: dict[str, Any], field: str
) -> None:
    officer, incident = draft
    response = officer.request(
        "PUT", f"/incidents/{incident['id']}", json=whole(incident, **change)
    )
    assert response.status_code == 422
    assert field in errors_of(response), response.json


def test_the_same_victim_twice_is_refused(draft: tuple[ApiClient, dict[str, Any]]) -> None:
    officer, incident = draft
    body = whole(incident)
    body["victims"] = [body["victims"][0], body["victims"][0]]
    response = officer.request("PUT", f"/incidents/{incident['id']}", json=body)
    assert response.status_code == 422
    assert "victims" in errors_of(response)


def test_a_whole_edit_sent_twice_is_made_once(draft: tuple[ApiClient, dict[str, Any]]) -> None:
    officer, incident = draft
    path, body = f"/incidents/{incident['id']}", whole(incident, place="Ansongo")
    first = officer.request("PUT", path, json=body, headers=KEY)
    again = officer.request("PUT", path, json=body, headers=KEY)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"


def test_only_who_may_edit_replaces(api_as: ApiAs, world: World, db: Session) -> None:
    congo = json_of(api_as("admin").get(f"/incidents/{world.congo.id}"))
    body = whole(congo, mission="MONUSCO", country="COD")
    path = f"/incidents/{world.congo.id}"
    assert (
        api_as("mission", missions=("MINUSMA",)).request("PUT", path, json=body).status_code == 404
    )
    assert api_as("analyst").request("PUT", path, json=body).status_code == 404
    mali = json_of(api_as("admin").get(f"/incidents/{world.mali.id}"))
    validated = api_as("mission", missions=("MINUSMA",)).request(
        "PUT", f"/incidents/{world.mali.id}", json=whole(mali)
    )
    assert validated.status_code == 403
    count = db.scalar(
        sa.select(sa.func.count()).select_from(Victim).where(Victim.deleted_at.isnot(None))
    )
    assert count == 0
