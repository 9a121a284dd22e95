"""The work queues of the home page: each lists exactly what waits for its user."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import utcnow
from incidents.comments import threads
from incidents.models import Incident
from notifications import queues as queues_module
from notifications.queues import Queue, queues_for
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory
from tests.test_cases import new_case, new_defendant, new_event


def queues(app: Flask, db: Session, user: User) -> dict[str, list[str]]:
    with app.test_request_context():
        found: list[Queue] = queues_for(db, user)
    return {queue.key: [item.label for item in queue.items] for queue in found}


@pytest.fixture
def author(make_user: UserFactory) -> User:
    return make_user("mission")


@pytest.fixture
def validator(make_user: UserFactory) -> User:
    return make_user("mission")


def test_to_validate_lists_what_the_validator_may_validate(
    app: Flask, db: Session, author: User, validator: User, make_incident: IncidentFactory,
    make_user: UserFactory,
) -> None:  # fmt: skip
    waiting = make_incident(status="submitted", created_by_id=author.id, submitted_by_id=author.id)
    elsewhere = make_incident(status="submitted", mission_code="MONUSCO", country_code="COD")
    make_incident(status="draft")
    assert queues(app, db, validator)["to_validate"] == [waiting.reference]
    assert queues(app, db, author)["to_validate"] == []  # nobody validates their own
    admin = make_user("admin")
    assert sorted(queues(app, db, admin)["to_validate"]) == sorted(
        [waiting.reference, elsewhere.reference]
    )


def test_to_validate_lists_pending_updates_of_the_cases_kept(
    app: Flask, db: Session, validator: User, make_incident: IncidentFactory,
    make_user: UserFactory,
) -> None:  # fmt: skip
    case = new_case(db, make_incident(), state="NER")
    event = new_event(db, case, "charged", date(2021, 9, 1))
    event.review_status = "pending"
    db.flush()
    assert queues(app, db, validator)["to_validate"] == [f"Progress update on case {case.id}"]
    other = make_user("mission", missions=("MONUSCO",))
    assert queues(app, db, other)["to_validate"] == []
    event.review_status = "validated"
    db.flush()
    assert queues(app, db, validator)["to_validate"] == []


def test_to_validate_lists_the_cases_and_defendants_a_member_state_entered(
    app: Flask, db: Session, validator: User, make_incident: IncidentFactory,
    make_user: UserFactory,
) -> None:  # fmt: skip
    national = new_case(db, make_incident(), state="TCD", review_status="pending")
    kept = new_case(db, make_incident(), state="TCD")
    accused = new_defendant(db, kept, review_status="pending")
    new_case(db, make_incident(), state="TCD", review_status="rejected")
    chad = make_user("member_state", state="TCD")
    expected = sorted([f"Case {national.id} to review", f"Case {kept.id} to review"])
    assert sorted(queues(app, db, validator)["to_validate"]) == expected
    other = make_user("mission", missions=("MONUSCO",))
    assert queues(app, db, other)["to_validate"] == []
    assert "to_validate" not in queues(app, db, chad)  # a State does not review its own
    national.review_status = accused.review_status = "validated"
    db.flush()
    assert queues(app, db, validator)["to_validate"] == []


def test_returned_to_me_lists_the_authors_returned_drafts(
    app: Flask, db: Session, author: User, validator: User, make_incident: IncidentFactory
) -> None:
    returned = make_incident(status="draft", created_by_id=author.id, return_reason="Date?")
    make_incident(status="draft", created_by_id=author.id)  # never returned
    assert queues(app, db, author)["returned"] == [returned.reference]
    assert queues(app, db, validator)["returned"] == []


def test_awaiting_my_answer_lists_open_requests_from_the_other_side(
    app: Flask, db: Session, validator: User, make_user: UserFactory,
    make_incident: IncidentFactory, make_victim: VictimFactory,
) -> None:  # fmt: skip
    incident: Incident = make_incident()
    make_victim(incident, nationality_code="TCD")
    chad = make_user("member_state", state="TCD")
    mali = make_user("member_state", state="MLI")
    with app.test_request_context():
        asked = threads.post_comment(
            db, chad, incident, kind="clarification_request", body="Which unit?"
        )
    label = f"Request about {incident.reference}"
    assert queues(app, db, validator)["awaiting_answer"] == [label]
    assert queues(app, db, chad)["awaiting_answer"] == []  # their own question
    assert queues(app, db, mali)["awaiting_answer"] == []  # another State's thread
    with app.test_request_context():
        threads.answer_request(db, validator, incident, asked, "The battalion.")
        threads.post_comment(db, validator, incident, kind="clarification_request", body="?")
    assert queues(app, db, validator)["awaiting_answer"] == []
    assert queues(app, db, chad)["awaiting_answer"] == [label]
    assert queues(app, db, mali)["awaiting_answer"] == [label]


def test_stalled_cases_are_those_without_a_stage_change_for_the_set_time(
    app: Flask, db: Session, make_user: UserFactory, make_incident: IncidentFactory
) -> None:
    long_ago = utcnow() - timedelta(days=400)
    stalled = new_case(db, make_incident(), state="MLI", created_at=long_ago)
    new_event(db, stalled, "investigation_opened", date.today() - timedelta(days=300))
    moving = new_case(db, make_incident(), state="MLI", created_at=long_ago)
    new_event(db, moving, "charged", date.today() - timedelta(days=10))
    ended = new_case(db, make_incident(), state="MLI", created_at=long_ago, current_stage="final")
    new_case(db, make_incident(), state="MLI")  # opened today
    analyst = make_user("analyst")
    assert queues(app, db, analyst)["stalled"] == [f"Case {stalled.id}"]
    assert ended.id != stalled.id


@pytest.mark.parametrize(
    ("role", "titles"),
    [
        ("mission", ["To validate", "Awaiting my answer", "Returned to me", "Stalled cases"]),
        ("member_state", ["Awaiting my answer"]),
        ("analyst", ["Stalled cases"]),
        ("admin", ["To validate", "Awaiting my answer", "Stalled cases"]),
    ],
)
def test_each_roles_home_shows_its_queues(
    client: FlaskClient, login_as: LoginAs, role: str, titles: list[str]
) -> None:
    login_as(role)
    page = client.get("/").text
    for title in ["To validate", "Awaiting my answer", "Returned to me", "Stalled cases"]:
        assert (f">{title} <" in page) == (title in titles), title


def test_a_long_queue_is_counted_up_to_a_bound(
    app: Flask,
    db: Session,
    client: FlaskClient,
    login_as: LoginAs,
    make_incident: IncidentFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queues_module, "SHOWN", 2)
    long_ago = utcnow() - timedelta(days=400)
    cases = [new_case(db, make_incident(), state="MLI", created_at=long_ago) for _ in range(5)]
    analyst = login_as("analyst")
    with app.test_request_context():
        monkeypatch.setattr(queues_module, "COUNTED", 5)
        (exact,) = queues_for(db, analyst)
        monkeypatch.setattr(queues_module, "COUNTED", 3)
        (bounded,) = queues_for(db, analyst)
    assert (exact.total, exact.more) == (5, False)
    assert (bounded.total, bounded.more) == (3, True)
    assert [item.label for item in bounded.items] == [f"Case {case.id}" for case in cases[:2]]
    page = client.get("/").text
    assert 'Stalled cases <span class="count">(3+)</span>' in page
    assert "and over 1 more" in page
