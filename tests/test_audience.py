"""The audience of a record (who sees it, over users) says the same as the visibility
rule (what each user sees), user by user, for every role and kind of record."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import utcnow
from incidents import policy
from incidents.models import Comment, Incident, JudicialCase, StageEvent
from incidents.policy_audience import (
    case_audience,
    comment_audience,
    incident_audience,
    stage_event_audience,
)
from tests.factories import IncidentFactory, UserFactory, VictimFactory
from tests.test_cases import new_case


@pytest.fixture
def everyone(make_user: UserFactory) -> list[User]:
    return [
        make_user("admin"),
        make_user("analyst"),
        make_user("mission", missions=("MINUSMA",)),
        make_user("mission", missions=("MONUSCO",)),
        make_user("mission", missions=("MINUSMA", "MONUSCO")),
        make_user("member_state", state="TCD"),
        make_user("member_state", state="MLI"),
        make_user("member_state", state="NER"),
        make_user("member_state", state="COD"),
        make_user("member_state", state="FRA"),
        make_user("member_state", state="TCD", active=False),
    ]


@pytest.fixture
def incidents(make_incident: IncidentFactory, make_victim: VictimFactory) -> list[Incident]:
    validated = make_incident()
    make_victim(validated, nationality_code="TCD", contributing_country_code="NER")
    deleted_victim = make_victim(validated, nationality_code="FRA", contributing_country_code=None)
    deleted_victim.deleted_at = utcnow()
    return [
        validated,
        make_incident(status="draft"),
        make_incident(status="submitted", country_code="NER"),
        make_incident(mission_code="MONUSCO", country_code="COD"),
        make_incident(deleted_at=utcnow()),
    ]


def audience(db: Session, condition: sa.ColumnElement[bool]) -> set[int]:
    return set(db.scalars(sa.select(User.id).where(condition)))


def seers(users: list[User], record: object) -> set[int]:
    return {u.id for u in users if u.active and policy.may_view(u, record)}


def test_who_sees_an_incident(db: Session, everyone: list[User], incidents: list[Incident]) -> None:
    for incident in incidents:
        assert audience(db, incident_audience(incident.id)) == seers(everyone, incident)


def test_who_sees_a_case_and_its_stage_events(
    db: Session, everyone: list[User], incidents: list[Incident]
) -> None:
    cases = [
        new_case(db, incidents[0], state="FRA"),
        new_case(db, incidents[1], state="MLI"),
        new_case(db, incidents[3], incidents[2], state="COD"),
    ]
    for case in cases:
        assert audience(db, case_audience(case)) == seers(everyone, case)
        for status in ("validated", "pending", "rejected"):
            event = StageEvent(
                case_id=case.id,
                stage="reported",
                occurred_on=date(2021, 4, 1),
                review_status=status,
            )
            db.add(event)
            db.flush()
            db.refresh(case)
            assert audience(db, stage_event_audience(event)) == seers(everyone, event), status


def test_who_reads_a_comment(db: Session, everyone: list[User], incidents: list[Incident]) -> None:
    author = everyone[2]
    for thread in (None, "TCD", "MLI"):
        comment = Comment(
            incident_id=incidents[0].id, author_id=author.id, body="?", thread_state_code=thread
        )
        db.add(comment)
        db.flush()
        readers = {
            u.id
            for u in everyone
            if u.active
            and policy.may_view(u, incidents[0])
            and db.scalar(
                sa.select(sa.exists().where(Comment.id == comment.id, policy.visible_comments(u)))
            )
        }
        assert audience(db, comment_audience(comment, incidents[0])) == readers, thread


def test_a_case_without_incidents_in_sight_is_seen_by_those_who_report_its_progress(
    db: Session, everyone: list[User], incidents: list[Incident]
) -> None:
    case: JudicialCase = new_case(db, incidents[4], state="NER")
    assert audience(db, case_audience(case)) == seers(everyone, case)
