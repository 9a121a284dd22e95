"""Every list and export shows how many incidents the filter finds, within the viewer's scope:
exactly up to 10,000, "more than" beyond unless the exact count is asked for; exactly at
any size where the sums kept for maps and trends answer the filter."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from auth import tokens
from incidents import totals
from tests.factories import IncidentFactory, LoginAs, UserFactory

CUT = "date_from=2000-01-02"  # after the 1st of a month: no sum kept by month answers it


@pytest.fixture
def three_and_a_draft(make_incident: IncidentFactory) -> None:
    for _ in range(3):
        make_incident()
    make_incident(status="draft")
    make_incident(mission_code="MONUSCO", country_code="COD", place="Beni")


def test_the_list_counts_what_the_viewer_may_see(
    client: FlaskClient, login_as: LoginAs, three_and_a_draft: None
) -> None:
    login_as("member_state", state="MLI")
    assert '<p class="total" id="total">3 incidents' in client.get("/incidents/").text
    login_as("mission", missions=("MINUSMA",))
    assert '<p class="total" id="total">4 incidents' in client.get("/incidents/?q=").text
    assert "1 incident<" in client.get("/incidents/?status=draft").text
    login_as("analyst")
    assert "5 incidents" not in client.get("/incidents/").text
    assert '<p class="total" id="total">4 incidents' in client.get("/incidents/").text


def test_above_the_limit_the_total_says_more_than_and_counts_exactly_on_request(
    client: FlaskClient,
    login_as: LoginAs,
    three_and_a_draft: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(totals, "EXACT_UP_TO", 2)
    login_as("analyst")
    # The kept sums answer whole months only: a day within one is counted from the list.
    page = client.get(f"/incidents/?mission=MINUSMA&{CUT}").text
    assert "More than 2 incidents" in page
    assert f'href="/incidents/?sort=-date&amp;count=exact&amp;mission=MINUSMA&amp;{CUT}"' in page
    exact = client.get(f"/incidents/?mission=MINUSMA&{CUT}&count=exact").text
    assert '<p class="total" id="total">3 incidents' in exact
    kept = client.get("/incidents/?mission=MINUSMA").text
    assert '<p class="total" id="total">3 incidents' in kept
    refused = client.get("/incidents/?count=all")
    assert refused.status_code == 400
    assert 'href="#f-count"' in refused.text
    french = client.get(f"/incidents/?{CUT}", headers={"Accept-Language": "fr"}).text
    assert "Plus de 2 incidents" in french
    assert "Les compter exactement" in french


def test_the_api_and_the_exports_give_the_total(
    client: FlaskClient,
    make_user: UserFactory,
    three_and_a_draft: None,
    db: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = make_user("member_state", state="MLI")
    bearer = {"Authorization": f"Bearer {tokens.create(db, user)[1]}"}  # type: ignore[arg-type]
    listed = client.get("/api/v1/incidents?per_page=1", headers=bearer).json
    assert listed is not None
    assert (len(listed["items"]), listed["total"], listed["total_exact"]) == (1, 3, True)
    monkeypatch.setattr(totals, "EXACT_UP_TO", 2)
    capped = client.get(f"/api/v1/incidents?{CUT}", headers=bearer).json
    assert capped is not None
    assert (capped["total"], capped["total_exact"]) == (2, False)
    kept = client.get("/api/v1/incidents", headers=bearer).json
    assert kept is not None
    assert (kept["total"], kept["total_exact"]) == (3, True)
    exact = client.get(f"/api/v1/incidents?count=exact&{CUT}", headers=bearer).json
    assert exact is not None
    assert (exact["total"], exact["total_exact"]) == (3, True)
    bad = client.get("/api/v1/incidents?count=all", headers=bearer)
    assert bad.status_code == 400
    assert bad.json is not None
    assert set(bad.json["errors"]) == {"count"}
    exported = client.get("/api/v1/incidents/export.csv", headers=bearer)
    assert exported.headers["X-Total-Count"] == "3"
    assert exported.data.decode("utf-8-sig").count("\n") == 4  # the header and 3 rows
