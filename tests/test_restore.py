"""Restoring a version brings back content, never workflow; new content goes through
validation again (incidents/restoring.py on top of incidents/history.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from capdb.db import utcnow
from incidents import history, restoring
from incidents.justice import stages
from incidents.models import (
    CapacityAssistance,
    Comment,
    Defendant,
    Incident,
    JudicialCase,
    Record,
    StageEvent,
)
from incidents.recording import workflow
from incidents.recording.restore_checks import restore_problems
from tests.factories import IncidentFactory, UserFactory, VictimFactory

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# Kept by the optimistic lock and the clock, whatever a restore does.
MOVING = {"version", "updated_at"}


def restore_version(db: Session, user: User, record: Record, version: int) -> restoring.Restored:
    """A restore as the pages make it: checked by the recording rules."""
    return restoring.restore_version(db, user, record, version, check=restore_problems)


def values(record: object, *names: str) -> tuple[object, ...]:
    """The record's values as they are now (read afresh, whatever was assigned before)."""
    return tuple(getattr(record, name) for name in names)


World = tuple[Session, IncidentFactory, VictimFactory, User]
Builder = Callable[[World], tuple[Record, dict[str, Any], dict[str, Any]]]


def _incident(world: World) -> tuple[Record, dict[str, Any], dict[str, Any]]:
    _db, make_incident, _v, user = world
    other = make_incident()
    record = make_incident(status="draft", narrative="First account.")
    workflow = {
        "status": "validated",
        "validated_by_id": user.id,
        "validated_at": AT,
        "submitted_by_id": user.id,
        "submitted_at": AT,
        "return_reason": "Check the date.",
        "mission_code": "MONUSCO",
        "deleted_at": AT,
        "duplicate_of_id": other.id,
        "created_by_id": user.id,
        "updated_by_id": user.id,
        "admin1": "Kidal",
    }
    return record, {"narrative": "Second account.", "place": "Tessalit"}, workflow


def _victim(world: World) -> tuple[Record, dict[str, Any], dict[str, Any]]:
    _db, make_incident, make_victim, _u = world
    record = make_victim(outcome="killed", date_of_death=date(2021, 3, 14), name="A. Mahamat")
    content = {"outcome": "injured", "date_of_death": None, "name": "A. Mahamat Idriss"}
    return record, content, {"deleted_at": AT, "incident_id": make_incident().id}


def _case(world: World) -> JudicialCase:
    db, make_incident, _v, _u = world
    case = JudicialCase(
        prosecuting_state_code="MLI", jurisdiction="ordinary", incidents=[make_incident()]
    )
    db.add(case)
    db.flush()
    return case


def _judicial_case(world: World) -> tuple[Record, dict[str, Any], dict[str, Any]]:
    case = _case(world)
    workflow = {"created_by_id": world[3].id, "current_stage": "reported", "deleted_at": AT}
    return case, {"charges": "Murder.", "national_reference": "PJ-1"}, workflow


def _defendant(world: World) -> tuple[Record, dict[str, Any], dict[str, Any]]:
    record = Defendant(case=_case(world), alias="Abou")
    world[0].add(record)
    world[0].flush()
    return record, {"alias": "Abou K.", "verdict": "Guilty"}, {"current_stage": "trial_opened"}


def _stage_event(world: World) -> tuple[Record, dict[str, Any], dict[str, Any]]:
    record = StageEvent(
        case=_case(world), stage="reported", occurred_on=date(2021, 4, 1), review_status="pending"
    )
    world[0].add(record)
    world[0].flush()
    workflow = {
        "review_status": "rejected",
        "reviewed_by_id": world[3].id,
        "reviewed_at": AT,
        "review_reason": "No document.",
        "entered_by_id": world[3].id,
        "deleted_at": AT,
    }
    return record, {"note": "Complaint lodged.", "occurred_on": date(2021, 4, 2)}, workflow


def _assistance(world: World) -> tuple[Record, dict[str, Any], dict[str, Any]]:
    record = CapacityAssistance(
        recipient_state_code="MLI", mission_code="MINUSMA", kind="training",
        started_on=date(2022, 1, 10), description="Forensics course.",
    )  # fmt: skip
    world[0].add(record)
    world[0].flush()
    return record, {"participants": 12, "kind": "technical"}, {"mission_code": "MONUSCO"}


def _comment(world: World) -> tuple[Record, dict[str, Any], dict[str, Any]]:
    db, make_incident, _v, user = world
    record = Comment(incident_id=make_incident().id, author_id=user.id, body="First.")
    db.add(record)
    db.flush()
    other = User(email="other@capdb.test", role="analyst", password_hash="x")
    db.add(other)
    db.flush()
    return record, {"body": "Second."}, {"author_id": other.id, "deleted_at": AT}


