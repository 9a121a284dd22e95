from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.db import Base, utcnow
from incidents import history
from incidents.fields import INCIDENT_FIELDS, VICTIM_FIELDS
from incidents.models import Record, RecordVersion, Victim
from tests.factories import IncidentFactory, UserFactory, VictimFactory


def test_each_change_keeps_the_version_it_replaced(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    officer = make_user("mission")
    db.info[history.ACTOR_KEY] = officer.id
    incident = make_incident(place="Aguelhok", occurred_on=date(2021, 3, 14))
    incident.place = "Tessalit"
    db.flush()
    incident.occurred_on = date(2021, 3, 15)
    db.flush()
    kept = history.versions(db, incident)
    assert [(v.version, v.data["place"], v.data["occurred_on"]) for v in kept] == [
        (1, "Aguelhok", "2021-03-14"),
        (2, "Tessalit", "2021-03-14"),
    ]
    assert kept[0].replaced_by_id == officer.id
    changes = history.changes(db, incident)
    assert [c.fields for c in changes] == [
        [("place", "Aguelhok", "Tessalit")],
        [("occurred_on", "2021-03-14", "2021-03-15")],
    ]


def test_restore_brings_back_an_earlier_version_as_a_new_one(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(place="Aguelhok", occurred_on=date(2021, 3, 14))
    incident.place = "Tessalit"
    incident.occurred_on = date(2022, 1, 1)
    db.flush()
    history.restore(db, incident, 1)
    assert (incident.place, incident.occurred_on, incident.version) == (
        "Aguelhok",
        date(2021, 3, 14),
        3,
    )
    assert len(history.versions(db, incident)) == 2
    with pytest.raises(LookupError):
        history.restore(db, incident, 7)


def test_restore_never_undeletes_a_record(db: Session, make_victim: VictimFactory) -> None:
    """Deletion is workflow, not content: a restore keeps it; an admin undeletes."""
    victim = make_victim(name="Soldier A", outcome="killed")
    victim.outcome = "injured"
    db.flush()
    victim.deleted_at = utcnow()
    db.flush()
    history.restore(db, victim, 1)
    restored = db.get_one(Victim, victim.id)
    assert restored.deleted_at is not None
    assert (restored.name, restored.outcome) == ("Soldier A", "killed")


def test_new_records_have_no_earlier_version(db: Session, make_incident: IncidentFactory) -> None:
    make_incident()
    assert db.scalar(sa.select(sa.func.count()).select_from(RecordVersion)) == 0


def test_a_restore_that_changes_no_content_changes_nothing(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(status="submitted")
    incident.status = "validated"
    db.flush()
    assert history.restore(db, incident, 1) == []
    db.flush()
    assert (incident.status, incident.version) == ("validated", 2)
    assert len(history.versions(db, incident)) == 1


def test_every_record_type_declares_its_content_and_no_workflow_column() -> None:
    workflow = {
        "id", "version", "created_at", "updated_at", "deleted_at", "status", "mission_code",
        "reference", "created_by_id", "updated_by_id", "submitted_at", "submitted_by_id",
        "validated_at", "validated_by_id", "return_reason", "duplicate_of_id",
        "review_status", "reviewed_by_id", "reviewed_at", "review_reason", "entered_by_id",
        "author_id", "incident_id", "case_id", "current_stage", "admin1", "admin2",
        "admin1_code", "admin2_code", "outside_mission_area",
    }  # fmt: skip
    versioned = {table_of(m.class_): m for m in Base.registry.mappers}
    for table, content in history.CONTENT.items():
        columns = {a.key for a in versioned[table].column_attrs}
        assert content <= columns, table
        assert not content & workflow, table
    records = {table_of(m.class_) for m in Base.registry.mappers if issubclass(m.class_, Record)}
    assert records == set(history.CONTENT)


def table_of(model: type) -> str:
    return str(model.__dict__.get("__tablename__") or model.__name__)


def test_an_incident_and_a_victim_restore_the_content_their_fields_declare() -> None:
    # The sets the history declared by hand before they were read from incidents.fields:
    # a field added there is content unless it says otherwise, and the mission never is.
    assert history.CONTENT["incidents"] == {
        "occurred_on", "occurred_time", "date_precision", "country_code", "place",
        "latitude", "longitude", "geo_precision", "means_of_attack", "attack_context",
        "location_type", "perpetrator_type", "perpetrator_name", "narrative", "sources",
    }  # fmt: skip
    assert history.CONTENT["victims"] == {
        "category", "nationality_code", "contributing_country_code", "unit", "sex",
        "outcome", "date_of_death", "name", "identifier",
    }  # fmt: skip
    declared = {f.model_attribute for f in INCIDENT_FIELDS if f.recorded}
    assert history.CONTENT["incidents"] == declared - {"mission_code"}
    assert history.CONTENT["victims"] == {f.model_attribute for f in VICTIM_FIELDS}
