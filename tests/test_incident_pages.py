"""The incident list and page, as each kind of user sees them."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import AuditEvent
from incidents.models import Incident, Victim
from tests.factories import IncidentFactory, LoginAs
from tests.test_i18n import csrf_token


@pytest.fixture
def incidents(db: Session, make_incident: IncidentFactory) -> dict[str, Incident]:
    made = {
        "mali": make_incident(reference="MINUSMA-2021-0001", occurred_on=date(2021, 1, 5)),
        "mali-draft": make_incident(reference="MINUSMA-2021-0002", status="draft"),
        "drc": make_incident(
            reference="MONUSCO-2020-0001",
            mission_code="MONUSCO",
            country_code="COD",
            occurred_on=date(2020, 6, 1),
            means_of_attack="small_arms",
        ),
    }
    db.add(
        Victim(
            incident=made["mali"],
            category="contingent_military",
            nationality_code="TCD",
            contributing_country_code="TCD",
            outcome="killed",
            date_of_death=date(2021, 1, 5),
            name="Mahamat Secret",
        )
    )
    db.flush()
    return made


def listed(client: FlaskClient, query: str = "") -> str:
    response = client.get(f"/incidents/{query}")
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.parametrize(
    ("role", "bindings", "expected"),
    [
        ("admin", {}, {"MINUSMA-2021-0001", "MINUSMA-2021-0002", "MONUSCO-2020-0001"}),
        ("analyst", {}, {"MINUSMA-2021-0001", "MONUSCO-2020-0001"}),
        ("mission", {"missions": ("MINUSMA",)}, {"MINUSMA-2021-0001", "MINUSMA-2021-0002"}),
        ("member_state", {"state": "TCD"}, {"MINUSMA-2021-0001"}),
        ("member_state", {"state": "BRA"}, set()),
    ],
)
def test_the_list_shows_exactly_what_the_access_rule_allows(
    client: FlaskClient,
    login_as: LoginAs,
    incidents: dict[str, Incident],
    role: str,
    bindings: dict[str, object],
    expected: set[str],
) -> None:
    login_as(role, **bindings)
    page = listed(client)
    shown = {i.reference for i in incidents.values() if i.reference in page}
    assert shown == expected


def test_the_list_filters_sorts_and_pages(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    login_as("admin")
    for day in range(1, 61):
        make_incident(
            reference=f"MINUSMA-2022-{day:04d}",
            occurred_on=date(2022, 1, 1).replace(day=1 + day % 28, month=1 + day // 28),
        )
    first = listed(client, "?mission=MINUSMA&sort=reference")
    assert first.index("MINUSMA-2022-0001") < first.index("MINUSMA-2022-0002")
    assert 'rel="next"' in first
    next_link = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_link).text
    assert "MINUSMA-2022-0051" in second
    assert "MINUSMA-2022-0001" not in second
    assert 'rel="next"' not in second


def test_a_bad_filter_is_explained_not_a_500(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    response = client.get("/incidents/?date_from=yesterday&mission=NOPE&cursor=%%%&sort=size")
    assert response.status_code == 400
    assert "Enter a date as YYYY-MM-DD." in response.text
    assert "Unknown mission." in response.text
    assert "Unknown sort order." in response.text


@pytest.mark.parametrize(
    ("role", "bindings", "target", "status"),
    [
        ("analyst", {}, "mali-draft", 404),
        ("member_state", {"state": "BRA"}, "mali", 404),
        ("member_state", {"state": "TCD"}, "drc", 404),
        ("mission", {"missions": ("MONUSCO",)}, "mali", 404),
        ("member_state", {"state": "TCD"}, "mali", 200),
        ("mission", {"missions": ("MINUSMA",)}, "mali-draft", 200),
    ],
)
def test_an_incident_out_of_scope_is_not_found(
    client: FlaskClient,
    login_as: LoginAs,
    incidents: dict[str, Incident],
    role: str,
    bindings: dict[str, object],
    target: str,
    status: int,
) -> None:
    login_as(role, **bindings)
    incident_id = incidents[target].id
    assert client.get(f"/incidents/{incident_id}").status_code == status
    assert client.get("/incidents/999999").status_code == 404
    assert client.get("/incidents/3000000000").status_code == 404
    assert client.get("/incidents/99999999999999999999").status_code == 404


@pytest.mark.parametrize(
    ("role", "bindings", "sees_name"),
    [
        ("member_state", {"state": "TCD"}, True),
        ("member_state", {"state": "MLI"}, False),
        ("analyst", {}, False),
        ("mission", {"missions": ("MINUSMA",)}, True),
    ],
)
def test_victims_names_are_absent_from_the_page_unless_allowed(
    client: FlaskClient,
    login_as: LoginAs,
    incidents: dict[str, Incident],
    role: str,
    bindings: dict[str, object],
    sees_name: bool,
) -> None:
    login_as(role, **bindings)
    page = client.get(f"/incidents/{incidents['mali'].id}").text
    assert ("Mahamat Secret" in page) is sees_name
    assert "Contingent military" in page


def test_member_state_views_are_audited(
    client: FlaskClient, login_as: LoginAs, incidents: dict[str, Incident], db: Session
) -> None:
    chad = login_as("member_state", state="TCD")
    client.get(f"/incidents/{incidents['mali'].id}")
    views = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "view", AuditEvent.user_id == chad.id)
    ).all()
    assert [(v.target_type, v.target_id) for v in views] == [
        ("incidents", str(incidents["mali"].id))
    ]


def test_history_shows_changes_and_restores_a_version(
    client: FlaskClient, login_as: LoginAs, incidents: dict[str, Incident], db: Session
) -> None:
    login_as("mission", missions=("MINUSMA",))
    incident = incidents["mali"]
    incident.place = "Tessalit"
    db.flush()
    page = client.get(f"/incidents/{incident.id}/history").text
    assert "Aguelhok" in page
    assert "Tessalit" in page
    stale = client.post(
        f"/incidents/{incident.id}/history/1/restore",
        data={"csrf_token": csrf_token(page), "current_version": "1"},
    )
    assert stale.status_code == 302
    db.refresh(incident)
    assert incident.place == "Tessalit"
    restored = client.post(
        f"/incidents/{incident.id}/history/1/restore",
        data={"csrf_token": csrf_token(page), "current_version": str(incident.version)},
    )
    assert restored.status_code == 302
    db.refresh(incident)
    assert (incident.place, incident.version) == ("Aguelhok", 3)


@pytest.mark.parametrize(
    ("role", "bindings"), [("analyst", {}), ("member_state", {"state": "TCD"})]
)
def test_history_is_for_the_mission_and_admins(
    client: FlaskClient,
    login_as: LoginAs,
    incidents: dict[str, Incident],
    role: str,
    bindings: dict[str, object],
) -> None:
    login_as(role, **bindings)
    assert client.get(f"/incidents/{incidents['mali'].id}/history").status_code == 403


def test_deletion_is_soft_and_an_admin_undoes_it(
    app: object, client: FlaskClient, login_as: LoginAs, incidents: dict[str, Incident]
) -> None:
    login_as("mission", missions=("MINUSMA",))
    incident_id = incidents["mali"].id
    token = csrf_token(client.get(f"/incidents/{incident_id}").text)
    assert (
        client.post(f"/incidents/{incident_id}/delete", data={"csrf_token": token}).status_code
        == 302
    )
    assert client.get(f"/incidents/{incident_id}").status_code == 404
    assert client.get("/incidents/deleted").status_code == 403
    login_as("admin")
    trash = client.get("/incidents/deleted").text
    assert "MINUSMA-2021-0001" in trash
    client.post(f"/incidents/{incident_id}/undelete", data={"csrf_token": csrf_token(trash)})
    assert client.get(f"/incidents/{incident_id}").status_code == 200


def test_deleting_is_asked_twice(
    client: FlaskClient, login_as: LoginAs, incidents: dict[str, Incident]
) -> None:
    """The delete button shows only once its disclosure is opened: one click deletes nothing."""
    login_as("mission", missions=("MINUSMA",))
    incident_id = incidents["mali"].id
    page = client.get(f"/incidents/{incident_id}").text
    disclosure = re.search(r'<details class="confirm-delete">(.*?)</details>', page, re.S)
    assert disclosure is not None
    assert f'action="/incidents/{incident_id}/delete"' in disclosure.group(1)
    assert "<summary>Delete this incident…</summary>" in disclosure.group(1)
    outside = page.replace(disclosure.group(0), "")
    assert "/delete" not in outside
