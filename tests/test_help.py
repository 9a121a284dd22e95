"""Help: a page per role in English and French, linked from every page's header, whose
table of who sees and does what is the access rule's own answers."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from incidents.help import rules
from tests.factories import LoginAs


def row(page: str, question: str) -> list[str]:
    """The answers of a row of the table, one per role, as shown."""
    found = re.search(rf"<th scope=\"row\">{re.escape(question)}</th>(.*?)</tr>", page, re.S)
    assert found is not None, question
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", found.group(1), re.S)
    ]


@pytest.mark.parametrize(
    ("role", "bindings", "title"),
    [
        ("mission", {"missions": ("MINUSMA",)}, "Help: Mission officer"),
        ("member_state", {"state": "MLI"}, "Help: Member State focal point"),
        ("analyst", {}, "Help: HQ analyst"),
        ("admin", {}, "Help: Administrator"),
    ],
)
def test_each_role_gets_its_help_in_both_languages(
    client: FlaskClient, login_as: LoginAs, role: str, bindings: dict[str, object], title: str
) -> None:
    login_as(role, **bindings)
    page = client.get("/help/")
    assert page.status_code == 200
    assert title in page.text
    assert '<a href="/help/">Help</a>' in page.text  # in the header
    french = client.get("/help/", headers={"Accept-Language": "fr"}).text
    assert "Qui voit et fait quoi" in french
    assert "Brouillon" in french


def test_the_table_is_the_policys_answers(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    page = client.get("/help/member_state").text
    # Columns: mission officer, focal point, analyst, administrator.
    assert row(page, "Open a judicial case on an incident") == [
        "Yes", "Yes, pending validation", "No", "Yes"
    ]  # fmt: skip
    assert row(page, "See the names of other victims") == ["Yes", "No", "No", "Yes"]
    assert row(page, "Share saved views with the analysts") == ["No", "No", "Yes", "No"]
    assert len(rules.table()) == len(rules.RULES)
    assert client.get("/help/nobody").status_code == 404


def test_every_page_links_to_help(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("member_state", state="TCD")
    for path in ("/", "/incidents/", "/maps/", "/trends/", "/views/", "/no-such-page"):
        assert '<a href="/help/">Help</a>' in client.get(path).text, path
