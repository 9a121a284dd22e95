"""Signing in and out, step by step, as a browser does.

Every test runs twice: with sessions and login throttles in the database (one process),
and in Redis (``CAPDB_REDIS_URL``, several processes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth import credentials, sessions
from auth.models import AuditEvent, User, UserSession
from capdb.db import utcnow
from tests.conftest import REDIS
from tests.factories import TEST_PASSWORD, TEST_TOTP_SECRET, MovableClock, UserFactory
from tests.test_i18n import csrf_token

LOGIN_REDIS = f"{REDIS}/13"  # a database of its own, emptied of capdb's keys around each test
pytestmark = pytest.mark.parametrize(
    "app_config",
    [pytest.param({}, id="database"), pytest.param({"redis_url": LOGIN_REDIS}, id="redis")],
    indirect=True,
)


@pytest.fixture(autouse=True)
def empty_redis(app: Flask) -> Iterator[None]:
    if not app.extensions["capdb.config"].redis_url:
        yield
        return
    store = redis.Redis.from_url(LOGIN_REDIS)
    # Test workers and runs going on at once take turns: the accounts' names are the same.
    with store.lock("tests:login", timeout=120, blocking_timeout=600):
        forget_everything(store)
        yield
        forget_everything(store)
    store.close()


def forget_everything(store: redis.Redis) -> None:
    for key in store.scan_iter("capdb:*"):
        store.delete(key)


def code_for(secret: str = TEST_TOTP_SECRET, clock: MovableClock | None = None) -> str:
    moment = clock() if clock else utcnow()
    return pyotp.TOTP(secret).at(moment)


def post_form(client: FlaskClient, path: str, data: dict[str, str]) -> TestResponse:
    token = csrf_token(client.get(path).text)
    return client.post(path, data={**data, "csrf_token": token})


def sign_in(
    client: FlaskClient,
    email: str,
    password: str = TEST_PASSWORD,
    code: str | None = None,
    next_url: str = "",
) -> TestResponse:
    path = f"/auth/login?next={next_url}" if next_url else "/auth/login"
    response = post_form(client, path, {"email": email, "password": password, "next": next_url})
    if response.status_code != 302 or not response.location.endswith("/auth/mfa"):
        return response
    return post_form(client, "/auth/mfa", {"code": code or code_for()})


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/incidents/")
    return response.status_code == 200


@pytest.fixture
def user(make_user: UserFactory) -> User:
    return make_user("analyst", email="focal@capdb.test")


def test_password_then_code_signs_in(client: FlaskClient, user: User, db: Session) -> None:
    response = sign_in(client, "Focal@capdb.test ")
    assert response.status_code == 302
    assert response.location == "/"
    assert signed_in(client)
    actions = db.scalars(sa.select(AuditEvent.action).where(AuditEvent.user_id == user.id))
    assert "login" in set(actions)


def test_password_alone_is_not_enough(client: FlaskClient, user: User) -> None:
    response = post_form(client, "/auth/login", {"email": user.email, "password": TEST_PASSWORD})
    assert response.location.endswith("/auth/mfa")
    assert not signed_in(client)
    wrong = post_form(client, "/auth/mfa", {"code": "000000"})
    assert wrong.status_code == 200
    assert "This code is not valid" in wrong.text
    assert not signed_in(client)


def test_same_message_for_unknown_account_and_wrong_password(
    client: FlaskClient, user: User
) -> None:
    wrong_password = sign_in(client, user.email, password="not the password")
    unknown = sign_in(client, "nobody@capdb.test")
    assert "Invalid email or password." in wrong_password.text
    assert "Invalid email or password." in unknown.text
    assert wrong_password.status_code == unknown.status_code == 200


def test_a_new_session_id_at_every_login(
    client: FlaskClient, user: User, db: Session, clock: MovableClock
) -> None:
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    sign_in(client, user.email)
    with client.session_transaction() as first:
        first_token = first[sessions.SESSION_KEY]
        assert "planted" not in first
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/incidents/").text)})
    clock.offset = timedelta(seconds=30)  # the next code: each is accepted once
    sign_in(client, user.email, code=code_for(clock=clock))
    with client.session_transaction() as second:
        assert second[sessions.SESSION_KEY] != first_token
    hashes = db.scalars(sa.select(UserSession.token_hash).where(UserSession.user_id == user.id))
    assert len(set(hashes)) == 2


def test_old_cookie_is_refused_after_logout(client: FlaskClient, user: User) -> None:
    sign_in(client, user.email)
    with client.session_transaction() as browser:
        stolen = dict(browser)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/incidents/").text)})
    assert not signed_in(client)
    with client.session_transaction() as browser:
        browser.update(stolen)
    assert not signed_in(client)


def test_password_change_ends_the_other_sessions(
    app: Flask, client: FlaskClient, user: User, clock: MovableClock
) -> None:
    other = app.test_client()
    sign_in(other, user.email)
    clock.offset = timedelta(seconds=30)
    sign_in(client, user.email, code=code_for(clock=clock))
    response = post_form(
        client,
        "/auth/password",
        {
            "current": TEST_PASSWORD,
            "new": "a much longer passphrase",
            "confirm": "a much longer passphrase",
        },
    )
    assert response.status_code == 302
    assert signed_in(client)
    assert not signed_in(other)


def test_password_change_refuses_a_common_or_mismatched_password(
    client: FlaskClient, user: User
) -> None:
    sign_in(client, user.email)
    common = post_form(
        client,
        "/auth/password",
        {"current": TEST_PASSWORD, "new": "password1", "confirm": "password1"},
    )
    assert "too common" in common.text
    short = post_form(
        client, "/auth/password", {"current": TEST_PASSWORD, "new": "short", "confirm": "short"}
    )
    assert "at least 8 characters" in short.text
    mismatch = post_form(
        client,
        "/auth/password",
        {"current": TEST_PASSWORD, "new": "a fine passphrase", "confirm": "another one"},
    )
    assert "The two passwords differ." in mismatch.text


def test_idle_sessions_expire(client: FlaskClient, user: User, clock: MovableClock) -> None:
    sign_in(client, user.email)
    clock.offset = timedelta(minutes=29)
    assert signed_in(client)
    clock.offset = timedelta(minutes=29 + 31)
    assert not signed_in(client)


def test_sessions_end_after_twelve_hours_however_active(
    client: FlaskClient, user: User, clock: MovableClock
) -> None:
    sign_in(client, user.email)
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes, never idle
        clock.offset = timedelta(minutes=minutes)
        assert signed_in(client)
    clock.offset = timedelta(hours=12, minutes=1)
    assert not signed_in(client)


def test_a_code_is_accepted_once(app: Flask, client: FlaskClient, user: User) -> None:
    code = code_for()
    assert sign_in(client, user.email, code=code).location == "/"
    replay = sign_in(app.test_client(), user.email, code=code)
    assert "This code is not valid" in replay.text


def test_ten_failures_lock_that_account_only(
    app: Flask, client: FlaskClient, user: User, make_user: UserFactory, db: Session
) -> None:
    other = make_user("analyst", email="other@capdb.test")
    for _ in range(credentials.MAX_FAILURES):
        sign_in(client, user.email, password="wrong password")
    locked = sign_in(client, user.email)
    assert "Too many failed attempts" in locked.text
    assert not signed_in(client)
    assert sign_in(app.test_client(), other.email).location == "/"
    lockouts = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "lockout")).all()
    assert [e.user_id for e in lockouts] == [user.id]


def test_lockout_lifts_after_a_while(client: FlaskClient, user: User, clock: MovableClock) -> None:
    for _ in range(credentials.MAX_FAILURES):
        sign_in(client, user.email, password="wrong password")
    clock.offset = credentials.LOCKOUT + timedelta(seconds=1)
    assert sign_in(client, user.email, code=code_for(clock=clock)).location == "/"


def test_unknown_accounts_are_throttled_alike(client: FlaskClient) -> None:
    for _ in range(credentials.MAX_FAILURES):
        sign_in(client, "ghost@capdb.test", password="guess")
    assert "Too many failed attempts" in sign_in(client, "ghost@capdb.test").text


def test_disabled_users_cannot_sign_in(client: FlaskClient, make_user: UserFactory) -> None:
    disabled = make_user("analyst", active=False)
    assert "Invalid email or password." in sign_in(client, disabled.email).text


def test_first_login_enrolls_an_authenticator(
    client: FlaskClient, make_user: UserFactory, db: Session
) -> None:
    newcomer = make_user("mission", totp_secret=None)
    response = post_form(
        client, "/auth/login", {"email": newcomer.email, "password": TEST_PASSWORD}
    )
    assert response.location.endswith("/auth/enroll")
    page = client.get("/auth/enroll").text
    assert 'src="data:image/svg+xml' in page
    with client.session_transaction() as browser:
        secret = browser["totp_enrolling"]
    assert post_form(client, "/auth/enroll", {"code": "123456"}).status_code == 200
    done = post_form(client, "/auth/enroll", {"code": code_for(secret)})
    # Signed in, with the recovery codes shown once and the way on.
    assert done.status_code == 200
    assert done.text.count("<li><code>") == 10
    assert 'href="/"' in done.text
    db.refresh(newcomer)
    assert newcomer.totp_secret == secret


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"],
)
def test_next_never_leaves_the_site(client: FlaskClient, user: User, target: str) -> None:
    assert sign_in(client, user.email, next_url=target).location == "/"


def test_next_returns_to_the_page_asked_for(client: FlaskClient, user: User) -> None:
    response = client.get("/maps/?mission=MINUSMA")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login?next=")
    assert (
        sign_in(client, user.email, next_url="/maps/?mission=MINUSMA").location
        == "/maps/?mission=MINUSMA"
    )


def test_passwords_are_hashed_with_argon2id(user: User) -> None:
    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def test_no_secret_reaches_the_logs_or_the_audit(
    app: Flask, client: FlaskClient, user: User, db: Session, all_logs: pytest.LogCaptureFixture
) -> None:
    # What CAPDB_SQL_ECHO would log: every statement with its parameters.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    code = code_for()
    sign_in(client, user.email, password="typo in the password")
    sign_in(client, user.email, code=code)
    trail = " ".join(
        f"{e.actor} {e.detail} {e.target_id}" for e in db.scalars(sa.select(AuditEvent))
    )
    for secret in ("typo in the password", TEST_PASSWORD, code, TEST_TOTP_SECRET):
        assert secret not in all_logs.text
        assert secret not in trail
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
