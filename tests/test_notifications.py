"""Who is told what: each event writes notifications for exactly the users it concerns
who may see the record, with their chosen delivery, in the transaction of the change."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import utcnow
from incidents.comments import threads
from incidents.justice import stages
from incidents.models import Incident, JudicialCase
from incidents.recording import workflow
from notifications.models import Notification, NotificationDefault, NotificationPreference
from tests.factories import IncidentFactory, UserFactory, VictimFactory
from tests.test_cases import new_case


def told(db: Session, kind: str | None = None) -> dict[str, str]:
    """Who was told, by email, with the delivery of each notification."""
    query = sa.select(User.email, Notification.delivery).join(User, User.id == Notification.user_id)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return dict(db.execute(query).all())


@pytest.fixture
def people(make_user: UserFactory) -> dict[str, User]:
    """Officers of MINUSMA and of another mission, focal points of several States, an
    analyst and an admin."""
    return {
        "author": make_user("mission", email="author@minusma.test"),
        "validator": make_user("mission", email="validator@minusma.test"),
        "colleague": make_user("mission", email="colleague@minusma.test"),
        "monusco": make_user("mission", missions=("MONUSCO",), email="officer@monusco.test"),
        "chad": make_user("member_state", state="TCD", email="focal@chad.test"),
        "chad2": make_user("member_state", state="TCD", email="second@chad.test"),
        "mali": make_user("member_state", state="MLI", email="focal@mali.test"),
        "niger": make_user("member_state", state="NER", email="focal@niger.test"),
        "analyst": make_user("analyst", email="analyst@hq.test"),
        "admin": make_user("admin", email="admin@hq.test"),
        "gone": make_user("member_state", state="TCD", email="gone@chad.test", active=False),
    }


@pytest.fixture
def submitted(
    make_incident: IncidentFactory, make_victim: VictimFactory, people: dict[str, User]
) -> Incident:
    """An attack in Mali (MINUSMA, hosted by Mali) on a Chadian peacekeeper."""
    incident = make_incident(
        status="submitted",
        created_by_id=people["author"].id,
        submitted_by_id=people["author"].id,
    )
    make_victim(incident, nationality_code="TCD", contributing_country_code="TCD")
    return incident


def test_a_validation_tells_the_focal_points_of_the_concerned_states_only(
    app: Flask, db: Session, people: dict[str, User], submitted: Incident
) -> None:
    with app.test_request_context():
        workflow.validate(db, people["validator"], submitted)
    assert told(db) == {
        "focal@chad.test": "immediate",
        "second@chad.test": "immediate",
        "focal@mali.test": "immediate",
    }
    (notification, *_) = db.scalars(sa.select(Notification)).all()
    assert notification.kind == "incident_validated"
    assert (notification.reference, notification.mission_code) == (
        submitted.reference,
        "MINUSMA",
    )


def test_each_user_gets_its_own_choice_else_its_roles_default(
    app: Flask, db: Session, people: dict[str, User], submitted: Incident
) -> None:
    db.add(NotificationDefault(role="member_state", kind="incident_validated", delivery="weekly"))
    db.add(
        NotificationPreference(
            user_id=people["chad"].id, kind="incident_validated", delivery="daily"
        )
    )
    db.flush()
    with app.test_request_context():
        workflow.validate(db, people["validator"], submitted)
    assert told(db) == {
        "focal@chad.test": "daily",
        "second@chad.test": "weekly",
        "focal@mali.test": "weekly",
    }


def test_notifications_roll_back_with_their_change(
    app: Flask, db: Session, people: dict[str, User], submitted: Incident
) -> None:
    with app.test_request_context(), db.begin_nested() as change:
        workflow.validate(db, people["validator"], submitted)
        assert told(db)
        change.rollback()
    assert told(db) == {}


def test_a_submission_tells_the_missions_validators_but_not_its_author(
    app: Flask, db: Session, people: dict[str, User], make_incident: IncidentFactory
) -> None:
    draft = make_incident(status="draft", created_by_id=people["colleague"].id)
    with app.test_request_context():
        workflow.submit(db, people["author"], draft)
    assert told(db) == {"validator@minusma.test": "immediate"}


def test_a_return_tells_the_author(
    app: Flask, db: Session, people: dict[str, User], submitted: Incident
) -> None:
    with app.test_request_context():
        workflow.return_to_draft(db, people["validator"], submitted, "The date is wrong.")
    assert told(db, "incident_returned") == {"author@minusma.test": "immediate"}


@pytest.fixture
def case(db: Session, submitted: Incident) -> JudicialCase:
    submitted.status = "validated"
    db.flush()
    return new_case(db, submitted, state="NER")


def test_a_stage_change_tells_the_states_that_see_the_case(
    app: Flask, db: Session, people: dict[str, User], case: JudicialCase
) -> None:
    fields = stages.EventFields(stage="investigation_opened", occurred_on=date(2021, 4, 1))
    with app.test_request_context():
        stages.add_stage_event(db, people["validator"], case, fields, on_day=date(2022, 1, 1))
    # Chad and Mali through the incident, Niger as the prosecuting State.
    assert set(told(db, "stage_changed")) == {
        "focal@chad.test",
        "second@chad.test",
        "focal@mali.test",
        "focal@niger.test",
    }
    (notification, *_) = db.scalars(sa.select(Notification)).all()
    assert (notification.case_id, notification.mission_code) == (case.id, "MINUSMA")


def test_a_states_update_waits_for_the_keepers_and_its_review_goes_back(
    app: Flask, db: Session, people: dict[str, User], case: JudicialCase
) -> None:
    fields = stages.EventFields(stage="charged", occurred_on=date(2021, 9, 1))
    with app.test_request_context():
        event = stages.add_stage_event(db, people["niger"], case, fields, on_day=date(2022, 1, 1))
    assert set(told(db, "update_pending")) == {
        "author@minusma.test",
        "validator@minusma.test",
        "colleague@minusma.test",
    }
    with app.test_request_context():
        stages.validate_update(db, people["validator"], event, at=utcnow())
    assert set(told(db, "update_validated")) == {"focal@niger.test"}
    # The others who see the case learn that its stage changed; the reporter already knows.
    assert set(told(db, "stage_changed")) == {
        "focal@chad.test",
        "second@chad.test",
        "focal@mali.test",
    }


def test_a_refused_update_is_told_to_its_reporter(
    app: Flask, db: Session, people: dict[str, User], case: JudicialCase
) -> None:
    fields = stages.EventFields(stage="charged", occurred_on=date(2021, 9, 1))
    with app.test_request_context():
        event = stages.add_stage_event(db, people["niger"], case, fields, on_day=date(2022, 1, 1))
        stages.reject_update(db, people["validator"], event, "No document.", at=utcnow())
    assert set(told(db, "update_rejected")) == {"focal@niger.test"}
    assert told(db, "stage_changed") == {}


def test_a_states_request_goes_to_the_mission_and_the_answer_comes_back(
    app: Flask, db: Session, people: dict[str, User], case: JudicialCase, submitted: Incident
) -> None:
    with app.test_request_context():
        request = threads.post_comment(
            db, people["chad"], submitted, kind="clarification_request", body="Which unit?"
        )
    assert set(told(db, "clarification_requested")) == {
        "author@minusma.test",
        "validator@minusma.test",
        "colleague@minusma.test",
    }
    with app.test_request_context():
        threads.answer_request(db, people["validator"], submitted, request, "The battalion.")
    assert set(told(db, "clarification_answered")) == {"focal@chad.test"}


def test_a_missions_request_goes_to_the_states_that_read_it(
    app: Flask, db: Session, people: dict[str, User], case: JudicialCase, submitted: Incident
) -> None:
    with app.test_request_context():
        threads.post_comment(
            db, people["validator"], submitted, kind="clarification_request", body="Any news?"
        )
    assert set(told(db, "clarification_requested")) == {
        "focal@chad.test",
        "second@chad.test",
        "focal@mali.test",
    }
