"""The access rule as a truth table: role x relationship x verification status -> visible.

One MINUSMA incident (host State Mali) that happened in Niger, with a Chadian contingent
soldier and a French international civilian among its victims, is put in each status;
each kind of user either sees it or does not.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import utcnow
from incidents.models import Incident, JudicialCase, Victim
from incidents.policy import (
    sees_defendant_identity,
    sees_victim_identity,
    visible_cases,
    visible_incidents,
)
from tests.factories import IncidentFactory, UserFactory

STATUSES = ("draft", "submitted", "validated")

# (role, binding, relationship) -> the statuses in which the incident is visible
TRUTH_TABLE = [
    ("admin", None, "everything", STATUSES),
    ("analyst", None, "HQ", ("validated",)),
    ("mission", "MINUSMA", "own mission", STATUSES),
    ("mission", "MONUSCO", "another mission", ()),
    ("member_state", "MLI", "hosts the mission", ("validated",)),
    ("member_state", "NER", "where it happened", ("validated",)),
    ("member_state", "TCD", "contributed a victim's contingent", ("validated",)),
    ("member_state", "FRA", "nationality of a victim", ("validated",)),
    ("member_state", "BRA", "unrelated", ()),
]


def user_of(make_user: UserFactory, role: str, binding: str | None) -> User:
    if role == "mission":
        return make_user(role, missions=(binding,))
    if role == "member_state":
        return make_user(role, state=binding)
    return make_user(role)


@pytest.fixture
def incident(make_incident: IncidentFactory, db: Session) -> Incident:
    incident = make_incident(country_code="NER", place="Ménaka border", status="draft")
    db.add_all(
        [
            Victim(
                incident=incident,
                category="contingent_military",
                nationality_code="TCD",
                contributing_country_code="TCD",
                outcome="killed",
                date_of_death=date(2021, 3, 14),
                name="Soldier A",
            ),
            Victim(
                incident=incident,
                category="international_civilian",
                nationality_code="FRA",
                outcome="injured",
                name="Civilian B",
            ),
        ]
    )
    db.flush()
    return incident


def can_see(db: Session, user: User, incident: Incident) -> bool:
    found = db.scalar(
        sa.select(Incident.id).where(Incident.id == incident.id, visible_incidents(user))
    )
    return found is not None


@pytest.mark.parametrize(("role", "binding", "relationship", "visible_in"), TRUTH_TABLE)
@pytest.mark.parametrize("status", STATUSES)
def test_truth_table(
    db: Session,
    make_user: UserFactory,
    incident: Incident,
    role: str,
    binding: str | None,
    relationship: str,
    visible_in: tuple[str, ...],
    status: str,
) -> None:
    incident.status = status
    db.flush()
    user = user_of(make_user, role, binding)
    assert can_see(db, user, incident) is (status in visible_in), relationship


@pytest.mark.parametrize(("role", "binding", "relationship", "visible_in"), TRUTH_TABLE)
def test_deleted_incidents_are_seen_by_no_one(
    db: Session,
    make_user: UserFactory,
    incident: Incident,
    role: str,
    binding: str | None,
    relationship: str,
    visible_in: tuple[str, ...],
) -> None:
    incident.status = "validated"
    incident.deleted_at = utcnow()
    db.flush()
    assert not can_see(db, user_of(make_user, role, binding), incident), relationship


def test_a_removed_victim_no_longer_makes_the_incident_concern_its_state(
    db: Session, make_user: UserFactory, incident: Incident
) -> None:
    incident.status = "validated"
    france = make_user("member_state", state="FRA")
    assert can_see(db, france, incident)
    civilian = next(v for v in incident.victims if v.nationality_code == "FRA")
    civilian.deleted_at = utcnow()
    db.flush()
    assert not can_see(db, france, incident)


def test_disabled_and_anonymous_users_see_nothing(
    db: Session, make_user: UserFactory, incident: Incident
) -> None:
    incident.status = "validated"
    db.flush()
    assert not can_see(db, make_user("admin", active=False), incident)
    assert db.scalar(sa.select(Incident.id).where(visible_incidents(None))) is None


@pytest.mark.parametrize(
    ("role", "binding", "sees_names"),
    [
        ("admin", None, {"Soldier A", "Civilian B"}),
        ("analyst", None, set()),
        ("mission", "MINUSMA", {"Soldier A", "Civilian B"}),
        ("mission", "MONUSCO", set()),
        ("member_state", "MLI", set()),
        ("member_state", "TCD", {"Soldier A"}),
        ("member_state", "FRA", {"Civilian B"}),
    ],
)
def test_victims_names_only_for_their_mission_admins_and_own_state(
    make_user: UserFactory,
    incident: Incident,
    role: str,
    binding: str | None,
    sees_names: set[str],
) -> None:
    user = user_of(make_user, role, binding)
    shown = {v.name for v in incident.victims if sees_victim_identity(user, v)}
    assert shown == sees_names


@pytest.fixture
def case(db: Session, incident: Incident) -> JudicialCase:
    case = JudicialCase(prosecuting_state_code="BFA", jurisdiction="ordinary", incidents=[incident])
    db.add(case)
    db.flush()
    return case


@pytest.mark.parametrize(
    ("role", "binding", "incident_status", "visible", "sees_defendants"),
    [
        ("member_state", "BFA", "draft", True, True),  # prosecutes it
        ("member_state", "TCD", "validated", True, False),  # sees the incident
        ("member_state", "TCD", "submitted", False, False),
        ("member_state", "BRA", "validated", False, False),
        ("analyst", None, "validated", True, False),
        ("analyst", None, "draft", False, False),
        ("mission", "MINUSMA", "draft", True, True),
        ("mission", "MONUSCO", "validated", False, False),
        ("admin", None, "draft", True, True),
    ],
)
def test_cases_follow_their_incidents_and_the_prosecuting_state(
    db: Session,
    make_user: UserFactory,
    incident: Incident,
    case: JudicialCase,
    role: str,
    binding: str | None,
    incident_status: str,
    visible: bool,
    sees_defendants: bool,
) -> None:
    incident.status = incident_status
    db.flush()
    user = user_of(make_user, role, binding)
    found = db.scalar(sa.select(JudicialCase.id).where(visible_cases(user)))
    assert (found == case.id) is visible
    assert sees_defendant_identity(user, case) is sees_defendants
