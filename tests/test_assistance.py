"""Capacity-building assistance: who records it, what the form refuses, who sees which."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth.models import AuditEvent
from incidents.models import CapacityAssistance, JudicialCase, assistance_cases
from tests.factories import IncidentFactory, LoginAs
from tests.test_cases import count, new_case
from tests.test_i18n import csrf_token


def new_assistance(db: Session, **values: Any) -> CapacityAssistance:
    record = CapacityAssistance(
        **(
            {
                "recipient_state_code": "MLI",
                "mission_code": "MINUSMA",
                "kind": "training",
                "started_on": date(2022, 1, 10),
                "participants": 12,
            }
            | values
        )
    )
    db.add(record)
    db.flush()
    return record


def valid(**overrides: str) -> dict[str, str]:
    return {
        "recipient_state": "MLI",
        "mission": "MINUSMA",
        "kind": "investigators_deployed",
        "started_on": "2022-02-01",
        "ended_on": "2022-02-20",
        "participants": "25",
        "description": "Crime-scene training for the Bamako pôle judiciaire",
        "cases": "",
    } | overrides


def submit(
    client: FlaskClient, data: dict[str, str], path: str = "/assistance/new"
) -> TestResponse:
    token = csrf_token(client.get(path).text)
    return client.post(path, data={**data, "csrf_token": token})


@pytest.fixture
def minusma_case(db: Session, make_incident: IncidentFactory) -> JudicialCase:
    return new_case(db, make_incident())


@pytest.fixture
def monusco_case(db: Session, make_incident: IncidentFactory) -> JudicialCase:
    incident = make_incident(mission_code="MONUSCO", country_code="COD", reference="MONUSCO-9")
    return new_case(db, incident, state="COD")


def test_a_mission_officer_records_assistance_with_linked_cases(
    client: FlaskClient, db: Session, login_as: LoginAs, minusma_case: JudicialCase
) -> None:
    officer = login_as("mission", missions=("MINUSMA",))
    response = submit(client, valid(cases=f"#{minusma_case.id}"))
    assert response.status_code == 302
    record = db.scalars(sa.select(CapacityAssistance)).one()
    assert response.location == f"/assistance/{record.id}"
    assert (record.recipient_state_code, record.kind, record.participants) == (
        "MLI",
        "investigators_deployed",
        25,
    )
    assert (record.started_on, record.ended_on) == (date(2022, 2, 1), date(2022, 2, 20))
    assert [c.id for c in record.cases] == [minusma_case.id]
    assert db.scalar(
        sa.select(AuditEvent).where(
            AuditEvent.action == "create",
            AuditEvent.target_type == "capacity_assistance",
            AuditEvent.user_id == officer.id,
        )
    )
    page = client.get(response.location).text
    assert "pôle judiciaire" in page
    assert f'href="/cases/{minusma_case.id}"' in page


def test_every_invalid_field_is_named_and_nothing_is_saved(
    client: FlaskClient, db: Session, login_as: LoginAs, monusco_case: JudicialCase
) -> None:
    login_as("mission", missions=("MINUSMA",))
    shape = submit(
        client,
        valid(
            recipient_state="",
            kind="bribes",
            started_on="2022-13-01",
            participants="-1",
            description="x" * 5001,
        ),
    )
    assert shape.status_code == 422
    for name in ("recipient_state", "kind", "started_on", "participants", "description"):
        assert f'id="{name}-error"' in shape.text, name
    rules = [
        ({"ended_on": "2022-01-31"}, "ended_on", "The end date is before the start date."),
        ({"mission": "MONUSCO"}, "mission", "Not a valid choice"),  # not one of theirs
        ({"cases": str(monusco_case.id)}, "cases", "No case you can see has the number"),
        ({"cases": "12, abc"}, "cases", "abc is not a case number."),
        ({"participants": "100001"}, "participants", "Enter a number between 0 and 100000."),
    ]
    for overrides, name, reason in rules:
        response = submit(client, valid(**overrides))
        assert response.status_code == 422, overrides
        assert f'id="{name}-error"' in response.text, overrides
        assert reason in response.text, overrides
    assert count(db, CapacityAssistance) == 0
    assert count(db, assistance_cases) == 0


@pytest.mark.parametrize(
    ("role", "bindings", "status"),
    [("analyst", {}, 403), ("member_state", {"state": "MLI"}, 403), ("admin", {}, 302)],
)
def test_who_records_assistance(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    role: str,
    bindings: dict[str, Any],
    status: int,
) -> None:
    login_as(role, **bindings)
    token = csrf_token(client.get("/assistance/").text)
    response = client.post("/assistance/new", data={**valid(), "csrf_token": token})
    assert response.status_code == status
    assert count(db, CapacityAssistance) == (1 if status == 302 else 0)


@pytest.mark.parametrize(
    ("role", "bindings", "sees"),
    [
        ("admin", {}, {"MLI-MINUSMA", "COD-MONUSCO", "TCD-MINUSMA"}),
        ("analyst", {}, {"MLI-MINUSMA", "COD-MONUSCO", "TCD-MINUSMA"}),
        ("mission", {"missions": ("MINUSMA",)}, {"MLI-MINUSMA", "TCD-MINUSMA"}),
        ("mission", {"missions": ("MONUSCO",)}, {"COD-MONUSCO"}),
        ("member_state", {"state": "MLI"}, {"MLI-MINUSMA"}),
        ("member_state", {"state": "BRA"}, set()),
    ],
)
def test_the_list_shows_each_user_its_scope_grouped_by_recipient(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    role: str,
    bindings: dict[str, Any],
    sees: set[str],
) -> None:
    records = {
        "MLI-MINUSMA": new_assistance(db, description="MLI-MINUSMA"),
        "COD-MONUSCO": new_assistance(
            db, recipient_state_code="COD", mission_code="MONUSCO", description="COD-MONUSCO"
        ),
        "TCD-MINUSMA": new_assistance(db, recipient_state_code="TCD", description="TCD-MINUSMA"),
    }
    gone = new_assistance(db, description="deleted")
    gone.deleted_at = gone.created_at
    db.flush()
    login_as(role, **bindings)
    page = client.get("/assistance/").text
    listed = {name for name, r in records.items() if f'href="/assistance/{r.id}"' in page}
    assert listed == sees
    assert f'href="/assistance/{gone.id}"' not in page
    for name, record in records.items():
        expected = 200 if name in sees else 404
        assert client.get(f"/assistance/{record.id}").status_code == expected
    if "MLI-MINUSMA" in sees:
        assert '<h2 id="state-MLI">Mali</h2>' in page


def test_the_list_filters_per_recipient_state_and_refuses_nonsense(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    mali = new_assistance(db)
    chad = new_assistance(db, recipient_state_code="TCD")
    login_as("analyst")
    page = client.get("/assistance/?state=tcd").text
    assert f'href="/assistance/{chad.id}"' in page
    assert f'href="/assistance/{mali.id}"' not in page
    for query in ("state=ZZZ", "state=%00", "mission=NOPE", "kind=bribes", "state=" + "A" * 500):
        response = client.get(f"/assistance/?{query}")
        assert response.status_code == 400, query
    for path in ("/assistance/0", "/assistance/99999999999999999999", "/assistance/x"):
        assert client.get(path).status_code == 404


REFUSED_FILTERS = [
    ("state=A%00B", "state"),
    ("mission=X%00", "mission"),
    ("kind=training%00", "kind"),
    ("state=MLI&state=TCD", "state"),
    ("mission=MINUSMA&mission=MONUSCO", "mission"),
    ("kind=training&kind=technical", "kind"),
]


@pytest.mark.parametrize(("query", "field"), REFUSED_FILTERS)
def test_the_list_refuses_nul_characters_and_repeated_values_naming_the_field(
    client: FlaskClient, db: Session, login_as: LoginAs, query: str, field: str
) -> None:
    new_assistance(db)
    login_as("analyst")
    response = client.get(f"/assistance/?{query}")
    assert response.status_code == 400, query
    assert f'id="filter-{field}-error"' in response.text


def test_editing_is_for_the_mission_and_refuses_stale_versions(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    record = new_assistance(db)
    path = f"/assistance/{record.id}/edit"
    login_as("member_state", state="MLI")
    assert client.get(path).status_code == 403  # sees it as the recipient, edits nothing
    login_as("mission", missions=("MONUSCO",))
    assert client.get(path).status_code == 404
    login_as("mission", missions=("MINUSMA",))
    token = csrf_token(client.get(path).text)
    record.participants = 40  # someone else saves first
    db.flush()
    stale = client.post(
        path, data={**valid(participants="13"), "version": "1", "csrf_token": token}
    )
    assert stale.status_code == 409
    assert "Someone else changed this record after you opened the form." in stale.text
    db.refresh(record)
    assert record.participants == 40
    fresh = client.post(
        path, data={**valid(participants="13"), "version": "2", "csrf_token": token}
    )
    assert fresh.status_code == 302
    db.refresh(record)
    assert (record.participants, record.version) == (13, 3)


def test_links_to_cases_the_editor_cannot_see_are_kept_and_not_shown(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    minusma_case: JudicialCase,
    monusco_case: JudicialCase,
) -> None:
    record = new_assistance(db, cases=[minusma_case, monusco_case])
    login_as("mission", missions=("MINUSMA",))
    page = client.get(f"/assistance/{record.id}").text
    assert f'href="/cases/{minusma_case.id}"' in page
    assert f'href="/cases/{monusco_case.id}"' not in page
    path = f"/assistance/{record.id}/edit"
    form = client.get(path).text
    assert f'value="{minusma_case.id}"' in form
    token = csrf_token(form)
    response = client.post(path, data={**valid(cases=""), "version": "1", "csrf_token": token})
    assert response.status_code == 302
    db.refresh(record)
    assert [c.id for c in record.cases] == [monusco_case.id]
    assert record.version == 2  # a change of links is a new version too


def test_posting_without_csrf_token_is_refused(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("admin")
    assert client.post("/assistance/new", data=valid()).status_code == 400
    assert count(db, CapacityAssistance) == 0
