"""Missions through the API: read by everyone signed in, kept by admins."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from capdb.reference import Mission
from tests.api.conftest import ApiAs, errors_of, json_of
from tests.factories import IncidentFactory

NEW = {
    "code": "UNTEST",
    "kind": "political",
    "name_en": "United Nations Test Office",
    "name_fr": "Bureau des Nations Unies pour les essais",
    "started_on": "2020-01-01",
    "hosts": [{"country": "MLI"}, {"country": "ner", "since": "2021-01-01"}],
    "aliases": ["UNTO"],
}


def test_everyone_reads_the_missions(api_as: ApiAs) -> None:
    client = api_as("member_state", state="TCD")
    every = json_of(client.get("/missions"))["items"]
    assert {"UNEF I", "MONUC", "UNAMA", "BINUH"} <= {m["code"] for m in every}
    closed = json_of(client.get("/missions?open=false&kind=peacekeeping"))["items"]
    assert all(m["closed"] and m["kind"] == "peacekeeping" for m in closed)
    monuc = json_of(client.get("/missions/monuc"))
    assert monuc["successors"] == ["MONUSCO"]
    assert monuc["ended_on"] == "2010-06-30"
    assert json_of(client.get("/missions/UNEF%20I"))["aliases"] == ["UNEF"]
    assert client.get("/missions/NOSUCH").status_code == 404
    assert client.get("/missions/%00").status_code == 404


@pytest.mark.parametrize("role", ["mission", "analyst", "member_state"])
def test_only_admins_change_missions(api_as: ApiAs, role: str) -> None:
    client = api_as(role)
    assert client.post("/missions", json=NEW).status_code == 403
    assert client.patch("/missions/MINUSMA", json={"version": 1}).status_code == 403
    assert client.post("/missions/MINUSMA/close", json={"version": 1}).status_code == 403
    assert client.delete("/missions/UNOGIL?version=1").status_code == 403
    assert client.get("/missions/MINUSMA/versions").status_code == 403


def test_an_admin_adds_changes_and_closes_a_mission(api_as: ApiAs, db: Session) -> None:
    client = api_as("admin")
    created = client.post("/missions", json=NEW)
    assert created.status_code == 201, created.data
    body = json_of(created)
    assert body["hosts"] == [
        {"country": "MLI", "since": None, "until": None},
        {"country": "NER", "since": "2021-01-01", "until": None},
    ]
    version = body["version"]
    changed = client.patch("/missions/UNTEST", json={"version": version, "name_en": "Renamed"})
    assert changed.status_code == 200
    assert json_of(changed)["name_en"] == "Renamed"
    stale = client.patch("/missions/UNTEST", json={"version": version, "name_en": "Again"})
    assert stale.status_code == 409
    assert json_of(stale)["current"]["name_en"] == "Renamed"
    current = json_of(changed)["version"]
    closed = client.post(
        "/missions/UNTEST/close", json={"version": current, "ended_on": "2022-01-01"}
    )
    assert closed.status_code == 200
    assert json_of(closed)["closed"]
    history = json_of(client.get("/missions/UNTEST/versions"))["items"]
    assert [item["data"]["name_en"] for item in history] == [NEW["name_en"], "Renamed"]
    assert db.get_one(Mission, "UNTEST").ended_on == date(2022, 1, 1)


def test_bad_missions_are_refused_field_by_field(api_as: ApiAs) -> None:
    client = api_as("admin")
    refused = client.post(
        "/missions",
        json={**NEW, "code": "MINUSMA", "hosts": [{"country": "ZZZ"}], "kind": "navy"},
    )
    assert refused.status_code == 422
    assert {"hosts.0.country", "kind"} <= set(errors_of(refused))
    taken = client.post("/missions", json={**NEW, "code": "MINUSMA"})
    assert taken.status_code == 422
    assert "code" in errors_of(taken)
    backwards = client.post("/missions", json={**NEW, "ended_on": "2019-01-01"})
    assert "ended_on" in errors_of(backwards)
    assert client.post("/missions", json=[1]).status_code == 422


def test_a_mission_with_incidents_cannot_be_deleted(
    api_as: ApiAs, make_incident: IncidentFactory, db: Session
) -> None:
    make_incident()
    client = api_as("admin")
    version = db.get_one(Mission, "MINUSMA").version
    refused = client.delete(f"/missions/MINUSMA?version={version}")
    assert refused.status_code == 409
    assert "Close it instead" in json_of(refused)["error"]
    unused = db.get_one(Mission, "UNOGIL")
    assert client.delete(f"/missions/UNOGIL?version={unused.version + 1}").status_code == 409
    assert client.delete(f"/missions/UNOGIL?version={unused.version}").status_code == 204
    assert client.get("/missions/UNOGIL").status_code == 404


def test_the_other_un_presence_is_added_once(api_as: ApiAs) -> None:
    client = api_as("admin")
    first = client.post("/missions/presences", json={"country": "AFG"})
    assert first.status_code == 201
    assert json_of(first)["code"] == "UNP-AFG"
    assert client.post("/missions/presences", json={"country": "AFG"}).status_code == 200
    assert client.post("/missions/presences", json={"country": "XXA"}).status_code == 422


# History is recordable ----------------------------------------------------------------------

MINUSMA_PERIOD = "MINUSMA operated from 2013-04-25 to 2023-12-31"


def api_incident(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "mission": "MINUSMA",
        "occurred_on": "2021-03-14",
        "place": "Aguelhok",
        "means_of_attack": "ied",
        "attack_context": "convoy",
        "location_type": "road",
        "perpetrator_type": "armed_group",
        "victims": [],
    }
    return body | changes


def test_the_api_gives_the_missions_dates_for_a_date_outside_them(api_as: ApiAs) -> None:
    client = api_as("mission", missions=("MINUSMA",))
    refused = client.post("/incidents", json=api_incident(occurred_on="2024-01-01"))
    assert refused.status_code == 422
    assert MINUSMA_PERIOD in errors_of(refused)["occurred_on"][0]
    before = client.post("/incidents", json=api_incident(occurred_on="2013-04-24"))
    assert MINUSMA_PERIOD in errors_of(before)["occurred_on"][0]
    recorded = client.post("/incidents", json=api_incident(occurred_on="2013-04-25"))
    assert recorded.status_code == 201, recorded.data
    assert json_of(recorded)["reference"].startswith("MINUSMA-2013-")
