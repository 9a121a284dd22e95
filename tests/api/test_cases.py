"""Judicial cases, defendants, stage events, comments and assistance through the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.clock import now
from incidents.models import JudicialCase, Victim
from incidents.policy import visible_cases
from tests.api.conftest import ApiAs, ApiClient, World, errors_of, json_of
from tests.factories import IncidentFactory
from tests.test_assistance import REFUSED_FILTERS


def ids(api: ApiClient, path: str) -> set[int]:
    response = api.get(path)
    assert response.status_code == 200, response.json
    assert response.json is not None
    return {item["id"] for item in response.json["items"]}


# Cases ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "bindings", "expected"),
    [
        ("admin", {}, {"mali_case", "congo_case"}),
        ("analyst", {}, {"mali_case"}),
        ("mission", {"missions": ("MONUSCO",)}, {"congo_case"}),
        ("member_state", {"state": "TCD"}, {"mali_case"}),
        ("member_state", {"state": "COD"}, {"congo_case"}),
        ("member_state", {"state": "BRA"}, set()),
    ],
)
def test_the_cases_listed_are_those_the_viewer_may_see(
    api_as: ApiAs, world: World, role: str, bindings: dict[str, Any], expected: set[str]
) -> None:
    wanted = {getattr(world, name).id for name in expected}
    assert ids(api_as(role, **bindings), "/cases") == wanted


def test_a_prosecuting_state_sees_its_case_but_not_the_draft_behind_it(
    api_as: ApiAs, world: World
) -> None:
    case = api_as("member_state", state="COD").get(f"/cases/{world.congo_case.id}").json
    assert case is not None
    assert case["incidents"] == []
    assert case["prosecuting_state"] == "COD"
    assert case["jurisdiction"] == "military"


def test_cases_are_filtered_and_paged(api_as: ApiAs, world: World) -> None:
    admin = api_as("admin")
    assert ids(admin, f"/cases?incident={world.mali.id}") == {world.mali_case.id}
    assert ids(admin, "/cases?stage=convicted") == set()
    first = admin.get("/cases?per_page=1").json
    assert first is not None
    assert first["next_cursor"] is not None
    second = admin.get(f"/cases?per_page=1&cursor={first['next_cursor']}").json
    assert second is not None
    assert second["next_cursor"] is None
    assert {first["items"][0]["id"], second["items"][0]["id"]} == {
        world.mali_case.id,
        world.congo_case.id,
    }
    hidden_incident = api_as("analyst").get(f"/cases?incident={world.congo.id}").json
    assert hidden_incident == {"items": [], "next_cursor": None}


@pytest.mark.parametrize(
    ("role", "bindings", "sees_identity"),
    [
        ("admin", {}, True),
        ("mission", {"missions": ("MINUSMA",)}, True),
        ("member_state", {"state": "MLI"}, True),
        ("member_state", {"state": "TCD"}, False),
        ("analyst", {}, False),
    ],
)
def test_who_the_defendants_are_is_told_only_where_allowed(
    api_as: ApiAs, world: World, role: str, bindings: dict[str, Any], sees_identity: bool
) -> None:
    api = api_as(role, **bindings)
    case_path = f"/cases/{world.mali_case.id}"
    for path in (
        case_path,
        case_path + "/defendants",
        f"{case_path}/defendants/{world.defendant.id}",
    ):
        response = api.get(path)
        assert response.status_code == 200
        assert ("Abu X" in response.text) == sees_identity
        assert ("ML-77" in response.text) == sees_identity
    [defendant] = json_of(api.get(case_path))["defendants"]
    assert ("alias" in defendant) == ("identifier" in defendant) == sees_identity


def case_body(world: World, **overrides: Any) -> dict[str, Any]:
    body = {
        "incidents": [world.mali.id],
        "prosecuting_state": "MLI",
        "jurisdiction": "ordinary",
        "national_reference": "TGI-Bamako-2021-17",
        "charges": "Murder of peacekeepers",
    }
    return body | overrides


def test_the_mission_opens_a_case(api_as: ApiAs, world: World) -> None:
    response = api_as("mission").post("/cases", json=case_body(world))
    assert response.status_code == 201
    case = response.json
    assert case is not None
    assert case["incidents"] == [world.mali.id]
    assert case["defendants"] == []
    assert case["national_reference"] == "TGI-Bamako-2021-17"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"incidents": [987654]}, "incidents"),
        ({"incidents": []}, "incidents"),
        ({"incidents": ["one"]}, "incidents.0"),
        ({"jurisdiction": "divine"}, "jurisdiction"),
        ({"prosecuting_state": "XXX"}, "prosecuting_state"),  # a nationality, not a State
        ({"national_reference": "x" * 121}, "national_reference"),
    ],
)
def test_a_case_is_checked_field_by_field(
    api_as: ApiAs, world: World, changes: dict[str, Any], field: str
) -> None:
    response = api_as("mission").post("/cases", json=case_body(world, **changes))
    assert response.status_code == 422
    assert field in errors_of(response), response.json


def test_a_case_is_opened_only_on_incidents_one_sees_and_keeps(api_as: ApiAs, world: World) -> None:
    other_mission = api_as("mission", missions=("MONUSCO",))
    response = other_mission.post("/cases", json=case_body(world))
    assert response.status_code == 422
    assert response.json is not None
    assert "incidents" in response.json["errors"]
    admin = api_as("admin")
    body = case_body(world, incidents=[world.congo.id, world.mali.id])
    assert admin.post("/cases", json=body).status_code == 201
    # A State the incident does not concern does not see it; a concerned one opens a case
    # (see test_national_cases.py), its own State prosecuting it, pending validation.
    unconcerned = api_as("member_state", state="BRA").post("/cases", json=case_body(world))
    assert unconcerned.status_code == 422
    other_prosecutor = api_as("member_state", state="TCD").post("/cases", json=case_body(world))
    assert other_prosecutor.status_code == 422
    assert set(errors_of(other_prosecutor)) == {"prosecuting_state"}
    opened = api_as("member_state", state="MLI").post("/cases", json=case_body(world))
    assert opened.status_code == 201
    assert json_of(opened)["review_status"] == "pending"


# Defendants -----------------------------------------------------------------------------------


def test_keepers_add_and_change_defendants(api_as: ApiAs, world: World) -> None:
    keeper = api_as("mission")
    path = f"/cases/{world.mali_case.id}/defendants"
    added = keeper.post(path, json={"alias": "  Big Z ", "sentence_months": 0})
    assert added.status_code == 201
    assert added.json is not None
    assert added.json["alias"] == "Big Z"
    defendant = added.json
    changed = keeper.patch(
        f"{path}/{defendant['id']}", json={"verdict": "Guilty", "version": defendant["version"]}
    )
    assert changed.status_code == 200
    assert changed.json is not None
    assert changed.json["verdict"] == "Guilty"
    assert changed.json["alias"] == "Big Z"
    stale = keeper.patch(
        f"{path}/{defendant['id']}", json={"verdict": "Acquitted", "version": defendant["version"]}
    )
    assert stale.status_code == 409
    assert stale.json is not None
    assert stale.json["current"]["verdict"] == "Guilty"
    invalid = keeper.post(path, json={"alias": "", "sentence_months": -1})
    assert invalid.status_code == 422
    assert invalid.json is not None
    assert set(invalid.json["errors"]) == {"alias", "sentence_months"}


def test_only_keepers_change_defendants(api_as: ApiAs, world: World) -> None:
    path = f"/cases/{world.mali_case.id}/defendants"
    # Chad follows Mali's case; only Mali, which prosecutes it, adds defendants beside the
    # mission (pending: test_national_cases.py).
    for api in (api_as("member_state", state="TCD"), api_as("analyst")):
        assert api.post(path, json={"alias": "Someone"}).status_code == 403
        body = {"verdict": "x", "version": 1}
        assert api.patch(f"{path}/{world.defendant.id}", json=body).status_code == 403
    keeper = api_as("mission")
    other_case_defendant = f"{path}/{world.congo_defendant.id}"
    assert keeper.get(other_case_defendant).status_code == 404


# Stage events ---------------------------------------------------------------------------------


def test_a_prosecuting_states_update_waits_for_the_mission(api_as: ApiAs, world: World) -> None:
    path = f"/cases/{world.mali_case.id}/events"
    state, keeper, analyst = (
        api_as("member_state", state="MLI"),
        api_as("mission"),
        api_as("analyst"),
    )
    reported = state.post(path, json={"stage": "arrested", "occurred_on": "2021-05-02"})
    assert reported.status_code == 201
    assert reported.json is not None
    assert reported.json["review_status"] == "pending"
    event_id = reported.json["id"]
    assert event_id in ids(keeper, path)
    assert event_id in ids(state, path)
    assert event_id not in ids(analyst, path)
    case = keeper.get(f"/cases/{world.mali_case.id}").json
    assert case is not None
    assert case["current_stage"] is None
    validated = keeper.post(f"{path}/{event_id}/validate")
    assert validated.status_code == 200
    assert validated.json is not None
    assert validated.json["review_status"] == "validated"
    case = keeper.get(f"/cases/{world.mali_case.id}").json
    assert case is not None
    assert case["current_stage"] == "arrested"
    assert keeper.post(f"{path}/{event_id}/validate").status_code == 409
    assert event_id in ids(analyst, path)


def test_a_rejected_update_says_why(api_as: ApiAs, world: World) -> None:
    path = f"/cases/{world.mali_case.id}/events"
    state, keeper = api_as("member_state", state="MLI"), api_as("mission")
    reported = state.post(path, json={"stage": "charged", "occurred_on": "2021-05-03"})
    assert reported.json is not None
    event_id = reported.json["id"]
    assert state.post(f"{path}/{event_id}/reject", json={"reason": "No"}).status_code == 403
    empty = keeper.post(f"{path}/{event_id}/reject", json={"reason": " "})
    assert empty.status_code == 422
    rejected = keeper.post(f"{path}/{event_id}/reject", json={"reason": "No document."})
    assert rejected.status_code == 200
    assert rejected.json is not None
    assert rejected.json["review_status"] == "rejected"
    seen_by_state = {e["id"]: e for e in json_of(state.get(path))["items"]}
    assert seen_by_state[event_id]["review_reason"] == "No document."


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_on": (date.today() + timedelta(days=2)).isoformat()}, "occurred_on"),
        ({"occurred_on": "2020-01-01"}, "occurred_on"),
        ({"stage": "beheaded"}, "stage"),
        ({"defendant": 987654}, "defendant"),
    ],
)
def test_a_stage_is_checked(
    api_as: ApiAs, world: World, changes: dict[str, Any], field: str
) -> None:
    body = {"stage": "charged", "occurred_on": "2021-05-03"} | changes
    response = api_as("mission").post(f"/cases/{world.mali_case.id}/events", json=body)
    assert response.status_code == 422
    assert field in errors_of(response), response.json


def test_states_that_only_look_on_report_nothing(api_as: ApiAs, world: World) -> None:
    body = {"stage": "charged", "occurred_on": "2021-05-03"}
    onlooker = api_as("member_state", state="TCD")
    assert onlooker.post(f"/cases/{world.mali_case.id}/events", json=body).status_code == 403


# Comments -------------------------------------------------------------------------------------


def test_a_request_for_clarification_is_answered_by_the_other_side(
    api_as: ApiAs, world: World
) -> None:
    path = f"/incidents/{world.mali.id}/comments"
    state, keeper = api_as("member_state", state="TCD"), api_as("mission")
    asked = state.post(path, json={"kind": "clarification_request", "body": "Which unit?"})
    assert asked.status_code == 201
    assert asked.json is not None
    assert asked.json["side"] == "state"
    request_id = asked.json["id"]
    same_side = api_as("member_state", state="TCD").post(
        path, json={"body": "Me too", "answers": request_id}
    )
    assert same_side.status_code == 403
    answered = keeper.post(path, json={"body": "The 2nd company.", "answers": request_id})
    assert answered.status_code == 201
    assert answered.json is not None
    assert answered.json["side"] == "un"
    again = keeper.post(path, json={"body": "Again", "answers": request_id})
    assert again.status_code == 422
    assert again.json is not None
    assert "answers" in again.json["errors"]
    thread = keeper.get(path).json
    assert thread is not None
    assert [c["body"] for c in thread["items"]] == ["Which unit?", "The 2nd company."]


def test_analysts_read_no_comments_and_do_not_write(api_as: ApiAs, world: World) -> None:
    analyst = api_as("analyst")
    path = f"/cases/{world.mali_case.id}/comments"
    assert analyst.get(path).status_code == 200
    assert analyst.post(path, json={"body": "Hello"}).status_code == 403
    keeper = api_as("mission")
    empty = keeper.post(path, json={"body": "   "})
    assert empty.status_code == 422
    posted = keeper.post(path, json={"body": "The trial opens in May."})
    assert posted.status_code == 201
    # Threads belong to the State that opened them and the mission: analysts read none.
    assert json_of(analyst.get(path))["items"] == []
    assert [c["body"] for c in json_of(keeper.get(path))["items"]] == ["The trial opens in May."]


# Capacity-building assistance -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "bindings", "sees"),
    [
        ("analyst", {}, True),
        ("mission", {"missions": ("MONUSCO",)}, True),
        ("mission", {"missions": ("MINUSMA",)}, False),
        ("member_state", {"state": "COD"}, True),
        ("member_state", {"state": "MLI"}, False),
    ],
)
def test_assistance_is_seen_by_its_mission_recipient_and_hq(
    api_as: ApiAs, world: World, role: str, bindings: dict[str, Any], sees: bool
) -> None:
    api = api_as(role, **bindings)
    assert (world.congo_assistance.id in ids(api, "/assistance")) == sees
    one = api.get(f"/assistance/{world.congo_assistance.id}")
    assert one.status_code == (200 if sees else 404)


def test_linked_cases_are_shown_only_when_seen(api_as: ApiAs, world: World) -> None:
    record = api_as("analyst").get(f"/assistance/{world.congo_assistance.id}").json
    assert record is not None
    assert record["cases"] == []
    record = api_as("admin").get(f"/assistance/{world.congo_assistance.id}").json
    assert record is not None
    assert record["cases"] == [world.congo_case.id]


def test_assistance_is_recorded_and_changed_on_its_version(api_as: ApiAs, world: World) -> None:
    officer = api_as("mission")
    body = {
        "recipient_state": "MLI",
        "mission": "MINUSMA",
        "kind": "investigators_deployed",
        "started_on": "2021-07-01",
        "participants": 12,
        "cases": [world.mali_case.id],
    }
    created = officer.post("/assistance", json=body)
    assert created.status_code == 201
    record = created.json
    assert record is not None
    assert record["cases"] == [world.mali_case.id]
    path = f"/assistance/{record['id']}"
    changed = officer.patch(path, json={"participants": 15, "version": record["version"]})
    assert changed.status_code == 200
    assert changed.json is not None
    assert changed.json["participants"] == 15
    assert changed.json["cases"] == [world.mali_case.id]
    stale = officer.patch(path, json={"participants": 1, "version": record["version"]})
    assert stale.status_code == 409
    assert stale.json is not None
    assert stale.json["current"]["participants"] == 15
    backwards = officer.patch(
        path, json={"ended_on": "2021-06-01", "version": changed.json["version"]}
    )
    assert backwards.status_code == 422
    assert backwards.json is not None
    assert "ended_on" in backwards.json["errors"]


def test_assistance_links_only_cases_one_sees_for_ones_missions(
    api_as: ApiAs, world: World
) -> None:
    officer = api_as("mission")
    body = {
        "recipient_state": "COD",
        "mission": "MONUSCO",
        "kind": "training",
        "started_on": "2022-03-01",
        "cases": [world.congo_case.id],
    }
    response = officer.post("/assistance", json=body)
    assert response.status_code == 422
    assert response.json is not None
    assert set(response.json["errors"]) == {"mission", "cases"}
    assert api_as("admin").get("/assistance?state=XXX").status_code == 400
    assert ids(api_as("admin"), "/assistance?kind=technical") == set()


@pytest.mark.parametrize(("query", "field"), REFUSED_FILTERS)
def test_the_assistance_list_refuses_what_the_page_refuses(
    api_as: ApiAs, world: World, query: str, field: str
) -> None:
    response = api_as("admin").get(f"/assistance?{query}")
    assert response.status_code == 400, query
    assert set(errors_of(response)) == {field}


@pytest.mark.parametrize(
    ("role", "bindings"),
    [
        ("mission", {"missions": ("MINUSMA", "MONUSCO")}),
        ("mission", {"missions": ("MONUSCO",)}),
        ("member_state", {"state": "TCD"}),
        ("member_state", {"state": "MLI"}),
        ("analyst", {}),
    ],
)
@pytest.mark.parametrize("filters", ["", "&stage=reported"])
def test_case_lists_page_through_what_the_rule_gives_each_case_once(
    api_as: ApiAs,
    db: Session,
    make_incident: IncidentFactory,
    role: str,
    bindings: dict[str, Any],
    filters: str,
) -> None:
    """Read in the order of the rows that hold a viewer's cases (one range per State or
    mission, merged: newest_cases), the pages hold what the access rule gives, newest
    first, each case once, even a case of several of the viewer's missions."""
    places = (("MINUSMA", "MLI"), ("MONUSCO", "COD"), ("UNMISS", "SSD"))
    incidents = []
    for number in range(9):
        mission, country = places[number % 3]
        incident = make_incident(mission_code=mission, country_code=country, status="validated")
        soldier = Victim(category="contingent_military", outcome="injured")
        soldier.nationality_code = soldier.contributing_country_code = "TCD"
        incident.victims.append(soldier)
        incidents.append(incident)
    for number in range(24):
        linked = [incidents[number % 9]] + ([incidents[(number + 1) % 9]] if number % 4 else [])
        db.add(
            JudicialCase(
                prosecuting_state_code=("TCD", "MLI", "COD")[number % 3],
                jurisdiction="ordinary",
                review_status="pending" if number % 5 == 0 else "validated",
                current_stage="reported" if number % 2 else None,
                deleted_at=now() if number == 7 else None,
                incidents=linked,
            )
        )
    db.flush()
    api = api_as(role, **bindings)
    expected = db.scalars(
        sa.select(JudicialCase.id)
        .where(visible_cases(api.user))
        .where(*([JudicialCase.current_stage == "reported"] if filters else []))
        .order_by(JudicialCase.id.desc())
    ).all()
    listed: list[int] = []
    cursor = ""
    while True:
        page = api.get(f"/cases?per_page=4{filters}{cursor}").json
        assert page is not None
        listed.extend(item["id"] for item in page["items"])
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert listed == expected
    assert len(expected) >= 3
