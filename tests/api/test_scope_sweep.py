"""A record outside the viewer's scope answers 404 on every API path that names it, with
every method, exactly as a record that does not exist; and no list, map or figure shows it.

The routes are read from the application, so a new API route is swept as soon as it
exists.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from werkzeug.routing import Rule

from tests.api.conftest import API, ApiAs, World

NOWHERE = 987654

# The sweeping users, for whom every MONUSCO record of the world is out of scope (analysts
# see all assistance records, so those are left out for them).
SWEEPERS = [
    ("mission", {"missions": ("MINUSMA",)}, set()),
    ("member_state", {"state": "BRA"}, set()),
    ("analyst", {}, {"record_id"}),
]


# Routes with an argument that names no record: a file format, a figure.
NOT_RECORDS = {"api_exports.export", "api_stats.one_figure"}


def api_rules(app: Flask) -> list[Rule]:
    """The API's routes naming a record."""
    return sorted(
        (
            r
            for r in app.url_map.iter_rules()
            if r.rule.startswith(API) and r.arguments and r.endpoint not in NOT_RECORDS
        ),
        key=lambda r: r.rule,
    )


def out_of_scope_ids(world: World) -> dict[str, int]:
    return {
        "incident_id": world.congo.id,
        "victim_id": world.congo_victim.id,
        "case_id": world.congo_case.id,
        "defendant_id": world.congo_defendant.id,
        "event_id": world.congo_event.id,
        "record_id": world.congo_assistance.id,
    }


def url_of(app: Flask, rule: Rule, values: dict[str, int]) -> str:
    with app.test_request_context():
        arguments: dict[str, Any] = {name: values[name] for name in rule.arguments}
        url = url_for(rule.endpoint, **arguments)
    return url.removeprefix(API)


def test_every_api_route_naming_a_record_is_swept(app: Flask) -> None:
    named = {argument for rule in api_rules(app) for argument in rule.arguments}
    assert named == {
        "incident_id", "victim_id", "case_id", "defendant_id", "event_id", "record_id",
    }  # fmt: skip
    assert len(api_rules(app)) >= 15


@pytest.mark.parametrize(("role", "bindings", "visible"), SWEEPERS)
def test_out_of_scope_is_404_on_every_path_and_method(
    app: Flask,
    api_as: ApiAs,
    world: World,
    role: str,
    bindings: dict[str, Any],
    visible: set[str],
) -> None:
    api = api_as(role, **bindings)
    hidden = out_of_scope_ids(world)
    missing = dict.fromkeys(hidden, NOWHERE)
    answers = []
    for rule in api_rules(app):
        if visible & set(rule.arguments):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            body: dict[str, Any] | None = None if method in {"GET", "DELETE"} else {}
            out = api.request(method, url_of(app, rule, hidden), json=body)
            gone = api.request(method, url_of(app, rule, missing), json=body)
            answers.append((method, rule.rule, out.status_code, out.json, gone.json))
    assert answers
    wrong = [a for a in answers if a[2] != 404 or a[3] != a[4]]
    assert wrong == []


@pytest.mark.parametrize(("role", "bindings", "visible"), SWEEPERS)
def test_lists_maps_and_figures_leave_out_of_scope_records_out(
    api_as: ApiAs, world: World, role: str, bindings: dict[str, Any], visible: set[str]
) -> None:
    api = api_as(role, **bindings)
    for path, hidden_id in (
        ("/incidents", world.congo.id),
        ("/incidents?mission=MONUSCO", world.congo.id),
        ("/cases", world.congo_case.id),
        (f"/cases?incident={world.congo.id}", world.congo_case.id),
    ):
        response = api.get(path)
        assert response.status_code == 200
        assert response.json is not None
        assert hidden_id not in {item["id"] for item in response.json["items"]}, path
    if "record_id" not in visible:
        listed = api.get("/assistance").json
        assert listed is not None
        assert world.congo_assistance.id not in {item["id"] for item in listed["items"]}
    features = api.get("/incidents.geojson?mission=MONUSCO").json
    assert features is not None
    assert features["features"] == []
    figures = api.get("/stats/summary?mission=MONUSCO").json
    assert figures is not None
    assert figures["incidents"] == 0
    by_mission = api.get("/stats/figures/incidents-by-mission?mission=MONUSCO").json
    assert by_mission is not None
    assert by_mission["rows"] == []
    exported = api.get("/incidents/export.csv?mission=MONUSCO")
    assert exported.status_code == 200
    assert world.congo.reference not in exported.get_data(as_text=True)
