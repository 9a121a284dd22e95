"""``/``: the sign-in page to visitors, each role's home to signed-in users, with the block
where its work queues go."""

from __future__ import annotations

import re

import pyotp
import pytest
from flask.testing import FlaskClient

from tests.factories import TEST_PASSWORD, TEST_TOTP_SECRET, LoginAs, UserFactory
from tests.test_i18n import csrf_token


def links(page: str) -> list[str]:
    tasks = re.search(r'<ul class="tasks">(.*?)</ul>', page, re.S)
    assert tasks is not None
    return re.findall(r'<a href="([^"]+)">', tasks.group(1))


@pytest.mark.parametrize(
    ("role", "bindings", "role_label", "first"),
    [
        ("mission", {"missions": ("MINUSMA",)}, "Mission officer", "/incidents/new"),
        ("member_state", {"state": "TCD"}, "Member State focal point", "/incidents/"),
        ("analyst", {}, "HQ analyst", "/incidents/"),
        ("admin", {}, "Administrator", "/incidents/new"),
    ],
)
def test_each_role_has_its_home(
    client: FlaskClient,
    login_as: LoginAs,
    role: str,
    bindings: dict[str, object],
    role_label: str,
    first: str,
) -> None:
    user = login_as(role, **bindings)
    page = client.get("/")
    assert page.status_code == 200
    assert f"You are signed in as {user.email} ({role_label})." in page.text
    assert 'id="work-queues"' in page.text
    assert links(page.text)[0] == first
    assert ("/admin/users" in links(page.text)) == (role == "admin")
    if role == "member_state":
        assert "Incidents concerning Chad" in page.text


def test_signing_in_from_the_home_page_leads_to_the_home_page(
    client: FlaskClient, make_user: UserFactory
) -> None:
    user = make_user("member_state", state="MLI")
    page = client.get("/")
    assert "Sign in" in page.text
    posted = client.post(
        "/auth/login",
        data={"csrf_token": csrf_token(page.text), "email": user.email, "password": TEST_PASSWORD},
    )
    assert posted.location == "/auth/mfa"
    mfa = client.get("/auth/mfa")
    code = pyotp.TOTP(TEST_TOTP_SECRET).now()
    signed_in = client.post("/auth/mfa", data={"csrf_token": csrf_token(mfa.text), "code": code})
    assert signed_in.location == "/"
    assert "Incidents concerning Mali" in client.get("/").text
