"""Likely duplicates: same mission and means of attack, within 2 days and 10 km."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from capdb.db import utcnow
from incidents.errors import NotAllowedError
from incidents.models import Incident
from incidents.recording import duplicates
from tests.factories import IncidentFactory, LoginAs, UserFactory
from tests.test_recording import page_form, post, valid_incident

HERE = (18.44, 1.41)  # Aguelhok
DAY = date(2021, 3, 14)
KM_PER_DEGREE = 2 * math.pi * duplicates.EARTH_RADIUS_KM / 360


def north_of(km: float, lat: float = HERE[0]) -> float:
    return lat + km / KM_PER_DEGREE


def east_of(km: float, lat: float = HERE[0], lon: float = HERE[1]) -> float:
    return lon + km / (KM_PER_DEGREE * math.cos(math.radians(lat)))


@pytest.fixture
def officer(make_user: UserFactory) -> User:
    return make_user("mission", missions=("MINUSMA",))


@pytest.fixture
def new(make_incident: IncidentFactory) -> Incident:
    """The incident just recorded, whose likely duplicates are looked for."""
    return make_incident(status="draft", occurred_on=DAY, latitude=HERE[0], longitude=HERE[1])


def nearby(make_incident: IncidentFactory, **overrides: Any) -> Incident:
    values: dict[str, Any] = {
        "status": "validated",
        "occurred_on": DAY,
        "latitude": HERE[0],
        "longitude": HERE[1],
    }
    return make_incident(**(values | overrides))


CASES = [
    ("same place, same day", {}, True),
    ("two days before", {"occurred_on": DAY - timedelta(days=2)}, True),
    ("two days after", {"occurred_on": DAY + timedelta(days=2)}, True),
    ("three days before", {"occurred_on": DAY - timedelta(days=3)}, False),
    ("three days after", {"occurred_on": DAY + timedelta(days=3)}, False),
    ("9.9 km north", {"latitude": north_of(9.9)}, True),
    ("10.1 km north", {"latitude": north_of(10.1)}, False),
    ("9.9 km east", {"longitude": east_of(9.9)}, True),
    ("10.1 km east", {"longitude": east_of(10.1)}, False),
    ("7 km north-east", {"latitude": north_of(7 / math.sqrt(2)),
                         "longitude": east_of(7 / math.sqrt(2))}, True),
    # Inside the bounding box but outside the circle: the exact distance decides.
    ("9 km north and 9 km east", {"latitude": north_of(9), "longitude": east_of(9)}, False),
    ("other means of attack", {"means_of_attack": "small_arms"}, False),
    ("other mission", {"mission_code": "MINUSCA", "country_code": "CAF"}, False),
    ("no coordinates", {"latitude": None, "longitude": None}, False),
    ("deleted", {"deleted_at": utcnow()}, False),
    ("a draft too", {"status": "draft"}, True),
]  # fmt: skip


@pytest.mark.parametrize(("case", "overrides", "found"), CASES, ids=[c[0] for c in CASES])
def test_which_incidents_are_likely_duplicates(
    db: Session,
    make_user: UserFactory,
    new: Incident,
    make_incident: IncidentFactory,
    case: str,
    overrides: dict[str, Any],
    found: bool,
) -> None:
    other = nearby(make_incident, **overrides)
    # An admin sees every mission: only the rule itself can leave an incident out.
    candidates = duplicates.likely_duplicates(db, make_user("admin"), new)
    assert [c.incident.id for c in candidates] == ([other.id] if found else [])


def test_nearest_first_with_the_distance(
    db: Session, officer: User, new: Incident, make_incident: IncidentFactory
) -> None:
    far = nearby(make_incident, latitude=north_of(8))
    near = nearby(make_incident, latitude=north_of(3))
    candidates = duplicates.likely_duplicates(db, officer, new)
    assert [c.incident.id for c in candidates] == [near.id, far.id]
    assert [round(c.distance_km, 3) for c in candidates] == [3.0, 8.0]


def test_an_incident_without_coordinates_has_none(
    db: Session, officer: User, new: Incident, make_incident: IncidentFactory
) -> None:
    nearby(make_incident)
    new.latitude = new.longitude = None
    assert duplicates.likely_duplicates(db, officer, new) == []


def test_across_the_antimeridian(
    db: Session, make_user: UserFactory, make_incident: IncidentFactory
) -> None:
    admin = make_user("admin")
    west = make_incident(latitude=-16.0, longitude=179.98)
    east = make_incident(latitude=-16.0, longitude=-179.98)
    assert [c.incident.id for c in duplicates.likely_duplicates(db, admin, west)] == [east.id]


def test_candidates_go_through_the_access_rule(
    db: Session, make_user: UserFactory, new: Incident, make_incident: IncidentFactory
) -> None:
    validated = nearby(make_incident)
    nearby(make_incident, status="draft")
    analyst = make_user("analyst")
    assert [c.incident.id for c in duplicates.likely_duplicates(db, analyst, new)] == [validated.id]


def test_haversine() -> None:
    assert duplicates.distance_km(0, 0, 1, 0) == pytest.approx(KM_PER_DEGREE)
    # Paris to New York, about 5,837 km.
    assert duplicates.distance_km(48.8566, 2.3522, 40.7128, -74.0060) == pytest.approx(5837, abs=5)


# The page after saving


@pytest.fixture
def signed_in(login_as: LoginAs, officer: User) -> User:
    return login_as(user=officer)


def test_saving_next_to_an_incident_leads_to_its_likely_duplicates(
    client: FlaskClient, signed_in: User, make_incident: IncidentFactory, db: Session
) -> None:
    earlier = nearby(make_incident, latitude=north_of(2.5), place="Aguelhok camp")
    response = post(client, "/incidents/new", valid_incident())
    incident = db.scalars(sa.select(Incident).where(Incident.id != earlier.id)).one()
    assert response.status_code == 302
    assert response.location == f"/incidents/{incident.id}/duplicates"

    page = client.get(response.location)
    assert page.status_code == 200
    assert earlier.reference in page.text
    assert "Aguelhok camp" in page.text
    assert "2.5 km" in page.text
    assert "2021-03-14" in page.text
    assert f'href="/incidents/{earlier.id}"' in page.text
    assert f'name="duplicate_of" value="{earlier.id}"' in page.text
    french = client.get(response.location, headers={"Accept-Language": "fr"})
    assert "2,5" in french.text


def test_an_edit_that_moves_the_incident_next_to_another_leads_there_too(
    client: FlaskClient, signed_in: User, make_incident: IncidentFactory, db: Session
) -> None:
    nearby(make_incident, latitude=north_of(1), occurred_on=DAY - timedelta(days=30))
    response = post(client, "/incidents/new", valid_incident())
    incident = db.scalars(sa.select(Incident).where(Incident.status == "draft")).one()
    assert response.location == f"/incidents/{incident.id}"
    fields = page_form(client.get(f"/incidents/{incident.id}/edit").text)
    fields.update({"occurred_on": "2021-02-12", "save": "Save"})
    response = post(client, f"/incidents/{incident.id}/edit", fields)
    assert response.location == f"/incidents/{incident.id}/duplicates"


def test_saving_far_from_anything_goes_to_the_incident(
    client: FlaskClient, signed_in: User, make_incident: IncidentFactory, db: Session
) -> None:
    nearby(make_incident, latitude=north_of(20))
    response = post(client, "/incidents/new", valid_incident())
    incident = db.scalars(sa.select(Incident).where(Incident.status == "draft")).one()
    assert response.location == f"/incidents/{incident.id}"


def test_link_as_a_duplicate(
    client: FlaskClient, signed_in: User, new: Incident, make_incident: IncidentFactory,
    db: Session,
) -> None:  # fmt: skip
    earlier = nearby(make_incident)
    response = post(client, f"/incidents/{new.id}/duplicates", {"duplicate_of": str(earlier.id)})
    assert response.status_code == 302
    assert response.location == f"/incidents/{new.id}"
    db.expire_all()
    assert (new.duplicate_of_id, new.version) == (earlier.id, 2)
    event = db.scalars(sa.select(AuditEvent)).one()
    assert (event.action, event.target_id, event.detail["duplicate_of"]) == (
        "update",
        str(new.id),
        earlier.id,
    )


def test_this_is_a_new_incident_changes_nothing(
    client: FlaskClient, signed_in: User, new: Incident, make_incident: IncidentFactory,
    db: Session,
) -> None:  # fmt: skip
    nearby(make_incident)
    response = post(client, f"/incidents/{new.id}/duplicates", {"new_incident": "1"})
    assert response.status_code == 302
    assert response.location == f"/incidents/{new.id}"
    db.expire_all()
    assert (new.duplicate_of_id, new.version) == (None, 1)
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("which", ["far away", "other mission", "itself", "unknown"])
def test_only_a_candidate_can_be_linked(
    client: FlaskClient,
    signed_in: User,
    new: Incident,
    make_incident: IncidentFactory,
    db: Session,
    which: str,
) -> None:
    target = {
        "far away": lambda: nearby(make_incident, latitude=north_of(50)).id,
        "other mission": lambda: (
            nearby(make_incident, mission_code="MINUSCA", country_code="CAF").id
        ),
        "itself": lambda: new.id,
        "unknown": lambda: 10**9,
    }[which]()
    response = post(client, f"/incidents/{new.id}/duplicates", {"duplicate_of": str(target)})
    assert response.status_code == 422
    assert "That incident is not among the likely duplicates." in response.text
    db.expire_all()
    assert new.duplicate_of_id is None


def test_only_those_who_may_edit_the_incident_link_it(
    db: Session, make_user: UserFactory, new: Incident, make_incident: IncidentFactory
) -> None:
    earlier = nearby(make_incident)
    with pytest.raises(NotAllowedError):
        duplicates.link_duplicate(db, make_user("analyst"), new, earlier.id)
    with pytest.raises(NotAllowedError):
        duplicates.link_duplicate(db, make_user("mission", missions=("MINUSCA",)), new, earlier.id)
    officer = make_user("mission", missions=("MINUSMA",))
    assert duplicates.link_duplicate(db, officer, new, earlier.id) is earlier


def test_another_missions_officer_gets_404(
    client: FlaskClient, login_as: LoginAs, new: Incident, make_incident: IncidentFactory
) -> None:
    earlier = nearby(make_incident)
    login_as("mission", missions=("MINUSCA",))
    assert client.get(f"/incidents/{new.id}/duplicates").status_code == 404
    response = post(client, f"/incidents/{new.id}/duplicates", {"duplicate_of": str(earlier.id)})
    assert response.status_code == 404


@pytest.mark.parametrize("role", ["analyst", "member_state"])
def test_other_roles_get_403(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory, role: str
) -> None:
    incident = nearby(make_incident)
    login_as(role, state="MLI" if role == "member_state" else None)
    assert client.get(f"/incidents/{incident.id}/duplicates").status_code == 403


def test_a_submitted_incident_is_not_linked_by_its_mission(
    client: FlaskClient, signed_in: User, new: Incident, make_incident: IncidentFactory,
    db: Session,
) -> None:  # fmt: skip
    earlier = nearby(make_incident)
    new.status = "submitted"
    db.flush()
    page = client.get(f"/incidents/{new.id}/duplicates")
    assert page.status_code == 200
    assert 'name="duplicate_of"' not in page.text
    response = post(client, f"/incidents/{new.id}/duplicates", {"duplicate_of": str(earlier.id)})
    assert response.status_code == 403
    db.expire_all()
    assert new.duplicate_of_id is None


def test_linking_without_csrf_token_is_refused(
    client: FlaskClient, signed_in: User, new: Incident, make_incident: IncidentFactory,
    db: Session,
) -> None:  # fmt: skip
    earlier = nearby(make_incident)
    response = client.post(f"/incidents/{new.id}/duplicates", data={"duplicate_of": earlier.id})
    assert response.status_code == 400
    db.expire_all()
    assert new.duplicate_of_id is None