BUILDERS: list[Builder] = [
    _incident,
    _victim,
    _judicial_case,
    _defendant,
    _stage_event,
    _assistance,
    _comment,
]


@pytest.fixture
def world(
    db: Session, make_incident: IncidentFactory, make_victim: VictimFactory, make_user: UserFactory
) -> World:
    return db, make_incident, make_victim, make_user("admin")


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__.strip("_"))
def test_a_restore_brings_back_content_and_never_workflow(world: World, build: Builder) -> None:
    db = world[0]
    record, content, workflow = build(world)
    original = history.snapshot(record)
    for name, value in {**content, **workflow}.items():
        setattr(record, name, value)
    db.flush()
    changed = history.snapshot(record)

    restored = history.restore(db, record, 1)

    after = history.snapshot(record)
    assert {f.name for f in restored} == set(content)
    for name in after.keys() - MOVING:
        expected = original if name in history.content_fields(record) else changed
        assert after[name] == expected[name], name
    assert set(workflow) <= after.keys() - history.content_fields(record)


def _validated_incident(db: Session, make_incident: IncidentFactory, validator: User) -> Incident:
    incident = make_incident(status="draft", narrative="First account.")
    incident.narrative = "Second account."
    db.flush()
    incident.status, incident.validated_by_id, incident.validated_at = "validated", validator.id, AT
    db.flush()
    return incident


def test_restoring_content_sends_a_validated_incident_back_to_draft(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    officer, validator = make_user("mission"), make_user("mission")
    incident = _validated_incident(db, make_incident, validator)

    restored = restore_version(db, officer, incident, 1)

    assert restored.sent_back == ("incidents", "validated", "draft")
    assert (incident.narrative, incident.status) == ("First account.", "draft")
    assert (incident.validated_by_id, incident.validated_at) == (None, None)
    assert incident.updated_by_id == officer.id
    # Content and workflow changed together: one new version.
    assert incident.version == 4
    assert [v.version for v in history.versions(db, incident)] == [1, 2, 3]


def test_restoring_a_victim_sends_its_submitted_incident_back_to_draft(
    db: Session, make_victim: VictimFactory, make_user: UserFactory
) -> None:
    victim = make_victim(outcome="killed")
    incident = victim.incident
    incident.status, incident.submitted_at = "submitted", AT
    victim.outcome = "injured"
    db.flush()
    version = incident.version

    restored = restore_version(db, make_user("admin"), victim, 1)

    assert victim.outcome == "killed"
    assert restored.sent_back == ("incidents", "submitted", "draft")
    assert values(incident, "status", "submitted_at") == ("draft", None)
    assert incident.version == version + 1


def test_restoring_a_draft_keeps_it_a_draft_and_its_return_reason(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    incident = make_incident(status="draft", place="Aguelhok")
    incident.place, incident.return_reason = "Tessalit", "Check the place."
    db.flush()
    restored = restore_version(db, make_user("admin"), incident, 1)
    assert restored.sent_back is None
    assert (incident.place, incident.status) == ("Aguelhok", "draft")
    assert incident.return_reason == "Check the place."


def test_a_restored_stage_event_is_pending_and_stops_counting(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    keeper = make_user("admin")
    case = JudicialCase(prosecuting_state_code="MLI", jurisdiction="ordinary")
    case.incidents.append(make_incident())
    db.add(case)
    db.flush()
    event = StageEvent(case=case, stage="reported", occurred_on=date(2021, 4, 1), note="First.")
    db.add(event)
    db.flush()
    event.note, event.reviewed_by_id, event.reviewed_at = "Second.", keeper.id, AT
    db.flush()
    stages.recompute_stages(db, case)
    assert case.current_stage == "reported"

    restored = restore_version(db, keeper, event, 1)

    assert restored.sent_back == ("stage_events", "validated", "pending")
    assert (event.note, event.review_status) == ("First.", "pending")
    assert values(event, "reviewed_by_id", "reviewed_at", "review_reason") == (None, None, None)
    assert values(case, "current_stage") == (None,)
    stages.validate_update(db, keeper, event, at=AT)
    assert case.current_stage == "reported"


def test_a_restore_of_the_same_content_changes_and_audits_nothing(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    incident = make_incident(status="submitted")
    workflow.return_to_draft(db, make_user("admin"), incident, "Check it.")
    version = incident.version

    restored = restore_version(db, make_user("admin"), incident, 1)

    assert not restored
    assert (incident.status, incident.version) == ("draft", version)
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "restore")) is None


def test_the_audit_entry_names_both_versions_and_the_fields(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    officer = make_user("mission")
    incident = _validated_incident(db, make_incident, make_user("mission"))

    restore_version(db, officer, incident, 1)

    entry = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "restore")).one()
    assert (entry.user_id, entry.target_type, entry.target_id) == (
        officer.id,
        "incidents",
        str(incident.id),
    )
    assert entry.detail == {
        "restored_version": 1,
        "replaced_version": 3,
        "new_version": 4,
        "fields": ["narrative"],
        "workflow": {"record": "incidents", "from": "validated", "to": "draft"},
    }
    assert restoring.restores_of(db, [incident]) == {("incidents", incident.id, 3): 1}


def test_the_audit_names_but_never_keeps_personal_data(
    db: Session, make_victim: VictimFactory, make_user: UserFactory
) -> None:
    victim = make_victim(name="Adoum Mahamat")
    victim.name = "Adoum M."
    db.flush()
    restore_version(db, make_user("admin"), victim, 1)
    entry = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "restore")).one()
    assert entry.detail["fields"] == ["name"]
    assert "Adoum" not in str(entry.detail)
    assert utcnow() >= entry.occurred_at


