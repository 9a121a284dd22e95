"""``incident_states`` kept on every write path, and ``flask --app wsgi scope``.

The rule computed from scratch after random edits is compared with the table in
:mod:`tests.test_concerned_rule`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from capdb.db import utcnow
from capdb.reference import (
    HostPeriod,
    Mission,
    MissionHost,
    load_reference,
    mission_hosts,
    set_mission_hosts,
)
from demo.seed import seed_demo
from incidents.concerned import Difference, rebuild, refresh_mission_hosts
from incidents.models import (
    CONCERN_REASONS,
    CaseMission,
    CaseState,
    Incident,
    IncidentState,
    JudicialCase,
    Victim,
)
from incidents.recording.restore_checks import restore_problems
from incidents.restoring import restore_version
from incidents.transfer import importing
from incidents.visibility import visible_cases
from tests.factories import IncidentFactory, UserFactory, VictimFactory
from tests.test_import import ENGLISH_ROW, csv_file


def rows_of(db: Session, incident: Incident | int) -> set[tuple[str, str]]:
    """The incident's (State, reason) pairs as the table holds them."""
    incident_id = incident if isinstance(incident, int) else incident.id
    flags = [getattr(IncidentState, reason) for reason in CONCERN_REASONS]
    rows = db.execute(
        sa.select(IncidentState.state, *flags).where(IncidentState.incident_id == incident_id)
    )
    return {
        (state, reason)
        for state, *held in rows
        for reason, flag in zip(CONCERN_REASONS, held, strict=True)
        if flag
    }


def test_an_incident_concerns_its_hosts_place_and_victims_states(
    db: Session, make_incident: IncidentFactory, make_victim: VictimFactory
) -> None:
    incident = make_incident(country_code="NER")
    assert rows_of(db, incident) == {("MLI", "host"), ("NER", "place")}
    make_victim(incident, nationality_code="SEN", contributing_country_code="TCD")
    make_victim(incident, nationality_code="SEN", contributing_country_code=None)
    assert rows_of(db, incident) == {
        ("MLI", "host"), ("NER", "place"), ("SEN", "nationality"), ("TCD", "contributor"),
    }  # fmt: skip


def test_edits_removals_and_undeletes_of_victims_change_the_rows(
    db: Session, make_victim: VictimFactory
) -> None:
    victim = make_victim(nationality_code="TCD", contributing_country_code="TCD")
    incident = victim.incident
    victim.nationality_code = "FRA"
    db.flush()
    assert rows_of(db, incident) == {
        ("MLI", "host"), ("MLI", "place"), ("FRA", "nationality"), ("TCD", "contributor"),
    }  # fmt: skip
    victim.deleted_at = utcnow()
    db.flush()
    assert rows_of(db, incident) == {("MLI", "host"), ("MLI", "place")}
    victim.deleted_at = None
    db.flush()
    assert ("FRA", "nationality") in rows_of(db, incident)


