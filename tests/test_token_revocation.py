"""A password change or a disabled account revokes the user's API tokens for good, as it
ends their sessions: enabling the account again brings none of them back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from auth import accounts, tokens
from auth.models import ApiToken, AuditEvent, User
from auth.passwords import verify_password
from tests.factories import TEST_PASSWORD, LoginAs, UserFactory
from tests.test_admin_users import post_action
from tests.test_login import post_form

API = "/api/v1/incidents"
NEW_PASSWORD = "a much longer passphrase"


@pytest.fixture
def app_context(app: Flask) -> Iterator[None]:
    """Account changes mail their owner: the services run inside the application."""
    with app.app_context():
        yield


@pytest.fixture
def user(make_user: UserFactory) -> User:
    return make_user("analyst", email="holder@capdb.test")


@pytest.fixture
def api(app: Flask) -> FlaskClient:
    """A client of its own, carrying no session cookie: only the bearer token speaks."""
    return app.test_client()


def status_with(api: FlaskClient, value: str) -> int:
    return api.get(API, headers={"Authorization": f"Bearer {value}"}).status_code


def new_token(db: Session, user: User) -> str:
    return tokens.create(db, user)[1]


def audit_text(db: Session) -> str:
    return " ".join(str(row) for row in db.execute(sa.select(AuditEvent.__table__)))


def revocations(db: Session, token_id: int) -> list[dict[str, object]]:
    details = db.scalars(
        sa.select(AuditEvent.detail).where(
            AuditEvent.target_type == "api_tokens", AuditEvent.target_id == str(token_id)
        )
    )
    return [detail for detail in details if detail.get("revoked")]


def test_changing_ones_password_revokes_ones_tokens(
    client: FlaskClient, api: FlaskClient, db: Session, login_as: LoginAs, user: User
) -> None:
    old = new_token(db, user)
    expiring, _ = tokens.create(db, user, days=30)
    assert status_with(api, old) == 200
    login_as(user=user)
    response = post_form(
        client,
        "/auth/password",
        {"current": TEST_PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert "API tokens were revoked" in client.get("/incidents/").text
    assert status_with(api, old) == 401
    db.expire_all()
    assert expiring.revoked_at is not None
    assert status_with(api, new_token(db, user)) == 200


def test_disabling_revokes_tokens_for_good(
    client: FlaskClient, api: FlaskClient, db: Session, login_as: LoginAs, user: User
) -> None:
    old = new_token(db, user)
    login_as("admin")
    post_action(client, f"/admin/users/{user.id}/disable")
    assert status_with(api, old) == 401
    post_action(client, f"/admin/users/{user.id}/enable")
    db.expire_all()
    assert user.active
    assert status_with(api, old) == 401
    assert status_with(api, new_token(db, user)) == 200


def test_disabling_from_the_edit_form_revokes_too(db: Session, user: User) -> None:
    old = new_token(db, user)
    accounts.update_user(
        db, user, role="analyst", missions=[], state=None, active=False,
        expected_version=user.version, by=None,
    )  # fmt: skip
    accounts.set_active(db, user, True, by=None)
    assert tokens.user_for(db, old) is None


def test_the_command_line_revokes_on_disable_and_on_password_reset(
    cli: FlaskCliRunner, db: Session, user: User
) -> None:
    first = new_token(db, user)
    disabled = cli.invoke(args=["users", "disable", user.email])
    assert "API tokens revoked" in disabled.output
    assert cli.invoke(args=["users", "enable", user.email]).exit_code == 0
    db.expire_all()
    assert tokens.user_for(db, first) is None

    second = new_token(db, user)
    assert tokens.user_for(db, second) == user
    reset = cli.invoke(args=["users", "set-password", user.email, "--password-stdin"],
                       input=NEW_PASSWORD + "\n")  # fmt: skip
    assert reset.exit_code == 0, reset.output
    db.expire_all()
    assert tokens.user_for(db, second) is None
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.password_changed_at is not None


def test_a_refused_password_reset_changes_nothing(
    cli: FlaskCliRunner, db: Session, user: User
) -> None:
    value = new_token(db, user)
    result = cli.invoke(args=["users", "set-password", user.email, "--password-stdin"],
                        input="password1\n")  # fmt: skip
    assert result.exit_code == 1
    assert "password:" in result.output
    db.expire_all()
    assert tokens.user_for(db, value) == user
    assert verify_password(user.password_hash, TEST_PASSWORD)


@pytest.mark.usefixtures("app_context")
def test_each_revocation_is_audited_without_the_token(
    db: Session, make_user: UserFactory, user: User
) -> None:
    admin = make_user("admin")
    values = [new_token(db, user), new_token(db, user)]
    already, _ = tokens.create(db, user)
    tokens.revoke(db, already)
    other = new_token(db, make_user("analyst"))
    accounts.set_password(db, user, NEW_PASSWORD, by=admin)

    ids = db.scalars(
        sa.select(ApiToken.id).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ).all()
    for token_id in ids[:2]:
        [detail] = revocations(db, token_id)
        assert detail == {"revoked": True, "user": user.id, "reason": "password changed"}
    assert revocations(db, already.id) == []  # revoked before: not revoked again
    assert tokens.user_for(db, other) is not None  # another user's token is untouched
    trail = audit_text(db)
    for value in [*values, other]:
        assert value not in trail
        assert value.removeprefix(tokens.PREFIX)[:6] not in trail
    assert NEW_PASSWORD not in trail
    actors = db.scalars(
        sa.select(AuditEvent.actor).where(AuditEvent.target_type == "api_tokens")
    ).all()
    assert actors[-2:] == [admin.email, admin.email]


@pytest.mark.usefixtures("app_context")
def test_no_account_operation_writes_an_address_into_the_details_of_the_trail(
    db: Session, make_user: UserFactory
) -> None:
    """The trail can never be erased: its details hold ids, never personal data. (Who
    acted, ``actor``, is the one place it names a person.)"""
    admin = make_user("admin", email="the.admin@capdb.test")
    created = accounts.create_user(
        db,
        email="Created.Person@capdb.test",
        role="mission",
        missions=["MINUSMA"],
        state=None,
        password=NEW_PASSWORD,
        by=admin,
    )
    accounts.issue_token(db, created, by=admin)
    accounts.set_password(db, created, NEW_PASSWORD + " again", by=admin)
    accounts.issue_token(db, created, by=admin)
    accounts.set_active(db, created, False, by=admin)
    accounts.revoke_all_tokens(db, created, by=admin, reason="test")
    details = db.scalars(sa.select(AuditEvent.detail)).all()
    assert len(details) >= 5
    text = " ".join(str(detail) for detail in details).casefold()
    for address in ("created.person@capdb.test", "the.admin@capdb.test", "capdb.test"):
        assert address not in text
