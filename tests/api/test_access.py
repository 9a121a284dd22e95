"""Who gets in: bearer tokens, the session cookie only for reading, the OpenAPI document
behind a login, JSON errors everywhere under /api/, and the rate limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth import tokens
from capdb.clock import now
from tests.api.conftest import API, ApiAs, World, errors_of, incident_body, json_of
from tests.api.test_cases import case_body
from tests.factories import LoginAs, UserFactory


@pytest.mark.parametrize(
    "path", ["/incidents", "/incidents/1", "/cases", "/vocabularies", "/openapi.json"]
)
def test_no_token_is_401_in_json(client: FlaskClient, path: str) -> None:
    response = client.get(API + path)
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer capdb_forged", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-even-ours"],
)
def test_a_bad_token_is_401(client: FlaskClient, authorization: str) -> None:
    response = client.get(API + "/incidents", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.is_json


def test_expired_revoked_and_disabled_tokens_are_refused(
    client: FlaskClient, db: Session, make_user: UserFactory
) -> None:
    user = make_user("analyst")
    token, value = tokens.create(db, user)
    headers = {"Authorization": f"Bearer {value}"}
    assert client.get(API + "/incidents", headers=headers).status_code == 200
    token.expires_at = now() - timedelta(seconds=1)
    db.flush()
    assert client.get(API + "/incidents", headers=headers).status_code == 401
    token.expires_at = None
    tokens.revoke(db, token)
    db.flush()
    assert client.get(API + "/incidents", headers=headers).status_code == 401


def test_the_openapi_document_needs_a_token_and_describes_the_api(api_as: ApiAs) -> None:
    response = api_as("analyst").get("/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document is not None
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    paths = document["paths"]
    for path in (
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}",
        "/api/v1/incidents/{incident_id}/submit",
        "/api/v1/incidents.geojson",
        "/api/v1/victims/{victim_id}",
        "/api/v1/cases/{case_id}/events",
        "/api/v1/vocabularies",
        "/api/v1/stats/summary",
    ):
        assert path in paths
    incident = document["components"]["schemas"]["Incident"]["properties"]
    assert {"reference", "mission", "occurred_on", "victims", "version"} <= set(incident)
    assert (
        "application/geo+json"
        in paths["/api/v1/incidents.geojson"]["get"]["responses"]["200"]["content"]
    )


def test_the_signed_in_browser_may_read_but_not_write(
    client: FlaskClient, login_as: LoginAs, world: World
) -> None:
    login_as("admin")
    assert client.get(API + "/incidents").status_code == 200
    refused = client.post(API + "/incidents", json=incident_body())
    assert refused.status_code == 401
    assert refused.json is not None
    assert "bearer" in refused.json["error"]
    deleted = client.delete(f"{API}/incidents/{world.mali.id}")
    assert deleted.status_code == 401
    assert client.get(f"{API}/incidents/{world.mali.id}").status_code == 200


def test_bearer_writes_need_no_csrf_token(api_as: ApiAs) -> None:
    response = api_as("mission").post("/incidents", json=incident_body())
    assert response.status_code == 201


def test_answers_are_not_cached(api_as: ApiAs, world: World) -> None:
    response = api_as("admin").get(f"/incidents/{world.mali.id}")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_unknown_paths_and_methods_answer_in_json(api_as: ApiAs) -> None:
    """Requests that match no API route are answered by the application's error handler."""
    api = api_as("admin")
    missing = api.get("/nothing-here")
    assert missing.status_code == 404
    assert json_of(missing)["error"]
    wrong_method = api.request("PUT", "/incidents")
    assert wrong_method.status_code == 405
    assert json_of(wrong_method)["error"]


def test_pages_keep_their_html_errors(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(
    ("role", "bindings", "refused"),
    [
        ("analyst", {}, ("/incidents", "/cases", "/assistance")),
        # A focal point opens its own State's national cases (tests/test_national_cases.py).
        ("member_state", {"state": "MLI"}, ("/incidents", "/assistance")),
    ],
)
def test_roles_that_may_not_record_get_403(
    api_as: ApiAs, world: World, role: str, bindings: dict[str, str], refused: tuple[str, ...]
) -> None:
    api = api_as(role, **bindings)
    # Opening a case is asked of each incident named (may_open_case), which both see.
    bodies = {"/incidents": {}, "/cases": case_body(world), "/assistance": {}}
    for path in refused:
        response = api.post(path, json=bodies[path])
        assert response.status_code == 403, path
        assert response.json is not None
        assert response.json["error"]


def test_field_errors_are_our_translatable_messages(api_as: ApiAs) -> None:
    """marshmallow's own English wording is replaced by messages of the catalog."""
    response = api_as("mission").post(
        "/incidents", json={"place": None, "latitude": "north", "status": "validated"}
    )
    assert response.status_code == 422
    assert response.json is not None
    errors = response.json["errors"]
    assert errors["mission"] == ["This field is required."]
    assert errors["place"] == ["This field cannot be empty."]
    assert errors["latitude"] == ["Enter a number."]
    assert errors["status"] == ["Unknown field."]


@pytest.mark.parametrize("app_config", [{"api_rate_limit": "3/minute"}], indirect=True)
def test_the_rate_limit_is_per_token_and_answers_429_in_json(api_as: ApiAs) -> None:
    first, second = api_as("analyst"), api_as("analyst")
    for _ in range(3):
        assert first.get("/vocabularies").status_code == 200
    limited = first.get("/vocabularies")
    assert limited.status_code == 429
    assert limited.json is not None
    assert limited.json["error"]
    assert "Retry-After" in limited.headers
    assert second.get("/vocabularies").status_code == 200


def test_field_errors_are_said_in_the_users_language(api_as: ApiAs) -> None:
    api = api_as("mission")
    french = {"Accept-Language": "fr-FR, en;q=0.5"}
    body = incident_body(place=" ", country="ZZZ", means_of_attack="catapult")
    errors = errors_of(api.post("/incidents", json=body, headers=french))
    assert errors["place"] == ["Indiquez le lieu."]
    assert errors["country"] == ["Choisissez un pays dans la liste."]
    assert errors["means_of_attack"] == ["Choisissez l'une des valeurs proposées."]
    assert errors_of(api.get("/incidents?mission=XX", headers=french)) == {
        "mission": ["Mission inconnue."]
    }
    assert errors_of(api.post("/incidents", json=body))["place"] == ["Name the place."]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("[" * 100_000 + "]" * 100_000, "body"),
        (b"\xff\xfe{}", "body"),
        ('{"place": "Gao\\u0000"}', "place"),
        ('{"narrative": "\\ud800"}', "narrative"),
    ],
    ids=["nested too deeply", "not UTF-8", "NUL character", "lone surrogate"],
)
def test_hostile_bodies_are_refused_not_crashed_on(
    api_as: ApiAs, body: str | bytes, field: str
) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "hostile-1"}
    response = api_as("mission").request("POST", "/incidents", data=body, headers=headers)
    assert response.status_code in {400, 422}
    assert field in errors_of(response)


def test_a_nul_character_in_a_filter_is_refused(api_as: ApiAs) -> None:
    response = api_as("admin").get("/incidents?q=ab%00c")
    assert response.status_code == 400
    assert list(errors_of(response)) == ["q"]
