"""A record outside the viewer's scope answers 404 on every path that names it, pages and
API alike, with every method, exactly as a record that does not exist; and no list, map or
figure shows it.

The routes are read from the application's URL map, never listed by hand: a new route is
swept as soon as it exists, and a route with an argument the sweep does not know fails
:func:`test_every_route_with_an_argument_is_swept` until it is classified here. That
anonymous requests are refused everywhere but on the public endpoints is
tests/test_routes.py's sweep, from the same URL map.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.api.conftest import API, ApiAs, World
from tests.factories import LoginAs
from tests.test_i18n import csrf_token

NOWHERE = 987654

# The sweeping users, for whom every MONUSCO record of the world is out of scope (analysts
# see all assistance records, so those are left out for them).
SWEEPERS = [
    ("mission", {"missions": ("MINUSMA",)}, set()),
    ("member_state", {"state": "BRA"}, set()),
    ("analyst", {}, {"record_id"}),
]

# Arguments naming a record, swept with an out-of-scope one.
RECORD_ARGUMENTS = {
    "incident_id", "victim_id", "case_id", "defendant_id", "event_id", "record_id",
    "comment_id", "version", "job_id", "attachment_id",
}  # fmt: skip
# Arguments naming no record: a file format, a figure, the user's own upload, an asset, one
# of the user's own notifications (another's answers 404: test_notification_pages.py), a
# role's help page, a mission (reference data every signed-in user reads; only admins
# change it); and a saved view, which only its owner (and, shared, the analysts) opens:
# tests/test_saved_views.py answers 404 to everyone else.
NOT_RECORDS = {
    "export_format", "file_format", "name", "token", "filename", "package", "notification_id",
    "role", "view_id", "code",
}  # fmt: skip
# Accounts and outgoing mail are the administrators' pages: everyone else is refused (403)
# before any lookup.
ADMINS_ONLY = {"user_id", "message_id"}


def record_rules(app: Flask) -> list[Rule]:
    """Every route, page or API, naming a record."""
    return sorted(
        (r for r in app.url_map.iter_rules() if RECORD_ARGUMENTS & set(r.arguments)),
        key=lambda r: (r.rule, r.endpoint),
    )


def out_of_scope_ids(world: World) -> dict[str, int]:
    return {
        "incident_id": world.congo.id,
        "victim_id": world.congo_victim.id,
        "case_id": world.congo_case.id,
        "defendant_id": world.congo_defendant.id,
        "event_id": world.congo_event.id,
        "record_id": world.congo_assistance.id,
        "comment_id": world.congo_comment.id,
        "version": 1,
        "job_id": world.others_job.id,
        "attachment_id": world.congo_attachment.id,
    }


def url_of(app: Flask, rule: Rule, values: dict[str, int]) -> str:
    with app.test_request_context():
        arguments: dict[str, Any] = {name: values[name] for name in rule.arguments}
        url = url_for(rule.endpoint, **arguments)
    return url.removeprefix(API)


def test_every_route_with_an_argument_is_swept(app: Flask) -> None:
    known = RECORD_ARGUMENTS | NOT_RECORDS | ADMINS_ONLY
    unknown = [
        (rule.endpoint, sorted(set(rule.arguments) - known))
        for rule in app.url_map.iter_rules()
        if set(rule.arguments) - known
    ]
    assert unknown == [], "classify these arguments in test_scope_sweep.py"
    swept = record_rules(app)
    assert {a for rule in swept for a in rule.arguments} == RECORD_ARGUMENTS
    pages = [rule for rule in swept if not rule.rule.startswith(API)]
    assert len(swept) - len(pages) >= 25
    assert len(pages) >= 25


def sweep_api(app: Flask, api: Any, rules: list[Rule], hidden: dict[str, int]) -> list[Any]:
    missing = dict.fromkeys(hidden, NOWHERE)
    answers = []
    for rule in rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            body: dict[str, Any] | None = None if method in {"GET", "DELETE"} else {}
            out = api.request(method, url_of(app, rule, hidden), json=body)
            gone = api.request(method, url_of(app, rule, missing), json=body)
            answers.append((method, rule.rule, out.status_code, out.json, gone.json))
    return answers


def sweep_pages(
    app: Flask, client: FlaskClient, rules: list[Rule], hidden: dict[str, int]
) -> list[Any]:
    """Every page route, posted as a browser would (with the session's CSRF token)."""
    missing = dict.fromkeys(hidden, NOWHERE)
    token = csrf_token(client.get("/incidents/").text)
    answers = []
    for rule in rules:
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": token} if method == "POST" else None
            out = client.open(url_of(app, rule, hidden), method=method, data=data)
            gone = client.open(url_of(app, rule, missing), method=method, data=data)
            answers.append((method, rule.rule, out.status_code, gone.status_code))
    return answers


@pytest.mark.parametrize(("role", "bindings", "visible"), SWEEPERS)
def test_out_of_scope_is_404_on_every_path_and_method(
    app: Flask,
    client: FlaskClient,
    api_as: ApiAs,
    login_as: LoginAs,
    world: World,
    role: str,
    bindings: dict[str, Any],
    visible: set[str],
) -> None:
    hidden = out_of_scope_ids(world)
    rules = [r for r in record_rules(app) if not visible & set(r.arguments)]
    api_rules = [r for r in rules if r.rule.startswith(API)]
    page_rules = [r for r in rules if not r.rule.startswith(API)]
    answers = sweep_api(app, api_as(role, **bindings), api_rules, hidden)
    assert answers
    assert [a for a in answers if a[2] != 404 or a[3] != a[4]] == []
    login_as(role, **bindings)
    pages = sweep_pages(app, client, page_rules, hidden)
    assert pages
    assert [a for a in pages if a[2:] != (404, 404)] == []
    # A record named in the query string: opening a case on an incident.
    assert client.get(f"/cases/new?incident={world.congo.id}").status_code == 404


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


# Routes naming a record of a parent record (a victim of an incident, a defendant or stage
# event of a case, a comment on either): the parent may be in the viewer's sight while the
# child named is another record's, out of scope. That answers 404 too, before any question
# of what the viewer may do (403 would tell the child exists).
CHILD_ARGUMENTS = {"victim_id", "defendant_id", "event_id", "comment_id"}
CHILD_SWEEPERS = [("analyst", {}), ("member_state", {"state": "MLI"})]


def child_rules(app: Flask) -> list[Rule]:
    return [rule for rule in record_rules(app) if CHILD_ARGUMENTS & set(rule.arguments)]


@pytest.mark.parametrize(("role", "bindings"), CHILD_SWEEPERS)
def test_a_child_out_of_scope_under_a_parent_in_sight_is_404(
    app: Flask,
    client: FlaskClient,
    api_as: ApiAs,
    login_as: LoginAs,
    world: World,
    role: str,
    bindings: dict[str, Any],
) -> None:
    named = out_of_scope_ids(world) | {"incident_id": world.mali.id, "case_id": world.mali_case.id}
    rules = child_rules(app)
    api = api_as(role, **bindings)
    assert api.get(f"/cases/{world.mali_case.id}").status_code == 200
    answers = sweep_api(app, api, [r for r in rules if r.rule.startswith(API)], named)
    assert len(answers) >= 6
    assert [a[:3] for a in answers if a[2] != 404] == []
    login_as(role, **bindings)
    pages = sweep_pages(app, client, [r for r in rules if not r.rule.startswith(API)], named)
    assert len(pages) >= 6
    assert [a for a in pages if a[2:] != (404, 404)] == []
