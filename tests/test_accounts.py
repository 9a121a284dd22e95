"""Creating and changing accounts: the service's rules, its audit entries, and the
``users`` commands."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from auth import accounts, tokens
from auth.models import AuditEvent, User, UserSession
from auth.passwords import verify_password
from tests.factories import LoginAs, UserFactory

PASSWORD = "a long enough passphrase 42"
VALID: dict[str, Any] = {
    "email": "new.officer@un.org",
    "role": "mission",
    "missions": ["MINUSMA"],
    "state": None,
    "password": PASSWORD,
}


def count(db: Session, model: type[Any]) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def audit_entries(db: Session, action: str) -> list[AuditEvent]:
    return list(
        db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"email": "not-an-email"}, "email", "valid email address"),
        ({"email": "someone@nodot"}, "email", "valid email address"),
        ({"email": ""}, "email", "valid email address"),
        ({"role": "superuser"}, "role", "Choose one of the roles"),
        ({"role": "member_state", "missions": []}, "state", "needs a State"),
        ({"role": "member_state", "missions": [], "state": "ZZZ"}, "state", "Unknown country"),
        ({"role": "member_state", "missions": [], "state": "Chad"}, "state", "Unknown country"),
        ({"role": "analyst", "missions": [], "state": "TCD"}, "state", "Only Member State"),
        ({"role": "admin", "missions": [], "state": "TCD"}, "state", "Only Member State"),
        ({"missions": []}, "missions", "at least one mission"),
        ({"missions": ["MINUSMA", "NOPE"]}, "missions", "Unknown mission: NOPE"),
        ({"role": "analyst"}, "missions", "Only mission officers"),
        ({"role": "member_state", "state": "TCD"}, "missions", "Only mission officers"),
        ({"password": "short"}, "password", "at least 8"),
        ({"password": "x" * 129}, "password", "at most 128"),
        ({"password": "password1"}, "password", "too common"),
        ({"password": "new.officer@un.org"}, "password", "too common"),
        ({"totp_secret": "not base32 at all!"}, "totp_secret", "base32"),
        ({"totp_secret": "JBSWY3DP"}, "totp_secret", "base32"),
        ({"totp_secret": "JBSWY3DPEHPK3PX1"}, "totp_secret", "base32"),
    ],
)
def test_invalid_input_names_the_field_and_creates_nothing(
    db: Session, changes: dict[str, Any], field: str, reason: str
) -> None:
    users, events = count(db, User), count(db, AuditEvent)
    with pytest.raises(accounts.AccountError) as raised:
        accounts.create_user(db, **{**VALID, **changes})
    assert reason in raised.value.problems[field]
    assert (count(db, User), count(db, AuditEvent)) == (users, events)


def test_every_problem_is_reported_at_once(db: Session) -> None:
    with pytest.raises(accounts.AccountError) as raised:
        accounts.create_user(
            db, email="bad", role="member_state", missions=["MINUSMA"], state="",
            password="short", totp_secret="123",
        )  # fmt: skip
    assert set(raised.value.problems) == {"email", "missions", "state", "password", "totp_secret"}


def test_duplicate_email_ignores_case_and_spaces(db: Session, make_user: UserFactory) -> None:
    make_user("analyst", email="taken@capdb.test")
    with pytest.raises(accounts.AccountError) as raised:
        accounts.create_user(db, **{**VALID, "email": "  Taken@CAPDB.test "})
    assert "already exists" in raised.value.problems["email"]


def test_create_stores_a_normalised_account_and_audits_it(db: Session) -> None:
    user = accounts.create_user(
        db, **{**VALID, "email": " New.Officer@UN.org ", "missions": ["unmiss", "MINUSMA"]}
    )
    assert user.email == "new.officer@un.org"
    assert user.mission_codes == {"MINUSMA", "UNMISS"}
    assert user.active
    assert user.totp_secret is None
    assert user.password_hash != PASSWORD
    assert verify_password(user.password_hash, PASSWORD)
    (entry,) = audit_entries(db, "create")
    assert (entry.actor, entry.user_id) == ("system", None)
    assert (entry.target_type, entry.target_id) == ("users", str(user.id))
    assert entry.detail["missions"] == ["MINUSMA", "UNMISS"]
    assert entry.detail["totp"] == "pending"
    assert PASSWORD not in str(entry.detail)
    assert user.password_hash not in str(entry.detail)


def test_create_by_an_admin_names_the_admin(db: Session, make_user: UserFactory) -> None:
    admin = make_user("admin")
    user = accounts.create_user(
        db, **{**VALID, "role": "member_state", "missions": [], "state": "tcd"}, by=admin
    )
    assert user.state_code == "TCD"
    (entry,) = audit_entries(db, "create")
    assert (entry.actor, entry.user_id) == (admin.email, admin.id)


def test_a_totp_secret_is_kept_in_canonical_form_and_never_audited(db: Session) -> None:
    user = accounts.create_user(db, **VALID, totp_secret="jbsw y3dp ehpk 3pxp====")
    assert user.totp_secret == "JBSWY3DPEHPK3PXP"
    (entry,) = audit_entries(db, "create")
    assert entry.detail["totp"] == "set"
    assert "JBSWY3DP" not in str(entry.detail)


def edit(db: Session, user: User, by: User | None = None, **changes: Any) -> User:
    values: dict[str, Any] = {
        "role": user.role,
        "missions": sorted(user.mission_codes),
        "state": user.state_code,
        "active": user.active,
        "expected_version": user.version,
        "by": by,
    }
    return accounts.update_user(db, user, **{**values, **changes})


def test_update_audits_the_permission_change(db: Session, make_user: UserFactory) -> None:
    admin, user = make_user("admin"), make_user("mission", missions=("MINUSMA",))
    edit(db, user, admin, role="member_state", missions=[], state="MLI")
    assert (user.role, user.state_code, user.mission_codes) == ("member_state", "MLI", frozenset())
    (entry,) = audit_entries(db, "permission_change")
    assert (entry.actor, entry.user_id, entry.target_id) == (admin.email, admin.id, str(user.id))
    assert entry.detail == {
        "before": {"role": "mission", "missions": ["MINUSMA"], "state": None, "active": True},
        "after": {"role": "member_state", "missions": [], "state": "MLI", "active": True},
    }


def test_update_without_a_change_writes_nothing(db: Session, make_user: UserFactory) -> None:
    user = make_user("analyst")
    version = user.version
    edit(db, user)
    assert user.version == version
    assert audit_entries(db, "permission_change") == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"role": "mission", "missions": []}, "missions"),
        ({"role": "analyst", "state": "TCD"}, "state"),
        ({"role": "nobody"}, "role"),
        ({"missions": ["MINUSMA"]}, "missions"),
    ],
)
def test_update_validates_like_create(
    db: Session, make_user: UserFactory, changes: dict[str, Any], field: str
) -> None:
    user = make_user("analyst")
    with pytest.raises(accounts.AccountError) as raised:
        edit(db, user, **changes)
    assert field in raised.value.problems
    assert (user.role, user.mission_codes, user.state_code) == ("analyst", frozenset(), None)
    assert audit_entries(db, "permission_change") == []


def test_a_stale_version_is_refused(db: Session, make_user: UserFactory) -> None:
    user = make_user("mission", missions=("MINUSMA",))
    loaded_at = user.version
    edit(db, user, missions=["MINUSMA", "UNMISS"])  # only the bindings change...
    assert user.version == loaded_at + 1  # ...and still the version moves on
    with pytest.raises(accounts.StaleEditError, match="changed this account"):
        edit(db, user, missions=["MONUSCO"], expected_version=loaded_at)
    assert user.mission_codes == {"MINUSMA", "UNMISS"}


def test_a_concurrent_change_is_refused_at_write_time(db: Session, make_user: UserFactory) -> None:
    user = make_user("analyst")
    db.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(version=User.version + 1)
        .execution_options(synchronize_session=False)
    )
    with pytest.raises(accounts.StaleEditError):
        edit(db, user, active=False)


def test_admins_cannot_lock_themselves_out(db: Session, make_user: UserFactory) -> None:
    admin = make_user("admin")
    with pytest.raises(accounts.AccountError) as raised:
        accounts.set_active(db, admin, False, by=admin)
    assert "your own account" in raised.value.problems["active"]
    with pytest.raises(accounts.AccountError) as raised:
        edit(db, admin, admin, role="analyst")
    assert "your own role" in raised.value.problems["role"]
    assert admin.active
    assert admin.role == "admin"


def test_disabling_ends_sessions_and_tokens(
    db: Session, client: FlaskClient, login_as: LoginAs, make_user: UserFactory
) -> None:
    user = make_user("analyst")
    _token, value = tokens.create(db, user)
    login_as(user=user)
    assert client.get("/incidents/").status_code == 200
    assert tokens.user_for(db, value) is user

    accounts.set_active(db, user, False, by=make_user("admin"))
    db.flush()
    assert client.get("/incidents/").location.startswith("/auth/login")
    assert tokens.user_for(db, value) is None
    ended = db.scalars(sa.select(UserSession.ended_at).where(UserSession.user_id == user.id))
    assert None not in set(ended)
    (entry,) = audit_entries(db, "permission_change")
    assert entry.detail["after"]["active"] is False

    accounts.set_active(db, user, True, by=None)
    db.flush()
    assert client.get("/incidents/").status_code == 302  # the old session stays ended
    assert tokens.user_for(db, value) is None  # and the token stays revoked


def test_list_gives_the_last_sign_in(
    db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    signed_in, never = login_as("analyst"), make_user("analyst")
    rows = {row.user.id: row.last_login for row in accounts.list_users(db)}
    assert rows[never.id] is None
    last = rows[signed_in.id]
    assert last is not None
    assert last.tzinfo is not None


# The `users` commands.


def create_command(*args: str) -> list[str]:
    return ["users", "create", *args, "--password-stdin"]


def test_cli_create_reads_the_password_from_stdin(cli: FlaskCliRunner, db: Session) -> None:
    result = cli.invoke(
        args=create_command("Focal@Example.org", "--role", "member_state", "--state", "TCD"),
        input=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert "focal@example.org" in result.output
    user = accounts.find_user(db, "focal@example.org")
    assert user is not None
    assert user.state_code == "TCD"
    assert verify_password(user.password_hash, PASSWORD)
    assert user.totp_secret is None
    assert "first sign-in" in result.output


def test_cli_create_takes_missions_and_a_totp_secret(cli: FlaskCliRunner, db: Session) -> None:
    args = create_command("officer@example.org", "--role", "mission")
    args += ["--mission", "MINUSMA", "--mission", "UNMISS", "--totp-secret", "JBSWY3DPEHPK3PXP"]
    result = cli.invoke(args=args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    user = accounts.find_user(db, "officer@example.org")
    assert user is not None
    assert (user.mission_codes, user.totp_secret) == (
        frozenset({"MINUSMA", "UNMISS"}),
        "JBSWY3DPEHPK3PXP",
    )
    (entry,) = audit_entries(db, "create")
    assert entry.actor == "system"


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--role", "mission"], PASSWORD, "at least one mission"),
        (["--role", "member_state", "--state", "XYZ"], PASSWORD, "Unknown country code"),
        (["--role", "root"], PASSWORD, "Choose one of the roles"),
        (["--role", "analyst", "--mission", "MINUSMA"], PASSWORD, "Only mission officers"),
        (["--role", "analyst"], "Zx9!kq", "at least 8"),
        (["--role", "analyst", "--totp-secret", "abc"], PASSWORD, "base32"),
    ],
)
def test_cli_create_refuses_invalid_input(
    cli: FlaskCliRunner, db: Session, args: list[str], password: str, message: str
) -> None:
    users = count(db, User)
    result = cli.invoke(args=create_command("x@example.org", *args), input=password + "\n")
    assert result.exit_code == 1
    assert message in result.output
    assert password not in result.output
    assert count(db, User) == users


def test_cli_create_refuses_a_duplicate(cli: FlaskCliRunner, make_user: UserFactory) -> None:
    make_user("analyst", email="taken@example.org")
    result = cli.invoke(
        args=create_command("TAKEN@example.org", "--role", "analyst"), input=PASSWORD + "\n"
    )
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_cli_create_needs_the_password_on_stdin(cli: FlaskCliRunner, db: Session) -> None:
    result = cli.invoke(args=["users", "create", "x@example.org", "--role", "analyst"])
    assert result.exit_code == 1
    assert "--password-stdin" in result.output
    assert accounts.find_user(db, "x@example.org") is None


def test_cli_disable_and_enable(
    cli: FlaskCliRunner, db: Session, make_user: UserFactory, login_as: LoginAs
) -> None:
    user = login_as("analyst")
    result = cli.invoke(args=["users", "disable", user.email.upper()])
    assert result.exit_code == 0, result.output
    assert is_active(db, user) is False
    live = db.scalars(sa.select(UserSession).where(UserSession.user_id == user.id))
    assert all(s.ended_at is not None for s in live)
    assert "already disabled" in cli.invoke(args=["users", "disable", user.email]).output

    result = cli.invoke(args=["users", "enable", user.email])
    assert result.exit_code == 0, result.output
    assert is_active(db, user) is True
    assert [e.actor for e in audit_entries(db, "permission_change")] == ["system", "system"]


def is_active(db: Session, user: User) -> bool | None:
    return db.scalar(sa.select(User.active).where(User.id == user.id))


def test_cli_disable_an_unknown_account_fails(cli: FlaskCliRunner) -> None:
    result = cli.invoke(args=["users", "disable", "nobody@example.org"])
    assert result.exit_code == 1
    assert "no account" in result.output


def test_cli_list_gives_one_line_per_user(cli: FlaskCliRunner, make_user: UserFactory) -> None:
    make_user("mission", email="m@example.org", missions=("MINUSMA", "UNMISS"))
    make_user("member_state", email="s@example.org", state="SEN", totp_secret=None)
    make_user("analyst", email="a@example.org", active=False)
    result = cli.invoke(args=["users", "list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split() for line in result.output.splitlines()}
    assert lines["m@example.org"] == [
        "m@example.org",
        "mission",
        "MINUSMA,UNMISS",
        "active",
        "totp",
    ]
    assert lines["s@example.org"] == ["s@example.org", "member_state", "SEN", "active", "no-totp"]
    assert lines["a@example.org"] == ["a@example.org", "analyst", "-", "disabled", "totp"]
