"""Getting back in: password reset links, recovery codes, the administrators' two-factor
reset, and the mail a user gets about every change of its account."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth import recovery_codes, resets, sessions, tokens
from auth.models import ApiToken, AuditEvent, PasswordReset, RecoveryCode, User, UserSession
from auth.passwords import verify_password
from capdb.mail.models import OutboxMessage
from tests.factories import TEST_PASSWORD, LoginAs, MovableClock, UserFactory
from tests.test_i18n import csrf_token
from tests.test_login import code_for, post_form

NEW_PASSWORD = "a brand new passphrase for capdb"
SAME_ANSWER = "If an account uses this address"


def mails_to(db: Session, address: str) -> list[OutboxMessage]:
    return list(
        db.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        )
    )


def ask_for_a_link(client: FlaskClient, email: str) -> TestResponse:
    return post_form(client, "/auth/forgot", {"email": email})


def link_in(message: OutboxMessage) -> str:
    found = re.search(r"http://127\.0\.0\.1:5000(/auth/reset/\S+)", message.body_text)
    assert found, message.body_text
    return found.group(1)


@pytest.fixture
def user(make_user: UserFactory) -> User:
    return make_user("member_state", state="TCD", email="focal@chad.test")


def unsigned(page: str) -> str:
    token = csrf_token(page)
    return page.replace(token, token.split(".")[0])


def test_the_answer_is_the_same_whether_or_not_the_address_exists(
    client: FlaskClient, db: Session, user: User
) -> None:
    known = ask_for_a_link(client, "Focal@Chad.test ")
    unknown = ask_for_a_link(client, "nobody@chad.test")
    assert known.status_code == unknown.status_code == 200
    assert SAME_ANSWER in known.text
    # The same page, but for the CSRF token's signature, which carries the second it was made.
    assert unsigned(known.text) == unsigned(unknown.text)
    (message,) = mails_to(db, "focal@chad.test")
    assert message.kind == "password_reset"
    assert mails_to(db, "nobody@chad.test") == []
    # Only the token's hash is kept.
    token = link_in(message).rsplit("/", 1)[1]
    assert token not in str(db.scalars(sa.select(PasswordReset.token_hash)).all())


def test_a_reset_sets_the_password_ends_every_session_and_revokes_every_token(
    client: FlaskClient, db: Session, user: User, login_as: LoginAs, app: Flask
) -> None:
    elsewhere = app.test_client()
    with elsewhere.session_transaction() as browser:
        browser[sessions.SESSION_KEY] = "another-browser-token"
    db.add(UserSession(token_hash=sessions.token_hash("another-browser-token"), user_id=user.id))
    token, _value = tokens.create(db, user)
    db.flush()
    ask_for_a_link(client, user.email)
    link = link_in(mails_to(db, user.email)[0])
    page = client.get(link)
    assert page.status_code == 200
    short = post_form(client, link, {"new": "short", "confirm": "short"})
    assert short.status_code == 422  # refused, field by field, and the link still works
    done = post_form(client, link, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.location == "/auth/login"
    db.expire_all()
    assert verify_password(user.password_hash, NEW_PASSWORD)
    live = db.scalars(
        sa.select(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    ).all()
    assert live == []
    assert db.get_one(ApiToken, token.id).revoked_at is not None
    assert elsewhere.get("/incidents/").status_code == 302  # signed out there too
    assert [m.kind for m in mails_to(db, user.email)] == ["password_reset", "account"]
    assert "password" in mails_to(db, user.email)[1].subject
    # Used once: never again.
    assert client.get(link).status_code == 404
    form_token = csrf_token(client.get("/auth/forgot").text)
    form = {"new": TEST_PASSWORD, "confirm": TEST_PASSWORD, "csrf_token": form_token}
    assert client.post(link, data=form).status_code == 404


def test_a_later_link_replaces_the_earlier_and_links_expire(
    client: FlaskClient, db: Session, user: User, clock: MovableClock
) -> None:
    ask_for_a_link(client, user.email)
    ask_for_a_link(client, user.email)
    first, second = (link_in(m) for m in mails_to(db, user.email))
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    clock.offset += timedelta(minutes=31)
    assert client.get(second).status_code == 404


def test_requests_are_throttled_per_address_and_per_client(
    client: FlaskClient, db: Session, user: User
) -> None:
    for _ in range(resets.PER_ADDRESS + 2):
        assert SAME_ANSWER in ask_for_a_link(client, user.email).text
    assert len(mails_to(db, user.email)) == resets.PER_ADDRESS
    for number in range(resets.PER_CLIENT - resets.PER_ADDRESS - 2):
        assert ask_for_a_link(client, f"someone{number}@chad.test").status_code == 200
    refused = ask_for_a_link(client, "one.more@chad.test")
    assert refused.status_code == 429
    assert "Too many requests" in refused.text


def sign_in_with(client: FlaskClient, user: User, code: str) -> TestResponse:
    post_form(client, "/auth/login", {"email": user.email, "password": TEST_PASSWORD})
    return post_form(client, "/auth/mfa/recovery", {"code": code})


def test_recovery_codes_are_shown_once_kept_hashed_and_each_signs_in_once(
    client: FlaskClient, db: Session, make_user: UserFactory
) -> None:
    newcomer = make_user("mission", totp_secret=None)
    post_form(client, "/auth/login", {"email": newcomer.email, "password": TEST_PASSWORD})
    client.get("/auth/enroll")
    with client.session_transaction() as browser:
        secret = browser["totp_enrolling"]
    page = post_form(client, "/auth/enroll", {"code": code_for(secret)}).text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", page)
    assert len(set(codes)) == 10
    stored = " ".join(db.scalars(sa.select(RecoveryCode.code_hash)).all())
    assert not any(code.replace("-", "") in stored for code in codes)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/").text)})

    assert sign_in_with(client, newcomer, codes[3].upper()).status_code == 302
    assert client.get("/incidents/").status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf_token(client.get("/").text)})
    reused = sign_in_with(client, newcomer, codes[3])
    assert reused.status_code == 200
    assert "not valid, or was already used" in reused.text
    kinds = [m.subject for m in mails_to(db, newcomer.email)]
    assert kinds == ["[capdb] Your two-factor sign-in changed"] * 2


def test_new_codes_replace_the_old_for_the_current_password(
    app: Flask, client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    user = login_as("analyst")
    old = recovery_codes.renew(db, user)
    page = client.get("/auth/recovery-codes")
    assert "10 unused recovery codes" in page.text
    wrong = post_form(client, "/auth/recovery-codes", {"current": "not my password"})
    assert wrong.status_code == 422
    new_page = post_form(client, "/auth/recovery-codes", {"current": TEST_PASSWORD}).text
    new = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", new_page)
    assert len(new) == 10
    assert not recovery_codes.use(db, user, old[0])
    assert recovery_codes.use(db, user, new[0])


def test_an_admin_resets_two_factor_and_the_user_enrolls_again(
    app: Flask, client: FlaskClient, db: Session, login_as: LoginAs, user: User
) -> None:
    recovery_codes.renew(db, user)
    other = app.test_client()
    db.add(UserSession(token_hash=sessions.token_hash("theirs"), user_id=user.id))
    db.flush()
    admin = login_as("admin")
    page = client.get(f"/admin/users/{user.id}").text
    answer = client.post(
        f"/admin/users/{user.id}/reset-two-factor", data={"csrf_token": csrf_token(page)}
    )
    assert answer.status_code == 302
    db.expire_all()
    assert user.totp_secret is None
    assert recovery_codes.remaining(db, user) == 0
    assert db.scalar(sa.select(UserSession.ended_at).where(UserSession.user_id == user.id))
    entry = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert entry is not None
    assert (entry.actor, entry.detail) == (admin.email, {"totp": "reset"})
    (mail,) = mails_to(db, user.email)
    assert "reset the two-factor" in mail.body_text
    login = post_form(other, "/auth/login", {"email": user.email, "password": TEST_PASSWORD})
    assert login.location == "/auth/enroll"
    # An administrator does not reset its own.
    own = client.post(
        f"/admin/users/{admin.id}/reset-two-factor", data={"csrf_token": csrf_token(page)}
    )
    assert own.status_code == 302
    db.expire_all()
    assert admin.totp_secret is not None


def test_a_new_api_token_and_a_password_change_are_mailed_to_the_user(
    app: Flask, db: Session, user: User
) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", user.email])
    assert result.exit_code == 0, result.output
    value = result.output.strip().splitlines()[-1]
    (mail,) = mails_to(db, user.email)
    assert mail.subject == "[capdb] A new API token for your account"
    assert value[:12] in mail.body_text
    assert value not in mail.body_text
