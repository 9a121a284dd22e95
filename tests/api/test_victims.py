"""Victims through the API: personal data only for those the access rule allows, and
changes one victim at a time under the incident form's rules."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import ApiAs, ApiClient, World, incident_body


@pytest.mark.parametrize(
    ("role", "bindings", "named"),
    [
        ("admin", {}, {"Soldier A", "Civilian B"}),
        ("mission", {"missions": ("MINUSMA",)}, {"Soldier A", "Civilian B"}),
        ("member_state", {"state": "TCD"}, {"Soldier A"}),
        ("member_state", {"state": "FRA"}, {"Civilian B"}),
        ("member_state", {"state": "MLI"}, set()),
        ("analyst", {}, set()),
    ],
)
def test_names_reach_only_those_allowed(
    api_as: ApiAs, world: World, role: str, bindings: dict[str, Any], named: set[str]
) -> None:
    api = api_as(role, **bindings)
    named_ids = {v.id for v in (world.soldier, world.civilian) if v.name in named}
    secrets = {"Soldier A", "Civilian B"} - named
    if world.soldier.id not in named_ids:
        secrets.add("UN-0000001")  # the soldier's identifier
    for path in (
        "/incidents",
        f"/incidents/{world.mali.id}",
        f"/incidents/{world.mali.id}/victims",
        f"/victims/{world.soldier.id}",
        f"/victims/{world.civilian.id}",
    ):
        response = api.get(path)
        assert response.status_code == 200, path
        for secret in secrets:
            assert secret not in response.text, (path, secret)
    victims = api.get(f"/incidents/{world.mali.id}/victims").json
    assert victims is not None
    for victim in victims["items"]:
        assert ("name" in victim) == ("identifier" in victim) == (victim["id"] in named_ids)


@pytest.fixture
def draft(api_as: ApiAs) -> tuple[ApiClient, dict[str, Any]]:
    officer = api_as("mission")
    response = officer.post("/incidents", json=incident_body())
    assert response.json is not None
    return officer, response.json


def test_a_victim_is_added_to_a_draft(draft: tuple[ApiClient, dict[str, Any]]) -> None:
    officer, incident = draft
    path = f"/incidents/{incident['id']}"
    victim = {
        "category": "national_civilian",
        "nationality": "mli",
        "outcome": "killed",
        "date_of_death": "2021-06-02",
    }
    added = officer.post(path + "/victims", json=victim)
    assert added.status_code == 201
    assert added.json is not None
    assert added.json["nationality"] == "MLI"
    assert added.json["contributing_country"] is None
    now = officer.get(path).json
    assert now is not None
    assert now["version"] == incident["version"] + 1
    assert len(now["victims"]) == 2


def test_an_added_victim_is_checked_against_its_incident(
    draft: tuple[ApiClient, dict[str, Any]],
) -> None:
    officer, incident = draft
    victim = {
        "category": "un_volunteer",
        "nationality": "BEN",
        "outcome": "killed",
        "date_of_death": "2021-05-31",
    }
    response = officer.post(f"/incidents/{incident['id']}/victims", json=victim)
    assert response.status_code == 422
    assert response.json is not None
    assert list(response.json["errors"]) == ["date_of_death"]


def test_a_victim_changes_on_its_version(draft: tuple[ApiClient, dict[str, Any]]) -> None:
    officer, incident = draft
    victim = incident["victims"][0]
    path = f"/victims/{victim['id']}"
    changed = officer.patch(path, json={"outcome": "abducted", "version": victim["version"]})
    assert changed.status_code == 200
    assert changed.json is not None
    assert changed.json["outcome"] == "abducted"
    assert changed.json["name"] == "Soldier D"
    assert changed.json["version"] == victim["version"] + 1
    stale = officer.patch(path, json={"unit": "2nd company", "version": victim["version"]})
    assert stale.status_code == 409
    assert stale.json is not None
    assert stale.json["current"]["outcome"] == "abducted"
    invalid = officer.patch(
        path, json={"date_of_death": "2021-06-01", "version": changed.json["version"]}
    )
    assert invalid.status_code == 422


def test_a_victim_is_removed_but_kept_in_history(
    draft: tuple[ApiClient, dict[str, Any]],
) -> None:
    officer, incident = draft
    victim = incident["victims"][0]
    assert officer.delete(f"/victims/{victim['id']}").status_code == 204
    assert officer.get(f"/victims/{victim['id']}").status_code == 404
    listed = officer.get(f"/incidents/{incident['id']}/victims").json
    assert listed == {"items": []}


def test_validated_incidents_victims_are_not_changed_by_missions(
    api_as: ApiAs, world: World
) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    body = {"unit": "x", "version": world.soldier.version}
    assert officer.patch(f"/victims/{world.soldier.id}", json=body).status_code == 403
    assert officer.delete(f"/victims/{world.soldier.id}").status_code == 403
    state = api_as("member_state", state="TCD")
    assert state.patch(f"/victims/{world.soldier.id}", json=body).status_code == 403
    admin = api_as("admin")
    assert admin.patch(f"/victims/{world.soldier.id}", json=body).status_code == 200
