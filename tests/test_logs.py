"""Structured logs: one JSON line per request, with its id, and nothing a user typed."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from auth import tokens
from auth.models import User
from capdb.config import Config, ConfigError
from capdb.logs import JsonFormatter
from tests.factories import TEST_PASSWORD, TEST_TOTP_SECRET, LoginAs, UserFactory
from tests.test_login import code_for, sign_in

EMAIL = "focal.point@capdb.test"


def request_lines(lines: list[str]) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in lines]
    return [entry for entry in entries if entry["logger"] == "capdb.requests"]


@pytest.fixture
def user(make_user: UserFactory) -> User:
    return make_user("analyst", email=EMAIL)


def test_a_login_logs_no_password_code_secret_or_email(
    client: FlaskClient, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    code = code_for()
    with caplog.at_level(logging.DEBUG):
        sign_in(client, EMAIL, password="typo in the password")
        response = sign_in(client, EMAIL, code=code, next_url="/maps/?mission=MINUSMA")
    assert response.status_code == 302
    lines = [JsonFormatter().format(record) for record in caplog.records]
    text = "\n".join(lines)
    for secret in ("typo in the password", TEST_PASSWORD, code, TEST_TOTP_SECRET):
        assert secret not in text
    assert "focal.point" not in text.lower()
    assert "MINUSMA" not in text  # the query string and the form's next field
    requests = request_lines(lines)
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/auth/login", 200),
        ("POST", "/auth/login", 200),
        ("GET", "/auth/login", 200),
        ("POST", "/auth/login", 302),
        ("GET", "/auth/mfa", 200),
        ("POST", "/auth/mfa", 302),
    ]
    assert all(r["user_id"] is None for r in requests[:-1])
    for entry in requests:
        assert set(entry) >= {"request_id", "method", "path", "status", "duration_ms"}
        assert "?" not in entry["path"]
        assert entry["duration_ms"] >= 0


def test_a_token_request_logs_no_token_and_no_query(
    client: FlaskClient, db: Session, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    _token, value = tokens.create(db, user)
    with caplog.at_level(logging.DEBUG):
        response = client.get(
            "/api/v1/incidents?q=Sangare&access_token=" + value,
            headers={"Authorization": f"Bearer {value}"},
        )
        refused = client.get("/api/v1/incidents", headers={"Authorization": "Bearer wrong-token"})
    assert response.status_code == 200
    assert refused.status_code == 401
    lines = [JsonFormatter().format(record) for record in caplog.records]
    text = "\n".join(lines)
    for secret in (value, "wrong-token", "Sangare", "access_token", "focal.point"):
        assert secret not in text
    served, denied = request_lines(lines)
    assert (served["path"], served["status"], served["user_id"]) == (
        "/api/v1/incidents",
        200,
        user.id,
    )
    assert (denied["status"], denied["user_id"]) == (401, None)


def test_the_signed_in_user_is_named_by_id(
    client: FlaskClient, login_as: LoginAs, caplog: pytest.LogCaptureFixture
) -> None:
    viewer = login_as("analyst")
    with caplog.at_level(logging.INFO, logger="capdb.requests"):
        client.get("/incidents/?q=secret+search")
    (entry,) = request_lines([JsonFormatter().format(r) for r in caplog.records])
    assert (entry["path"], entry["status"], entry["user_id"]) == ("/incidents/", 200, viewer.id)


def test_a_sane_request_id_is_kept_and_returned(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"X-Request-Id": "3f2a9c1e-lb-42"})
    assert response.headers["X-Request-Id"] == "3f2a9c1e-lb-42"


@pytest.mark.parametrize(
    "incoming", ["", "short", "x" * 65, "evil id; injected", '{"status": 200}', "ünïcode-id"]
)
def test_an_odd_request_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    response = client.get("/nowhere", headers={"X-Request-Id": incoming})
    assert response.status_code == 404
    returned = response.headers["X-Request-Id"]
    assert returned != incoming
    assert len(returned) == 32
    assert int(returned, 16) >= 0


def test_every_response_gets_a_new_request_id(client: FlaskClient) -> None:
    first = client.get("/healthz").headers["X-Request-Id"]
    second = client.get("/auth/login").headers["X-Request-Id"]
    assert first != second


def test_a_record_with_an_exception_stays_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert "ValueError: boom" in entry["exception"]


def test_the_log_level_is_checked() -> None:
    assert Config.from_env({"CAPDB_LOG_LEVEL": "warning"}).log_level == "warning"
    with pytest.raises(ConfigError, match="CAPDB_LOG_LEVEL"):
        Config.from_env({"CAPDB_LOG_LEVEL": "loud"})


def test_a_command_keeps_its_output_free_of_log_lines(cli: FlaskCliRunner) -> None:
    # Alembic logs at INFO while it reads the revision; the command prints the revision.
    result = cli.invoke(args=["db", "current"])
    assert result.exit_code == 0, result.output
    assert '"logger"' not in result.output
