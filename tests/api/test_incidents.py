"""Incidents through the API: the scoped, filtered, paged list; one incident; recording and
editing under the form's rules; soft deletion; the workflow; the GeoJSON."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import AuditEvent
from incidents.api.queries import FilterQuery
from incidents.filters import IncidentFilters
from incidents.models import Incident
from tests.api.conftest import ApiAs, ApiClient, World, errors_of, incident_body
from tests.factories import IncidentFactory

INCIDENT_FIELDS = {
    "id", "reference", "mission", "occurred_on", "occurred_time", "date_precision",
    "country", "place", "latitude", "longitude", "geo_precision", "admin1", "admin2",
    "means_of_attack", "attack_context", "location_type", "perpetrator_type",
    "perpetrator_name", "narrative", "sources", "status", "version", "victims",
}  # fmt: skip
VICTIM_FIELDS = {
    "id", "category", "nationality", "contributing_country", "unit", "sex", "outcome",
    "date_of_death", "name",
}  # fmt: skip


def references(api: ApiClient, query: str = "") -> set[str]:
    response = api.get("/incidents" + query)
    assert response.status_code == 200, response.json
    assert response.json is not None
    return {item["reference"] for item in response.json["items"]}


def audited(db: Session, action: str, incident_id: int) -> list[AuditEvent]:
    return list(
        db.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == action,
                AuditEvent.target_type == "incidents",
                AuditEvent.target_id == str(incident_id),
            )
        )
    )


# The list ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "bindings", "expected"),
    [
        ("admin", {}, {"MINUSMA-2021-0001", "MONUSCO-2022-0001"}),
        ("analyst", {}, {"MINUSMA-2021-0001"}),
        ("mission", {"missions": ("MINUSMA",)}, {"MINUSMA-2021-0001"}),
        ("mission", {"missions": ("MONUSCO",)}, {"MONUSCO-2022-0001"}),
        ("member_state", {"state": "TCD"}, {"MINUSMA-2021-0001"}),
        ("member_state", {"state": "SEN"}, set()),
        ("member_state", {"state": "BRA"}, set()),
    ],
)
def test_the_list_holds_what_the_viewer_may_see(
    api_as: ApiAs, world: World, role: str, bindings: dict[str, Any], expected: set[str]
) -> None:
    assert references(api_as(role, **bindings)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?mission=monusco", {"MONUSCO-2022-0001"}),
        ("?state=FRA", {"MINUSMA-2021-0001"}),
        ("?status=draft", {"MONUSCO-2022-0001"}),
        ("?outcome=killed", {"MINUSMA-2021-0001"}),
        ("?q=aguelhok", {"MINUSMA-2021-0001"}),
        ("?means_of_attack=small_arms", set()),
        ("?date_from=2021-03-14&date_to=2021-03-14", {"MINUSMA-2021-0001", "MONUSCO-2022-0001"}),
        ("?date_from=2021-03-15", set()),
    ],
)
def test_the_list_takes_the_shared_filters(
    api_as: ApiAs, world: World, query: str, expected: set[str]
) -> None:
    assert references(api_as("admin"), query) == expected


def test_bad_filters_are_named_one_by_one(api_as: ApiAs) -> None:
    response = api_as("admin").get(
        "/incidents?mission=NOPE&state=XX&date_from=yesterday&status=lost&per_page=500"
    )
    assert response.status_code == 400
    assert response.json is not None
    assert set(response.json["errors"]) == {"mission", "state", "date_from", "status", "per_page"}


def test_pages_follow_each_other_without_gaps(
    api_as: ApiAs, make_incident: IncidentFactory
) -> None:
    made = {
        make_incident(occurred_on=date(2020, 1, 1) + timedelta(days=n)).reference for n in range(5)
    }
    api, seen, cursor, pages = api_as("admin"), [], "", 0
    while True:
        response = api.get(f"/incidents?per_page=2&cursor={cursor}")
        assert response.json is not None
        seen += [item["reference"] for item in response.json["items"]]
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 5
    assert set(seen) == made
    bad = api.get("/incidents?cursor=garbage")
    assert bad.status_code == 400
    assert bad.json is not None
    assert "cursor" in bad.json["errors"]


# One incident ------------------------------------------------------------------------------


def test_an_incident_has_the_documented_fields(api_as: ApiAs, world: World) -> None:
    response = api_as("admin").get(f"/incidents/{world.mali.id}")
    assert response.status_code == 200
    incident = response.json
    assert incident is not None
    assert set(incident) >= INCIDENT_FIELDS
    assert incident["mission"] == "MINUSMA"
    assert incident["country"] == "MLI"
    assert incident["means_of_attack"] == "ied"
    soldier = next(v for v in incident["victims"] if v["id"] == world.soldier.id)
    assert set(soldier) >= VICTIM_FIELDS
    assert soldier["nationality"] == "TCD"
    assert soldier["outcome"] == "killed"


def test_out_of_scope_is_the_same_404_as_nothing(api_as: ApiAs, world: World) -> None:
    api = api_as("analyst")
    hidden = api.get(f"/incidents/{world.congo.id}")
    missing = api.get("/incidents/987654")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json == missing.json


def test_member_states_views_are_audited(api_as: ApiAs, world: World, db: Session) -> None:
    api_as("member_state", state="TCD").get(f"/incidents/{world.mali.id}")
    assert len(audited(db, "view", world.mali.id)) == 1


# Recording -----------------------------------------------------------------------------------


def test_a_mission_officer_records_a_draft(api_as: ApiAs, db: Session) -> None:
    response = api_as("mission").post("/incidents", json=incident_body())
    assert response.status_code == 201
    created = response.json
    assert created is not None
    assert created["status"] == "draft"
    assert created["reference"] == "MINUSMA-2021-0001"
    assert created["victims"][0]["name"] == "Soldier D"
    assert audited(db, "create", created["id"])


def test_the_country_defaults_to_the_missions_host(api_as: ApiAs) -> None:
    body = incident_body()
    del body["country"]
    response = api_as("mission").post("/incidents", json=body)
    assert response.status_code == 201
    assert response.json is not None
    assert response.json["country"] == "MLI"


def test_an_officer_records_only_for_their_missions(api_as: ApiAs) -> None:
    response = api_as("mission", missions=("MONUSCO",)).post("/incidents", json=incident_body())
    assert response.status_code == 422
    assert response.json is not None
    assert list(response.json["errors"]) == ["mission"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "validated"}, "status"),
        ({"reference": "MINUSMA-1999-0001"}, "reference"),
        ({"version": 7}, "version"),
        ({"means_of_attack": "teleportation"}, "means_of_attack"),
        ({"country": "ZZZ"}, "country"),
        ({"place": "   "}, "place"),
        ({"place": "x" * 201}, "place"),
        ({"occurred_on": "2021-02-30"}, "occurred_on"),
        ({"occurred_on": (date.today() + timedelta(days=3)).isoformat()}, "occurred_on"),
        ({"occurred_on": "1900-01-01"}, "occurred_on"),
        ({"occurred_time": "10:30"}, "occurred_time"),
        ({"latitude": 91}, "latitude"),
        ({"longitude": None}, "longitude"),
        ({"latitude": True}, "latitude"),
        ({"victims": "many"}, "victims"),
    ],
)
def test_each_invalid_field_is_named(api_as: ApiAs, changes: dict[str, Any], field: str) -> None:
    response = api_as("mission").post("/incidents", json=incident_body(**changes))
    assert response.status_code == 422
    assert response.json is not None
    assert field in response.json["errors"], response.json
    assert all(reasons and all(reasons) for reasons in response.json["errors"].values())


@pytest.mark.parametrize(
    ("victim", "field"),
    [
        ({"outcome": "injured", "date_of_death": "2021-06-01"}, "date_of_death"),
        ({"outcome": "killed", "date_of_death": "2021-05-01"}, "date_of_death"),
        ({"category": "international_civilian"}, "contributing_country"),
        ({"contributing_country": None}, "contributing_country"),
        ({"nationality": "XYZ"}, "nationality"),
        ({"sex": "robot"}, "sex"),
        ({"identifier": "X-1"}, "identifier"),
    ],
)
def test_victims_are_checked_like_the_form(
    api_as: ApiAs, victim: dict[str, Any], field: str
) -> None:
    body = incident_body()
    body["victims"][0].update(victim)
    response = api_as("mission").post("/incidents", json=body)
    assert response.status_code == 422
    assert response.json is not None
    assert f"victims.0.{field}" in response.json["errors"], response.json


def test_a_body_that_is_not_json_is_refused(api_as: ApiAs) -> None:
    api = api_as("mission")
    broken = api.request(
        "POST", "/incidents", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json is not None
    assert broken.json["errors"]
    listed = api.post("/incidents", json=[1, 2])
    assert listed.status_code == 422


# Editing -------------------------------------------------------------------------------------


@pytest.fixture
def draft(api_as: ApiAs) -> tuple[ApiClient, dict[str, Any]]:
    officer = api_as("mission")
    response = officer.post("/incidents", json=incident_body())
    assert response.json is not None
    return officer, response.json


def test_an_edit_names_the_version_it_was_made_on(
    draft: tuple[ApiClient, dict[str, Any]], db: Session
) -> None:
    officer, incident = draft
    path = f"/incidents/{incident['id']}"
    saved = officer.patch(path, json={"place": "Gao airport", "version": incident["version"]})
    assert saved.status_code == 200
    assert saved.json is not None
    assert saved.json["place"] == "Gao airport"
    assert saved.json["version"] == incident["version"] + 1
    assert saved.json["victims"] == incident["victims"]
    assert audited(db, "update", incident["id"])
    stale = officer.patch(path, json={"place": "Bamako", "version": incident["version"]})
    assert stale.status_code == 409
    assert stale.json is not None
    assert stale.json["current"]["place"] == "Gao airport"
    assert stale.json["current"]["version"] == saved.json["version"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"version": "one"}, "version"),
        ({"occurred_time": "08:00"}, "occurred_time"),
        ({"latitude": None}, "latitude"),
        ({"victims": []}, "victims"),
        ({"status": "validated"}, "status"),
        ({"mission": "MONUSCO"}, "mission"),
    ],
)
def test_an_edit_is_checked_on_the_record_it_would_make(
    draft: tuple[ApiClient, dict[str, Any]], changes: dict[str, Any], field: str
) -> None:
    officer, incident = draft
    body = {"version": incident["version"]} | changes
    response = officer.patch(f"/incidents/{incident['id']}", json=body)
    assert response.status_code == 422
    assert field in errors_of(response), response.json


def test_an_edit_without_its_version_is_refused(
    draft: tuple[ApiClient, dict[str, Any]],
) -> None:
    officer, incident = draft
    response = officer.patch(f"/incidents/{incident['id']}", json={"place": "Somewhere"})
    assert response.status_code == 422
    assert response.json is not None
    assert list(response.json["errors"]) == ["version"]


def test_only_drafts_are_edited_by_missions(api_as: ApiAs, world: World) -> None:
    body = {"place": "Kidal", "version": world.mali.version}
    officer = api_as("mission", missions=("MINUSMA",))
    assert officer.patch(f"/incidents/{world.mali.id}", json=body).status_code == 403
    assert api_as("analyst").patch(f"/incidents/{world.mali.id}", json=body).status_code == 403
    assert api_as("admin").patch(f"/incidents/{world.mali.id}", json=body).status_code == 200


def test_deleting_is_soft_and_audited(
    draft: tuple[ApiClient, dict[str, Any]], api_as: ApiAs, db: Session
) -> None:
    officer, incident = draft
    path = f"/incidents/{incident['id']}"
    assert api_as("mission", missions=("MONUSCO",)).delete(path).status_code == 404
    response = officer.delete(path)
    assert response.status_code == 204
    assert officer.get(path).status_code == 404
    assert db.get_one(Incident, incident["id"]).deleted_at is not None
    assert audited(db, "delete", incident["id"])


# The workflow --------------------------------------------------------------------------------


def test_the_workflow_follows_the_pages_rules(
    draft: tuple[ApiClient, dict[str, Any]], api_as: ApiAs, db: Session
) -> None:
    author, incident = draft
    path = f"/incidents/{incident['id']}"
    version = incident["version"]
    assert author.post(path + "/validate", json={"version": version}).status_code == 409
    submitted = author.post(path + "/submit", json={"version": version})
    assert submitted.status_code == 200
    assert submitted.json is not None
    assert submitted.json["status"] == "submitted"
    version = submitted.json["version"]
    assert author.post(path + "/submit", json={"version": version}).status_code == 409
    assert author.post(path + "/validate", json={"version": version}).status_code == 403
    colleague = api_as("mission")
    assert colleague.post(path + "/validate", json={"version": version - 1}).status_code == 409
    validated = colleague.post(path + "/validate", json={"version": version})
    assert validated.status_code == 200
    assert validated.json is not None
    assert validated.json["status"] == "validated"
    version = validated.json["version"]
    no_reason = colleague.post(path + "/return", json={"version": version, "reason": "  "})
    assert no_reason.status_code == 422
    assert no_reason.json is not None
    assert "reason" in no_reason.json["errors"]
    returned = colleague.post(
        path + "/return", json={"version": version, "reason": "Check the place."}
    )
    assert returned.status_code == 200
    assert returned.json is not None
    assert returned.json["status"] == "draft"
    assert returned.json["return_reason"] == "Check the place."
    steps = [event.detail.get("workflow") for event in audited(db, "update", incident["id"])]
    assert steps == ["submit", "validate", "return"]


def test_roles_outside_the_mission_cannot_take_steps(api_as: ApiAs, world: World) -> None:
    body = {"version": world.mali.version, "reason": "No."}
    path = f"/incidents/{world.mali.id}/return"
    assert api_as("member_state", state="TCD").post(path, json=body).status_code == 403
    assert api_as("analyst").post(path, json=body).status_code == 403
    assert api_as("mission", missions=("MONUSCO",)).post(path, json=body).status_code == 404


# GeoJSON -------------------------------------------------------------------------------------


def test_the_geojson_is_scoped_filtered_and_without_names(
    api_as: ApiAs, world: World, db: Session
) -> None:
    api = api_as("admin")
    response = api.get("/incidents.geojson?mission=MINUSMA")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    collection = response.json
    assert collection is not None
    assert collection["type"] == "FeatureCollection"
    [feature] = collection["features"]
    assert feature["id"] == world.mali.id
    assert feature["geometry"] == {"type": "Point", "coordinates": [1.41, 18.44]}
    assert feature["properties"]["killed"] == 1
    assert feature["properties"]["injured"] == 1
    assert "Soldier A" not in response.text
    assert "Civilian B" not in response.text
    assert references_in(api_as("analyst").get("/incidents.geojson").json) == {world.mali.id}
    exports = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert exports
    assert exports[-1].detail["format"] == "geojson"


def references_in(collection: Any) -> set[int]:
    return {feature["id"] for feature in collection["features"]}


def test_the_api_query_takes_every_filter_of_the_list() -> None:
    assert {f.name for f in fields(IncidentFilters)} == set(FilterQuery().fields)
