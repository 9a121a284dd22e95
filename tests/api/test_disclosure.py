"""Through the API as on the pages: each State reads its own thread with the mission, and
other users are named by address only to mission staff and admins."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from incidents.models import Incident, Victim
from tests.api.conftest import ApiAs, errors_of, json_of
from tests.factories import IncidentFactory, UserFactory
from tests.test_cases import new_case


def shared_incident(db: Session, make_incident: IncidentFactory) -> Incident:
    """A validated MINUSMA incident in Mali with a Chadian victim: Mali's and Chad's."""
    incident = make_incident()
    db.add(Victim(incident=incident, category="contingent_military", nationality_code="TCD",
                  contributing_country_code="TCD", outcome="injured"))  # fmt: skip
    db.flush()
    return incident


def test_each_state_reads_its_own_thread_and_no_other_address(
    db: Session, api_as: ApiAs, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    incident = shared_incident(db, make_incident)
    path = f"/incidents/{incident.id}/comments"
    mali = api_as(user=make_user("member_state", state="MLI", email="mali@capdb.test"))
    chad = api_as(user=make_user("member_state", state="TCD", email="chad@capdb.test"))
    officer = api_as(user=make_user("mission", missions=("MINUSMA",), email="mo@capdb.test"))
    body = {"kind": "clarification_request", "body": "Mali asks."}
    asked = mali.post(path, json=body, headers={"Idempotency-Key": "mali-1"})
    assert asked.status_code == 201, asked.text
    chad.post(
        path, json={"kind": "comment", "body": "Chad says."}, headers={"Idempotency-Key": "c"}
    )
    answer = {"kind": "comment", "body": "To Mali.", "answers": json_of(asked)["id"]}
    assert officer.post(path, json=answer, headers={"Idempotency-Key": "o"}).status_code == 201

    read_by_chad = json_of(chad.get(path))["items"]
    assert [(c["body"], c["author"]) for c in read_by_chad] == [("Chad says.", "chad@capdb.test")]
    read_by_mali = json_of(mali.get(path))["items"]
    assert [(c["body"], c["author"]) for c in read_by_mali] == [
        ("Mali asks.", "mali@capdb.test"),
        ("To Mali.", "Mission MINUSMA"),
    ]
    read_by_officer = {c["body"]: c["author"] for c in json_of(officer.get(path))["items"]}
    assert read_by_officer == {
        "Mali asks.": "mali@capdb.test",
        "Chad says.": "chad@capdb.test",
        "To Mali.": "mo@capdb.test",
    }
    # Threads belong to the State that opened them and the mission: analysts read none.
    assert json_of(api_as("analyst").get(path))["items"] == []
    # Chad cannot answer a request it may not read: it is not there.
    refused = chad.post(
        path,
        json={"kind": "comment", "body": "Chad butts in.", "answers": json_of(asked)["id"]},
        headers={"Idempotency-Key": "c2"},
    )
    assert refused.status_code == 422
    assert "answers" in errors_of(refused)


def test_a_date_refusal_through_the_api_names_no_hidden_date(
    db: Session, api_as: ApiAs, make_incident: IncidentFactory
) -> None:
    hidden = make_incident(
        mission_code="MONUSCO", country_code="COD", occurred_on=date(2020, 1, 10)
    )
    case = new_case(db, hidden, state="TCD")
    chad = api_as("member_state", state="TCD")
    response = chad.post(
        f"/cases/{case.id}/events",
        json={"stage": "reported", "occurred_on": "2019-06-01"},
        headers={"Idempotency-Key": "e"},
    )
    assert response.status_code == 422, response.text
    assert "2020-01-10" not in response.text
    assert "cannot be dated before any of the case's incidents" in response.text