def test_moving_an_incident_to_another_mission_or_country(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident()
    incident.mission_code, incident.country_code = "MONUSCO", "COD"
    db.flush()
    assert rows_of(db, incident) == {("COD", "host"), ("COD", "place")}


def test_a_new_date_moves_the_rows_with_the_incident(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(occurred_on=date(2021, 3, 14))
    incident.occurred_on = date(2016, 7, 2)
    db.flush()
    dates = db.scalars(
        sa.select(IncidentState.occurred_on).where(IncidentState.incident_id == incident.id)
    )
    assert set(dates) == {date(2016, 7, 2)}


def test_a_victim_moved_to_another_incident_leaves_the_first(
    db: Session, make_incident: IncidentFactory, make_victim: VictimFactory
) -> None:
    first, second = make_incident(), make_incident()
    victim = make_victim(first, nationality_code="BRA", contributing_country_code=None)
    victim.incident = second
    db.flush()
    assert ("BRA", "nationality") not in rows_of(db, first)
    assert ("BRA", "nationality") in rows_of(db, second)


def test_a_hard_deleted_incident_takes_its_rows_away(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident()
    incident_id = incident.id
    db.delete(incident)
    db.flush()
    assert rows_of(db, incident_id) == set()


def test_changing_a_missions_hosts_and_loading_the_reference_back(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(country_code="MLI")
    minusma = db.get_one(Mission, "MINUSMA")
    set_mission_hosts(db, minusma, [HostPeriod("NER"), HostPeriod("BFA", since=date(2022, 1, 1))])
    assert rows_of(db, incident) == {("NER", "host"), ("BFA", "host"), ("MLI", "place")}
    load_reference(db)
    assert rows_of(db, incident) == {("MLI", "host"), ("MLI", "place")}


def test_a_host_period_added_or_removed_on_its_own(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident()
    host = MissionHost(mission_code="MINUSMA", country_code="DZA")
    db.add(host)
    db.flush()
    assert ("DZA", "host") in rows_of(db, incident)
    db.delete(host)
    db.flush()
    assert ("DZA", "host") not in rows_of(db, incident)


def test_refresh_mission_hosts_after_a_change_in_sql(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident()
    db.execute(sa.insert(mission_hosts).values(mission_code="MINUSMA", country_code="DZA"))
    assert ("DZA", "host") not in rows_of(db, incident)
    assert refresh_mission_hosts(db, "MINUSMA") == Difference(added=1, removed=0)
    assert ("DZA", "host") in rows_of(db, incident)


def test_restoring_a_victims_earlier_nationality(
    db: Session, make_user: UserFactory, make_victim: VictimFactory
) -> None:
    admin = make_user("admin")
    victim = make_victim(
        category="international_civilian", nationality_code="TCD", contributing_country_code=None
    )
    victim.nationality_code = "NPL"
    db.flush()
    assert ("TCD", "nationality") not in rows_of(db, victim.incident)
    restore_version(db, admin, victim, 1, check=restore_problems)
    assert victim.nationality_code == "TCD"
    assert ("TCD", "nationality") in rows_of(db, victim.incident)


def test_an_import_writes_the_rows_of_its_incidents(
    app: Flask, db: Session, make_user: UserFactory
) -> None:
    officer = make_user("mission", missions=("MINUSMA",))
    with app.test_request_context():
        result = importing.import_spreadsheet(
            db, officer, csv_file([ENGLISH_ROW | {"Country": "Niger"}]), "minusma.csv"
        )
    [incident_id] = result.created
    assert rows_of(db, incident_id) == {
        ("MLI", "host"), ("NER", "place"), ("TCD", "nationality"), ("TCD", "contributor"),
        ("MLI", "nationality"),
    }  # fmt: skip


def test_the_demo_seed_fills_the_table_as_the_rule_would(db: Session) -> None:
    seed_demo(db, 300, 7)
    rows = db.scalar(sa.select(sa.func.count()).select_from(IncidentState))
    assert (rows or 0) > 300
    assert rebuild(db, write=False) == (Difference(),) * 3


# Cases ----------------------------------------------------------------------------------------


def case_rows_of(db: Session, case: JudicialCase) -> set[tuple[str, str]]:
    rows = db.execute(
        sa.select(CaseState.state, CaseState.prosecutor, CaseState.through_incident).where(
            CaseState.case_id == case.id
        )
    )
    return {
        (state, reason)
        for state, prosecutor, through in rows
        for reason, flag in (("prosecutor", prosecutor), ("through_incident", through))
        if flag
    }


def open_case(db: Session, *incidents: Incident, prosecutor: str = "MLI") -> JudicialCase:
    case = JudicialCase(
        prosecuting_state_code=prosecutor, jurisdiction="ordinary", incidents=list(incidents)
    )
    db.add(case)
    db.flush()
    return case


def test_a_case_is_seen_by_its_prosecutor_and_through_its_validated_incidents(
    db: Session, make_incident: IncidentFactory, make_victim: VictimFactory
) -> None:
    incident = make_incident(country_code="NER", status="validated")
    make_victim(incident, nationality_code="TCD", contributing_country_code="TCD")
    case = open_case(db, incident, prosecutor="FRA")
    through = {("MLI", "through_incident"), ("NER", "through_incident")}
    assert case_rows_of(db, case) == {("FRA", "prosecutor"), ("TCD", "through_incident")} | through
    incident.status = "draft"
    db.flush()
    assert case_rows_of(db, case) == {("FRA", "prosecutor")}
    incident.status = "validated"
    incident.deleted_at = utcnow()
    db.flush()
    assert case_rows_of(db, case) == {("FRA", "prosecutor")}


def test_a_cases_rows_follow_its_links_prosecutor_and_incidents(
    db: Session, make_incident: IncidentFactory
) -> None:
    first, second = make_incident(country_code="MLI"), make_incident(country_code="BFA")
    case = open_case(db, first, prosecutor="MLI")
    assert case_rows_of(db, case) == {("MLI", "prosecutor"), ("MLI", "through_incident")}
    case.incidents.append(second)
    case.prosecuting_state_code = "SEN"
    db.flush()
    assert case_rows_of(db, case) == {
        ("SEN", "prosecutor"), ("MLI", "through_incident"), ("BFA", "through_incident"),
    }  # fmt: skip
    second.country_code = "NER"
    db.flush()
    assert ("NER", "through_incident") in case_rows_of(db, case)
    assert ("BFA", "through_incident") not in case_rows_of(db, case)


def test_a_focal_point_sees_the_case_its_state_prosecutes_over_a_deleted_incident(
    db: Session, make_user: UserFactory, make_incident: IncidentFactory, make_victim: VictimFactory
) -> None:
    # The edits the random test once failed on: the table was right, its check asked with
    # an unsaved focal point, inactive until inserted, who sees nothing.
    incident = make_incident(mission_code="MINUSCA", country_code="FRA", status="draft")
    victim = make_victim(incident, nationality_code="BFA", contributing_country_code=None)
    victim.deleted_at = incident.deleted_at = utcnow()
    db.flush()
    case = open_case(db, incident, prosecutor="BFA")
    assert case_rows_of(db, case) == {("BFA", "prosecutor")}
    for state, seen in (("BFA", {case.id}), ("FRA", set()), ("CAF", set())):
        focal_point = make_user("member_state", state=state)
        visible = sa.select(JudicialCase.id).where(
            JudicialCase.id == case.id, visible_cases(focal_point)
        )
        assert set(db.scalars(visible)) == seen, state


def test_a_case_unlinked_from_its_incidents_side_loses_what_it_saw_through_it(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(country_code="NER")
    case = open_case(db, incident, prosecutor="FRA")
    db.expire_all()  # the case's incidents not loaded: the backref only queues the removal
    incident.cases.remove(case)
    db.flush()
    assert case_rows_of(db, case) == {("FRA", "prosecutor")}
    assert rebuild(db, write=False) == (Difference(),) * 3


def test_a_hard_deleted_incident_no_longer_shows_its_cases(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident, other = make_incident(country_code="NER"), make_incident(country_code="BFA")
    case = open_case(db, incident, other, prosecutor="FRA")
    db.expire_all()
    db.delete(incident)
    db.flush()
    assert case_rows_of(db, case) == {
        ("FRA", "prosecutor"), ("MLI", "through_incident"), ("BFA", "through_incident"),
    }  # fmt: skip
    assert rebuild(db, write=False) == (Difference(),) * 3


def missions_of(db: Session, case: JudicialCase) -> set[str]:
    statement = sa.select(CaseMission.mission_code).where(CaseMission.case_id == case.id)
    return set(db.scalars(statement))


def test_a_cases_missions_follow_its_incidents_moves_and_links(
    db: Session, make_user: UserFactory, make_incident: IncidentFactory
) -> None:
    first = make_incident(mission_code="MINUSMA", status="draft")
    second = make_incident(mission_code="MINUSCA", country_code="CAF")
    case = open_case(db, first)
    assert missions_of(db, case) == {"MINUSMA"}
    case.incidents.append(second)
    db.flush()
    assert missions_of(db, case) == {"MINUSMA", "MINUSCA"}
    first.mission_code = "MONUSCO"
    db.flush()
    assert missions_of(db, case) == {"MONUSCO", "MINUSCA"}
    second.deleted_at = utcnow()  # officers still keep the case (keeps_case)
    db.flush()
    assert missions_of(db, case) == {"MONUSCO", "MINUSCA"}
    officer = make_user("mission", missions=("MINUSCA",))
    visible = sa.select(JudicialCase.id).where(visible_cases(officer))
    assert set(db.scalars(visible)) == {case.id}
    db.expire_all()
    second.cases.remove(case)
    db.flush()
    assert missions_of(db, case) == {"MONUSCO"}
    assert set(db.scalars(visible)) == set()
    assert rebuild(db, write=False) == (Difference(),) * 3


# The command ----------------------------------------------------------------------------------


def spoil(db: Session, incident: Incident) -> None:
    """Take a row away and add a wrong one, as a write past the rule might."""
    db.execute(sa.delete(IncidentState).where(IncidentState.incident_id == incident.id))
    wrong = {"incident_id": incident.id, "state": "BRA", "place": True}
    db.execute(sa.insert(IncidentState).values(occurred_on=incident.occurred_on, **wrong))


def invoke(cli: FlaskCliRunner, *args: str) -> Any:
    return cli.invoke(args=["scope", *args])


def test_scope_check_reports_differences_without_writing_them(
    cli: FlaskCliRunner, db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident()
    assert invoke(cli, "check").exit_code == 0
    spoil(db, incident)
    result = invoke(cli, "check")
    assert result.exit_code == 1
    assert "1 rows missing, 1 rows that should not be there" in result.output
    assert rows_of(db, incident) == {("BRA", "place")}


def test_scope_rebuild_puts_the_rule_back_and_reports_it(
    cli: FlaskCliRunner, db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident()
    spoil(db, incident)
    result = invoke(cli, "rebuild")
    assert result.exit_code == 0, result.output
    assert "1 rows added, 1 removed" in result.output
    assert rows_of(db, incident) == {("MLI", "host"), ("MLI", "place")}
    again = invoke(cli, "rebuild")
    assert "0 rows added, 0 removed" in again.output
    assert "Scope is current" in invoke(cli, "check").output


def test_rebuild_in_ranges_covers_every_incident(
    db: Session, make_incident: IncidentFactory, monkeypatch: Any
) -> None:
    from incidents import concerned

    monkeypatch.setattr(concerned, "REBUILD_CHUNK", 2)
    incidents = [make_incident(country_code=code) for code in ("MLI", "NER", "BFA", "TCD", "SEN")]
    db.execute(
        sa.delete(IncidentState).where(IncidentState.incident_id.in_([i.id for i in incidents]))
    )
    assert rebuild(db) == (Difference(added=9, removed=0), Difference(), Difference())
    assert all(rows_of(db, i) == {("MLI", "host"), (i.country_code, "place")} for i in incidents)


def test_a_victim_written_in_sql_is_caught_by_check(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident()
    db.execute(
        sa.insert(Victim).values(
            incident_id=incident.id, category="contingent_military", nationality_code="IND",
            outcome="injured", sex="male", version=1, date_of_death=None,
        )
    )  # fmt: skip
    # Written past the session: only a check (or a rebuild) finds it.
    assert rebuild(db, write=False) == (Difference(added=1, removed=0), Difference(), Difference())
