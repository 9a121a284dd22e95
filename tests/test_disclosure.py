"""What a user may learn of other users and of records out of sight.

The incident is a validated MINUSMA incident in Mali with a Chadian victim: it concerns
both Mali and Chad, whose focal points each talk with the mission in their own thread.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import User
from incidents.comments import threads as comments
from incidents.errors import InputError
from incidents.justice import case_pages, stages
from incidents.justice.stages import EventFields
from incidents.models import Comment, Incident, StageEvent, Victim
from incidents.recording import duplicates
from incidents.recording import service as recording
from tests.factories import IncidentFactory, LoginAs, UserFactory
from tests.test_cases import new_case, post_form
from tests.test_comments import answer, say, thread_path

MALI_ASKS = "Mali asks: which road?"
CHAD_ASKS = "Chad asks: which unit?"
TO_MALI = "For Mali: the Kidal road."
TO_ALL = "The mission to all: the report is final."


@pytest.fixture
def shared(db: Session, make_incident: IncidentFactory) -> Incident:
    incident = make_incident()
    db.add(Victim(incident=incident, category="contingent_military", nationality_code="TCD",
                  contributing_country_code="TCD", outcome="injured"))  # fmt: skip
    db.flush()
    return incident


@pytest.fixture
def people(make_user: UserFactory) -> dict[str, User]:
    return {
        "mali": make_user("member_state", state="MLI", email="mali@capdb.test"),
        "chad": make_user("member_state", state="TCD", email="chad@capdb.test"),
        "officer": make_user("mission", missions=("MINUSMA",), email="officer@capdb.test"),
        "analyst": make_user("analyst", email="hq@capdb.test"),
    }


@pytest.fixture
def threads(
    client: FlaskClient, db: Session, shared: Incident, login_as: LoginAs, people: dict[str, User]
) -> Incident:
    """Mali and Chad each ask; the mission answers Mali and writes to all."""
    path = thread_path(shared)
    login_as(user=people["mali"])
    assert say(client, path, MALI_ASKS, "clarification_request").status_code == 302
    login_as(user=people["chad"])
    assert say(client, path, CHAD_ASKS, "clarification_request").status_code == 302
    login_as(user=people["officer"])
    mali_request = db.scalar(sa.select(Comment).where(Comment.body == MALI_ASKS))
    assert mali_request is not None
    assert answer(client, path, mali_request, TO_MALI).status_code == 302
    assert say(client, path, TO_ALL).status_code == 302
    return shared


def test_a_focal_point_reads_only_its_own_states_thread(
    client: FlaskClient, login_as: LoginAs, threads: Incident, people: dict[str, User]
) -> None:
    login_as(user=people["chad"])
    page = client.get(thread_path(threads)).text
    assert CHAD_ASKS in page
    assert TO_ALL in page
    for secret in (MALI_ASKS, TO_MALI, "mali@capdb.test", "officer@capdb.test"):
        assert secret not in page, secret
    assert "Mission MINUSMA" in page
    # The mission's word to all readers answers Chad's request too.
    assert "Open requests for clarification" not in page

    login_as(user=people["mali"])
    page = client.get(thread_path(threads)).text
    for seen in (MALI_ASKS, TO_MALI, TO_ALL):
        assert seen in page, seen
    assert CHAD_ASKS not in page
    assert "chad@capdb.test" not in page


def test_the_mission_reads_every_thread_with_addresses_and_analysts_none(
    client: FlaskClient, login_as: LoginAs, threads: Incident, people: dict[str, User]
) -> None:
    login_as(user=people["officer"])
    page = client.get(thread_path(threads)).text
    for seen in (MALI_ASKS, CHAD_ASKS, TO_MALI, TO_ALL, "mali@capdb.test", "chad@capdb.test"):
        assert seen in page, seen
    # Threads belong to the State that opened them and the mission: not to HQ analysts.
    login_as(user=people["analyst"])
    assert client.get(thread_path(threads)).status_code == 403
    page = client.get(f"/incidents/{threads.id}").text
    for secret in (MALI_ASKS, CHAD_ASKS, TO_MALI, TO_ALL, "mali@capdb.test", "chad@capdb.test"):
        assert secret not in page, secret


def test_a_focal_point_cannot_answer_or_reach_another_states_request(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    threads: Incident,
    people: dict[str, User],
) -> None:
    chad_request = db.scalar(sa.select(Comment).where(Comment.body == CHAD_ASKS))
    assert chad_request is not None
    login_as(user=people["mali"])
    response = answer(client, thread_path(threads), chad_request, "Mali butts in.")
    assert response.status_code == 404
    assert comments.comment_or_none(db, people["mali"], threads, chad_request.id) is None


def test_the_mission_answers_in_the_thread_of_the_request(
    db: Session, threads: Incident, people: dict[str, User]
) -> None:
    by_body = {c.body: c.thread_state_code for c in db.scalars(sa.select(Comment))}
    assert by_body == {MALI_ASKS: "MLI", CHAD_ASKS: "TCD", TO_MALI: "MLI", TO_ALL: None}


def test_case_pages_name_other_users_by_role_and_state(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    shared: Incident,
    people: dict[str, User],
) -> None:
    case = new_case(db, shared, state="MLI")
    db.add(StageEvent(case_id=case.id, stage="reported", occurred_on=date(2021, 4, 1),
                      entered_by_id=people["officer"].id, review_status="validated"))  # fmt: skip
    db.flush()
    login_as(user=people["chad"])
    page = client.get(f"/cases/{case.id}").text
    assert "Mission MINUSMA" in page
    assert "officer@capdb.test" not in page
    login_as("admin")
    assert "officer@capdb.test" in client.get(f"/cases/{case.id}").text


def test_the_count_of_unseen_incidents_leaves_out_drafts_and_deleted_ones(
    app: Flask,
    db: Session,
    make_incident: IncidentFactory,
    shared: Incident,
    people: dict[str, User],
) -> None:
    elsewhere = {"mission_code": "MONUSCO", "country_code": "COD"}
    hidden = make_incident(**elsewhere)
    draft = make_incident(status="draft")
    deleted = make_incident(**elsewhere)
    deleted.deleted_at = deleted.created_at
    case = new_case(db, shared, hidden, draft, deleted, state="TCD")
    with app.test_request_context():
        seen = case_pages.dossier(db, people["chad"], case, on_day=date(2022, 1, 1))
        by_admin = case_pages.dossier(db, people["officer"], case, on_day=date(2022, 1, 1))
    assert [i.id for i in seen.incidents] == [shared.id]
    assert seen.unseen_incidents == 1  # the validated one elsewhere; never the draft
    # The mission sees its draft; the deleted incident is counted by nobody.
    assert by_admin.unseen_incidents == 1


def test_a_date_refusal_names_no_date_of_an_incident_out_of_sight(
    app: Flask,
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    make_incident: IncidentFactory,
    make_user: UserFactory,
    shared: Incident,
    people: dict[str, User],
) -> None:
    hidden = make_incident(
        mission_code="MONUSCO", country_code="COD", occurred_on=date(2020, 1, 10)
    )
    fields = EventFields(stage="reported", occurred_on=date(2019, 6, 1))
    # Chad prosecutes a case on an incident it cannot open: the rule, and no date.
    unseen_only = new_case(db, hidden, state="TCD")
    with app.test_request_context(), pytest.raises(InputError) as refused:
        stages.add_stage_event(db, people["chad"], unseen_only, fields, on_day=date(2022, 1, 1))
    reason = refused.value.problems["occurred_on"]
    assert reason == "A stage cannot be dated before any of the case's incidents."
    # With an incident it sees, the refusal names that incident's date, never the other's.
    case = new_case(db, shared, hidden, state="TCD")
    login_as(user=people["chad"])
    page = f"/cases/{case.id}/events/new"
    response = post_form(client, page, {"stage": "reported", "occurred_on": "2019-06-01"})
    assert response.status_code == 422
    assert "The date is before the incident of 2021-03-14." in response.text
    assert "2020-01-10" not in response.text
    # An administrator, who sees both, is told of the earlier one.
    with app.test_request_context(), pytest.raises(InputError) as refused:
        stages.add_stage_event(db, make_user("admin"), case, fields, on_day=date(2022, 1, 1))
    assert "2020-01-10" in refused.value.problems["occurred_on"]


def test_a_duplicate_link_never_reaches_or_names_an_incident_out_of_sight(
    app: Flask,
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    make_incident: IncidentFactory,
) -> None:
    officer = login_as("mission", missions=("MINUSMA",))
    incident = make_incident(status="draft")
    hidden = make_incident(mission_code="MONUSCO", country_code="COD", reference="MONUSCO-2021-7")
    # Refused when linking, by the page and the service alike.
    response = post_form(
        client, f"/incidents/{incident.id}/duplicates", {"duplicate_of": str(hidden.id)}
    )
    assert response.status_code == 422
    assert "MONUSCO-2021-7" not in response.text
    with app.test_request_context(), pytest.raises(recording.NotACandidateError):
        duplicates.link_duplicate(db, officer, incident, hidden.id)
    assert incident.duplicate_of_id is None
    # Linked by someone else (an admin, before the incident moved mission): never named.
    incident.duplicate_of_id = hidden.id
    db.flush()
    assert "MONUSCO-2021-7" not in client.get(f"/incidents/{incident.id}").text
    with app.test_request_context():
        stale = recording.stale_edit(db, incident, 1, user=officer)
    described = [c.value for c in stale.fields if c.name == "duplicate_of_id"]
    assert described == ["an incident you cannot see"]
