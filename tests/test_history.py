from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.db import utcnow
from incidents import history
from incidents.models import RecordVersion, Victim
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


def test_soft_delete_is_a_change_that_can_be_undone(
    db: Session, make_victim: VictimFactory
) -> None:
    victim = make_victim(name="Soldier A")
    victim.deleted_at = utcnow()
    db.flush()
    history.restore(db, victim, 1)
    restored = db.get_one(Victim, victim.id)
    assert restored.deleted_at is None
    assert restored.name == "Soldier A"


def test_new_records_have_no_earlier_version(db: Session, make_incident: IncidentFactory) -> None:
    make_incident()
    assert db.scalar(sa.select(sa.func.count()).select_from(RecordVersion)) == 0
