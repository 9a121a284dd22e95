"""Every route is either public by name or refuses anonymous requests.

A new route fails here until it either requires a login (the default) or is added to
PUBLIC_ENDPOINTS on purpose.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, Rule

from auth import tokens
from capdb.app import create_app
from capdb.security import is_public
from tests.conftest import config_for
from tests.factories import LoginAs, UserFactory

PUBLIC_ENDPOINTS = {
    "static",
    "home",
    "auth.login",
    "auth.mfa",
    "auth.enroll",
    "auth.recovery_code",
    "recovery.forgot_password",
    "recovery.reset_password",
    "notifications.unsubscribe",
    "i18n.switch_language",
    "vendor.asset",
    "health.healthz",
    "health.readyz",
    # The offline app shell: browsers fetch them without the session (incidents/offline).
    "offline.service_worker",
    "offline.manifest",
}


def sample_url(app: Flask, rule: Rule) -> str:
    """The rule's URL with a plausible value for each of its arguments."""
    values: dict[str, Any] = {}
    for argument in rule.arguments:
        converter = rule._converters[argument]
        if isinstance(converter, IntegerConverter):
            values[argument] = 1
        elif isinstance(converter, PathConverter):
            values[argument] = "x/y"
        elif isinstance(converter, AnyConverter):
            values[argument] = sorted(converter.items)[0]
        else:
            values[argument] = "x"
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def protected_rules() -> list[Rule]:
    app = create_app(config_for("sqlite://", Path(tempfile.gettempdir())))
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in PUBLIC_ENDPOINTS]
    return sorted(rules, key=lambda r: (r.rule, r.endpoint))


def rule_id(rule: Rule) -> str:
    return f"{rule.endpoint} {rule.rule}"


def test_public_endpoints_are_exactly_the_listed_ones(app: Flask) -> None:
    public = {rule.endpoint for rule in app.url_map.iter_rules() if is_public(app, rule.endpoint)}
    assert public == PUBLIC_ENDPOINTS


@pytest.mark.parametrize("rule", protected_rules(), ids=rule_id)
def test_anonymous_requests_are_refused(client: FlaskClient, app: Flask, rule: Rule) -> None:
    url = sample_url(app, rule)
    for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
        response = client.open(url, method=method)
        refused_to_login = response.status_code == 302 and response.location.startswith(
            "/auth/login"
        )
        # A form post is refused by the CSRF guard before anything else.
        refused_without_token = method != "GET" and response.status_code == 400
        assert refused_to_login or response.status_code == 401 or refused_without_token, (
            f"{method} {url} answered {response.status_code} to an anonymous request"
        )


def test_api_requests_get_401_with_a_json_body(client: FlaskClient) -> None:
    response = client.get("/api/v1/anything", headers={"Accept": "application/json"})
    assert response.status_code in {401, 404}
    response = client.get("/incidents/", headers={"Authorization": "Bearer capdb_forged"})
    assert response.status_code == 401
    assert response.json == {"error": "authentication required"}


def test_a_bearer_token_acts_as_its_user(
    client: FlaskClient, make_user: UserFactory, db: Session
) -> None:
    user = make_user("analyst")
    _token, value = tokens.create(db, user, days=1)
    response = client.get("/incidents/", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 200
    user.active = False
    db.flush()
    assert (
        client.get("/incidents/", headers={"Authorization": f"Bearer {value}"}).status_code == 401
    )


def test_security_headers_on_errors_too(app: Flask, client: FlaskClient, login_as: LoginAs) -> None:
    def broken() -> str:
        raise RuntimeError("boom")

    app.add_url_rule("/broken-for-test", view_func=broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login_as("analyst")
    for path, status in (("/incidents/", 200), ("/nowhere", 404), ("/broken-for-test", 500)):
        response = client.get(path)
        assert response.status_code == status
        if status == 500:
            assert "Nothing you entered was lost" in response.text
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in headers["Content-Security-Policy"].split("script-src")[1]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"]
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        assert headers["Cache-Control"] == "no-store"
