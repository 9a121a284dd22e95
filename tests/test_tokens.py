"""API tokens from the command line: shown once, stored as a hash, listed, revoked, audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from auth import tokens
from auth.models import ApiToken, AuditEvent, User
from auth.sessions import token_hash
from capdb.db import utcnow
from tests.factories import UserFactory


@pytest.fixture
def user(make_user: UserFactory) -> User:
    return make_user("analyst", email="api@example.org")


def create_token(cli: FlaskCliRunner, *args: str) -> str:
    result = cli.invoke(args=["tokens", "create", *args])
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[-1]


def audit_details(db: Session) -> str:
    return " ".join(str(row) for row in db.execute(sa.select(AuditEvent.__table__)))


def test_create_prints_the_token_alone_on_the_last_line(
    cli: FlaskCliRunner, db: Session, user: User
) -> None:
    value = create_token(cli, "API@example.org")
    assert value.startswith(tokens.PREFIX)
    assert value.strip() == value
    assert " " not in value
    assert tokens.user_for(db, value) == user


def test_only_the_hash_of_the_token_is_stored(cli: FlaskCliRunner, db: Session, user: User) -> None:
    value = create_token(cli, user.email)
    rows = db.execute(sa.select(ApiToken.__table__)).all()
    assert len(rows) == 1
    assert not [column for column in rows[0] if value in str(column)]
    assert rows[0].token_hash == token_hash(value)
    assert value not in audit_details(db)


def test_creation_is_audited(cli: FlaskCliRunner, db: Session, user: User) -> None:
    create_token(cli, user.email)
    token = db.scalars(sa.select(ApiToken)).one()
    entry = db.scalars(sa.select(AuditEvent).where(AuditEvent.target_type == "api_tokens")).one()
    assert (entry.action, entry.actor, entry.target_id) == ("create", "system", str(token.id))
    assert entry.detail["user"] == user.id
    assert user.email not in str(entry.detail)


def test_expiry_in_days(cli: FlaskCliRunner, db: Session, user: User) -> None:
    create_token(cli, user.email, "--expires", "30")
    token = db.scalars(sa.select(ApiToken)).one()
    assert token.expires_at is not None
    assert abs(token.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("email", "message"),
    [("nobody@example.org", "no account"), ("off@example.org", "disabled")],
)
def test_create_refuses_unknown_and_disabled_accounts(
    cli: FlaskCliRunner, db: Session, make_user: UserFactory, email: str, message: str
) -> None:
    make_user("analyst", email="off@example.org", active=False)
    result = cli.invoke(args=["tokens", "create", email])
    assert result.exit_code == 1
    assert message in result.output
    assert db.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_list_describes_tokens_without_revealing_them(
    cli: FlaskCliRunner, db: Session, user: User
) -> None:
    first = create_token(cli, user.email)
    second = create_token(cli, user.email, "--expires", "7")
    result = cli.invoke(args=["tokens", "list", user.email])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    for line, value in zip(lines, (first, second), strict=True):
        assert value not in line
        assert value[: len(tokens.PREFIX) + 6] in line
        assert "revoked no" in line
        assert "last-used never" in line
    assert "expires never" in lines[0]
    assert "expires never" not in lines[1]


def test_list_of_an_unknown_account_fails(cli: FlaskCliRunner) -> None:
    assert cli.invoke(args=["tokens", "list", "nobody@example.org"]).exit_code == 1


def test_revoke_stops_the_token_and_is_audited(
    cli: FlaskCliRunner, db: Session, user: User
) -> None:
    value = create_token(cli, user.email)
    token = db.scalars(sa.select(ApiToken)).one()
    result = cli.invoke(args=["tokens", "revoke", str(token.id)])
    assert result.exit_code == 0, result.output
    db.expire_all()  # the command changed the token through its own session
    assert tokens.user_for(db, value) is None
    entries = db.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.target_type == "api_tokens")
    ).all()
    assert entries == ["create", "update"]
    assert value not in audit_details(db)
    listed = cli.invoke(args=["tokens", "list", user.email]).output
    assert "revoked no" not in listed

    again = cli.invoke(args=["tokens", "revoke", str(token.id)])
    assert again.exit_code == 0
    assert "already revoked" in again.output


def test_revoke_an_unknown_token_fails(cli: FlaskCliRunner) -> None:
    result = cli.invoke(args=["tokens", "revoke", "999999"])
    assert result.exit_code == 1
    assert "no API token" in result.output


def test_tokens_of_a_disabled_user_stop_working(
    cli: FlaskCliRunner, db: Session, user: User
) -> None:
    value = create_token(cli, user.email)
    assert cli.invoke(args=["users", "disable", user.email]).exit_code == 0
    db.expire_all()
    assert tokens.user_for(db, value) is None
