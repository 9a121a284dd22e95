"""The account administration pages: who reaches them, and what they refuse."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth import accounts
from auth.models import AuditEvent, User, UserSession
from auth.passwords import verify_password
from tests.factories import LoginAs, UserFactory
from tests.test_i18n import csrf_token

NEW = "/admin/users/new"
PASSWORD = "a long enough passphrase 42"


def page_of(user: User) -> str:
    return f"/admin/users/{user.id}"


def post_form(client: FlaskClient, path: str, data: dict[str, Any]) -> TestResponse:
    """Post as the browser would: with the CSRF token of the form's own page."""
    token = csrf_token(client.get(path).text)
    return client.post(path, data={**data, "csrf_token": token})


def post_action(client: FlaskClient, path: str) -> TestResponse:
    token = csrf_token(client.get("/admin/users").text)
    return client.post(path, data={"csrf_token": token})


def error_of(page: str, field: str) -> str:
    """The reason shown next to a field, or "" when there is none."""
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)) if match else ""


def count_users(db: Session) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def admin_routes(app: Flask) -> list[tuple[str, str]]:
    """Every (method, rule) of the admin blueprint."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


@pytest.mark.parametrize("role", ["mission", "member_state", "analyst"])
def test_only_admins_reach_any_admin_page(
    app: Flask, client: FlaskClient, login_as: LoginAs, make_user: UserFactory, role: str
) -> None:
    target = make_user("analyst")
    login_as(role)
    token = csrf_token(client.get("/auth/password").text)
    routes = admin_routes(app)
    assert len(routes) >= 7
    for method, rule in routes:
        path = rule.replace("<int:user_id>", str(target.id))
        response = client.open(path, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (method, path)


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login")


def test_list_shows_accounts_and_their_bindings(
    client: FlaskClient, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("admin")
    make_user("member_state", email="focal@example.org", state="SEN", totp_secret=None)
    make_user("mission", email="officer@example.org", missions=("MINUSMA", "UNMISS"))
    page = client.get("/admin/users", headers={"Accept-Language": "fr"}).text
    assert "focal@example.org" in page
    assert "Sénégal" in page
    assert "MINUSMA, UNMISS" in page
    assert "Point focal d&#39;un État Membre" in page


def test_new_user_form_speaks_the_readers_language(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("admin")
    page = client.get(NEW, headers={"Accept-Language": "fr"}).text
    assert '<option value="admin">Administrateur</option>' in page
    assert '<option value="TCD">Tchad</option>' in page
    assert 'value="MINUSMA"' in page
    page = client.get(NEW, headers={"Accept-Language": "en"}).text
    assert '<option value="admin">Administrator</option>' in page
    assert '<option value="TCD">Chad</option>' in page


def test_invalid_create_shows_each_reason_and_creates_nothing(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("admin")
    users = count_users(db)
    data = {"email": "bad", "role": "member_state", "missions": "MINUSMA", "password": "short"}
    response = post_form(client, NEW, data)
    assert response.status_code == 422
    page = response.text
    assert "valid email address" in error_of(page, "email")
    assert "Only mission officers" in error_of(page, "missions")
    assert "needs a State" in error_of(page, "state")
    assert "at least 8" in error_of(page, "password")
    assert error_of(page, "role") == ""
    assert 'class="error-summary"' in page
    assert count_users(db) == users


def test_invalid_role_and_unknown_state_are_refused(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("admin")
    page = post_form(client, NEW, {"email": "x@example.org", "role": "god", "password": PASSWORD})
    assert "Choose one of the roles" in error_of(page.text, "role")
    data = {"email": "x@example.org", "role": "member_state", "state": "ZZZ", "password": PASSWORD}
    page = post_form(client, NEW, data)
    assert "Unknown country code" in error_of(page.text, "state")
    assert accounts.find_user(db, "x@example.org") is None


def test_valid_create_makes_the_account(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    admin = login_as("admin")
    data = {
        "email": "Officer@Example.org",
        "role": "mission",
        "missions": ["MINUSMA", "UNMISS"],
        "state": "",
        "password": PASSWORD,
        # Fields the form does not have are ignored.
        "id": "999999",
        "active": "",
        "totp_secret": "JBSWY3DPEHPK3PXP",
        "password_hash": "forged",
    }
    response = post_form(client, NEW, data)
    assert response.status_code == 302
    assert response.location == "/admin/users"
    user = accounts.find_user(db, "officer@example.org")
    assert user is not None
    assert user.mission_codes == {"MINUSMA", "UNMISS"}
    assert user.active
    assert user.totp_secret is None
    assert user.id != 999999
    assert verify_password(user.password_hash, PASSWORD)
    entry = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "create")).one()
    assert (entry.actor, entry.target_id) == (admin.email, str(user.id))
    assert "officer@example.org" in client.get("/admin/users").text


def edit_data(user: User, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "role": user.role,
        "missions": sorted(user.mission_codes),
        "state": user.state_code or "",
        "active": "y" if user.active else "",
        "version": str(user.version),
    }
    return {key: value for key, value in {**values, **changes}.items() if value != ""}


def test_edit_changes_role_and_bindings(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    admin = login_as("admin")
    user = make_user("mission", missions=("MINUSMA",))
    page = client.get(page_of(user)).text
    assert f'name="version" type="hidden" value="{user.version}"' in page
    data = edit_data(user, role="member_state", missions=[], state="MLI")
    response = post_form(client, page_of(user), data)
    assert response.status_code == 302, response.text
    db.refresh(user)
    assert (user.role, user.state_code, user.mission_codes) == ("member_state", "MLI", frozenset())
    entry = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "permission_change")).one()
    assert entry.actor == admin.email
    assert entry.detail["after"]["state"] == "MLI"


def test_invalid_edit_shows_the_reason_and_changes_nothing(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("admin")
    user = make_user("analyst")
    response = post_form(client, page_of(user), edit_data(user, role="mission"))
    assert response.status_code == 422
    assert "at least one mission" in error_of(response.text, "missions")
    db.refresh(user)
    assert user.role == "analyst"


def test_a_stale_edit_is_refused_with_a_clear_message(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    admin = login_as("admin")
    user = make_user("mission", missions=("MINUSMA",))
    loaded = edit_data(user, missions=["MONUSCO"])
    accounts.update_user(
        db, user, role="mission", missions=["UNMISS"], state=None, active=True,
        expected_version=user.version, by=admin,
    )  # fmt: skip
    db.flush()
    response = post_form(client, page_of(user), loaded)
    assert response.status_code == 409
    assert "Someone else changed this account" in html.unescape(response.text)
    # The form now shows what is stored, at the current version.
    assert f'name="version" type="hidden" value="{user.version}"' in response.text
    db.refresh(user)
    assert user.mission_codes == {"UNMISS"}


def test_a_missing_version_counts_as_stale(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("admin")
    user = make_user("analyst")
    data = edit_data(user, active="")
    del data["version"]
    assert post_form(client, page_of(user), data).status_code == 409
    db.refresh(user)
    assert user.active


def test_edit_ignores_fields_it_does_not_have(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("admin")
    user = make_user("analyst", email="target@example.org")
    before = (user.id, user.email, user.password_hash, user.totp_secret, user.created_at)
    forged = {
        "id": "1",
        "email": "attacker@example.org",
        "password_hash": "forged",
        "totp_secret": "AAAAAAAAAAAAAAAA",
        "totp_last_step": "0",
        "created_at": "2000-01-01",
    }
    response = post_form(client, page_of(user), {**edit_data(user), **forged})
    assert response.status_code == 302
    db.refresh(user)
    assert (user.id, user.email, user.password_hash, user.totp_secret, user.created_at) == before
    assert accounts.find_user(db, "attacker@example.org") is None


def test_posts_without_csrf_are_refused(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("admin")
    user = make_user("analyst")
    users = count_users(db)
    new = {"email": "x@example.org", "role": "analyst", "password": PASSWORD}
    assert client.post(NEW, data=new).status_code == 400
    assert client.post(page_of(user), data=edit_data(user, role="admin")).status_code == 400
    assert client.post(page_of(user) + "/disable").status_code == 400
    db.refresh(user)
    assert (user.role, user.active, count_users(db)) == ("analyst", True, users)


def test_disable_and_enable_are_posts_that_end_sessions(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("admin")
    user = make_user("analyst")
    db.add(UserSession(token_hash="0" * 64, user_id=user.id))
    db.flush()
    assert client.get(page_of(user) + "/disable").status_code == 405
    assert is_active(db, user) is True

    response = post_action(client, page_of(user) + "/disable")
    assert response.status_code == 302
    assert is_active(db, user) is False
    ended = db.scalars(sa.select(UserSession.ended_at).where(UserSession.user_id == user.id))
    assert None not in set(ended)
    assert "was disabled" in client.get("/admin/users").text

    post_action(client, page_of(user) + "/enable")
    assert is_active(db, user) is True


def is_active(db: Session, user: User) -> bool | None:
    return db.scalar(sa.select(User.active).where(User.id == user.id))


def test_admins_cannot_disable_themselves(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    admin = login_as("admin")
    response = post_action(client, page_of(admin) + "/disable")
    assert response.status_code == 302
    assert "cannot disable your own account" in client.get("/admin/users").text
    response = post_form(client, page_of(admin), edit_data(admin, active=""))
    assert response.status_code == 422
    assert "cannot disable your own account" in error_of(response.text, "active")
    db.refresh(admin)
    assert admin.active


def test_unknown_accounts_are_not_found(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("admin")
    assert client.get("/admin/users/999999").status_code == 404
    assert post_action(client, "/admin/users/999999/disable").status_code == 404
    assert post_action(client, "/admin/users/999999/enable").status_code == 404