AUDITED = {"restored_version", "replaced_version", "new_version", "fields", "workflow"}


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__.strip("_"))
def test_the_audit_of_a_restore_keeps_no_value_of_any_record(world: World, build: Builder) -> None:
    """The trail is never erased: it names the fields a restore changed and the versions
    (whose values the history holds), never the values, personal or not."""
    db = world[0]
    record, content, _workflow = build(world)
    original = {name: getattr(record, name) for name in content}
    for name, value in content.items():
        setattr(record, name, value)
    db.flush()

    restore_version(db, world[3], record, 1)

    entry = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "restore")).one()
    assert entry.detail.keys() <= AUDITED
    assert sorted(entry.detail["fields"]) == sorted(content)
    for value in [*content.values(), *original.values()]:
        if isinstance(value, str) and value:
            assert value not in str(entry.detail), value


def test_the_audit_never_keeps_a_defendants_alias_nor_a_perpetrators_name(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    incident = make_incident(perpetrator_name="Iyad Ag Ghali")
    incident.perpetrator_name = "Unknown armed group"
    case = JudicialCase(prosecuting_state_code="MLI", jurisdiction="ordinary", incidents=[incident])
    defendant = Defendant(case=case, alias="Abou Zeid")
    db.add(defendant)
    db.flush()
    defendant.alias = "A. Zeid"
    db.flush()
    officer = make_user("admin")
    restore_version(db, officer, incident, 1)
    restore_version(db, officer, defendant, 1)
    trail = str(db.scalars(sa.select(AuditEvent.detail)).all())
    for value in ("Iyad", "Unknown armed group", "Abou Zeid", "A. Zeid"):
        assert value not in trail


def test_a_restore_the_rules_refuse_changes_nothing(
    db: Session, make_incident: IncidentFactory, make_user: UserFactory
) -> None:
    # Recorded before the mission began (as no form would have taken it), then corrected.
    incident = make_incident(status="validated", occurred_on=date(2012, 1, 1))
    incident.occurred_on = date(2021, 3, 14)
    db.flush()

    with pytest.raises(restoring.RestoreRefusedError) as refused:
        restore_version(db, make_user("admin"), incident, 1)

    assert set(refused.value.problems) == {"occurred_on"}
    assert (
        "MINUSMA operated from 2013-04-25 to 2023-12-31" in refused.value.problems["occurred_on"][0]
    )
    db.refresh(incident)
    assert (incident.occurred_on, incident.version, incident.status) == (
        date(2021, 3, 14),
        2,
        "validated",
    )
    assert db.scalar(sa.select(AuditEvent).where(AuditEvent.action == "restore")) is None


def test_an_incident_restore_is_checked_against_its_victims(
    db: Session, make_victim: VictimFactory, make_user: UserFactory
) -> None:
    victim = make_victim(outcome="killed", date_of_death=date(2021, 3, 20))
    incident = victim.incident
    incident.occurred_on = date(2021, 3, 25)  # version 2: after the victim's death
    db.flush()
    incident.occurred_on = date(2021, 3, 14)
    db.flush()

    problems = restore_problems(db, incident, history.restore_preview(db, incident, 2))

    assert set(problems) == {"date_of_death"}
    assert restore_problems(db, incident, history.restore_preview(db, incident, 1)) == {}


def test_a_victim_restore_is_checked_against_its_incident(
    db: Session, make_victim: VictimFactory, make_user: UserFactory
) -> None:
    victim = make_victim(outcome="killed", date_of_death=date(2021, 3, 14))
    victim.outcome, victim.date_of_death = "injured", None
    victim.incident.occurred_on = date(2021, 3, 20)
    db.flush()

    with pytest.raises(restoring.RestoreRefusedError) as refused:
        restore_version(db, make_user("admin"), victim, 1)

    assert set(refused.value.problems) == {"date_of_death"}
    db.refresh(victim)
    assert (victim.outcome, victim.date_of_death, victim.version) == ("injured", None, 2)
