"""The database itself refuses impossible records, whatever code wrote them."""

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from incidents.models import CapacityAssistance, Defendant, Incident, JudicialCase
from tests.factories import IncidentFactory, VictimFactory, incident_values


def insert_incident(db: Session, **overrides: Any) -> None:
    """Insert below the ORM, so that only the database's constraints can refuse."""
    values = incident_values(**overrides)
    db.execute(sa.insert(Incident).values(version=1, **values))


def add_and_flush(db: Session, record: object) -> None:
    db.add(record)
    db.flush()


@pytest.mark.parametrize(
    ("overrides", "refused_by"),
    [
        ({"latitude": 90.5}, "latitude_range"),
        ({"latitude": -91.0}, "latitude_range"),
        ({"longitude": 180.01}, "longitude_range"),
        ({"longitude": -200.0}, "longitude_range"),
        ({"latitude": None}, "coordinates_paired"),
        # A fixed vocabulary; the means of attack are kept by admins, checked by the models.
        ({"location_type": "sorcery"}, "ck_incidents_location_type"),
        ({"status": "approved"}, "ck_incidents_verification_status"),
        ({"mission_code": "NOSUCH"}, "foreign key"),
        ({"country_code": "ZZZ"}, "foreign key"),
        ({"occurred_time": sa.text("'10:30:00'")}, "time_needs_exact_date"),
    ],
    ids=lambda value: ",".join(value) if isinstance(value, dict) else "",
)
def test_database_refuses_invalid_incident(
    db: Session, overrides: dict[str, Any], refused_by: str
) -> None:
    with pytest.raises(IntegrityError) as caught, db.begin_nested():
        insert_incident(db, **overrides)
    assert refused_by in str(caught.value.orig).lower()


def test_database_accepts_a_valid_incident(db: Session) -> None:
    insert_incident(db, reference="MINUSMA-2021-9999")
    stored = db.scalar(sa.select(Incident).where(Incident.reference == "MINUSMA-2021-9999"))
    assert stored is not None
    assert stored.version == 1


def test_reference_is_unique_within_a_mission(db: Session, make_incident: IncidentFactory) -> None:
    make_incident(reference="MINUSMA-2021-0042")
    make_incident(reference="MINUSMA-2021-0042", mission_code="UNMISS", country_code="SSD")
    with pytest.raises(IntegrityError), db.begin_nested():
        make_incident(reference="MINUSMA-2021-0042")


def test_negative_counts_are_refused(db: Session, make_incident: IncidentFactory) -> None:
    case = JudicialCase(prosecuting_state_code="MLI", jurisdiction="ordinary")
    db.add(case)
    db.flush()
    defendant = Defendant(case_id=case.id, alias="X", sentence_months=-1)
    with pytest.raises(IntegrityError), db.begin_nested():
        add_and_flush(db, defendant)
    assistance = CapacityAssistance(
        recipient_state_code="MLI",
        mission_code="MINUSMA",
        kind="training",
        started_on=date(2020, 1, 1),
        participants=-5,
    )
    with pytest.raises(IntegrityError), db.begin_nested():
        add_and_flush(db, assistance)


def test_date_of_death_only_for_the_killed(db: Session, make_victim: VictimFactory) -> None:
    make_victim(outcome="killed", date_of_death=date(2021, 3, 14))
    with pytest.raises(IntegrityError), db.begin_nested():
        make_victim(outcome="injured", date_of_death=date(2021, 3, 14))


def test_version_increments_on_every_change(db: Session, make_incident: IncidentFactory) -> None:
    incident = make_incident()
    assert incident.version == 1
    incident.place = "Tessalit"
    db.flush()
    assert incident.version == 2


def test_stale_version_is_refused(db: Session, make_incident: IncidentFactory) -> None:
    incident = make_incident()
    # Another writer changes the row behind this session's back.
    db.execute(
        sa.update(Incident)
        .where(Incident.id == incident.id)
        .values(version=incident.version + 1)
        .execution_options(synchronize_session=False)
    )
    incident.place = "Tessalit"
    with pytest.raises(sa.orm.exc.StaleDataError), db.begin_nested():
        db.flush()
