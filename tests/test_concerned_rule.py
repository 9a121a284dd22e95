"""After any sequence of edits, ``incident_states`` and ``case_states`` hold what their
rules compute from scratch.

Random edits go through the services the forms and the API call (recording an incident
with victims, editing its country, mission, date and victims), and through the ORM for
the rest, as the workflow, the case pages and an administrator write it (a status, a
mission's hosts, undeleting a victim, deleting an incident, opening a case on incidents,
linking one more, changing its prosecuting State). After each one, the incident rows are
compared with the rule evaluated in Python over the records, and each State's cases with
the SQL rule the policy used before; at the end :func:`incidents.visibility.concerns` is
compared with the SQL rule it replaced, State by State.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date
from itertools import compress
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import utcnow
from capdb.reference import HostPeriod, Mission, mission_hosts, set_mission_hosts
from incidents.models import (
    CONCERN_REASONS,
    Incident,
    IncidentState,
    JudicialCase,
    Victim,
    case_incidents,
)
from incidents.recording import service
from incidents.visibility import concerns, visible_cases
from tests.factories import UserFactory, incident_values

STATES = ("MLI", "NER", "TCD", "FRA", "SEN", "BFA", "CAF", "COD")
MISSIONS = ("MINUSMA", "MINUSCA", "MONUSCO")

states = st.sampled_from(STATES)
contributors = st.none() | states
index = st.integers(0, 50)  # of an incident or a victim, modulo how many there are

creations = st.tuples(
    st.just("create"),
    st.sampled_from(MISSIONS),
    states,
    st.lists(st.tuples(states, contributors), max_size=3),
)
operations = st.one_of(
    creations,
    st.tuples(st.just("place"), index, states),
    st.tuples(st.just("mission"), index, st.sampled_from(MISSIONS)),
    st.tuples(st.just("date"), index, st.dates(date(2014, 1, 1), date(2022, 12, 31))),
    st.tuples(st.just("add_victim"), index, states, contributors),
    st.tuples(st.just("edit_victim"), index, index, states, contributors),
    st.tuples(st.just("remove_victim"), index, index),
    st.tuples(st.just("undelete_victim"), index, index),
    st.tuples(st.just("hosts"), st.sampled_from(MISSIONS), st.sets(states, min_size=1, max_size=2)),
    st.tuples(st.just("delete_incident"), index),
    st.tuples(st.just("status"), index, st.sampled_from(("draft", "submitted", "validated"))),
    st.tuples(st.just("case"), index, index, states),
    st.tuples(st.just("link"), index, index),
    st.tuples(st.just("prosecutor"), index, states),
    st.tuples(st.just("undelete_incident"), index),
)


def old_concerns(state: str) -> sa.ColumnElement[bool]:
    """The rule as the policy computed it on every query before the table: the reference."""
    missions_hosted = sa.select(mission_hosts.c.mission_code).where(
        mission_hosts.c.country_code == state
    )
    with_victims_of_state = (
        sa.select(Victim.incident_id)
        .where(Victim.deleted_at.is_(None))
        .where(sa.or_(Victim.nationality_code == state, Victim.contributing_country_code == state))
    )
    return sa.or_(
        Incident.country_code == state,
        Incident.mission_code.in_(missions_hosted),
        Incident.id.in_(with_victims_of_state),
    )


Row = tuple[int, str, date, frozenset[str]]


def expected_rows(db: Session, incidents: list[Incident]) -> set[Row]:
    """The rule evaluated in Python over the records as the database now holds them."""
    db.expire_all()
    reasons: dict[tuple[Incident, str], set[str]] = defaultdict(set)
    for incident in incidents:
        reasons[incident, incident.country_code].add("place")
        for host in incident.mission.hosts:
            reasons[incident, host.code].add("host")
        for victim in incident.victims:
            if victim.deleted_at is None:
                reasons[incident, victim.nationality_code].add("nationality")
                if victim.contributing_country_code is not None:
                    reasons[incident, victim.contributing_country_code].add("contributor")
    return {
        (incident.id, state, incident.occurred_on, frozenset(why))
        for (incident, state), why in reasons.items()
    }


def held_rows(db: Session, incidents: list[Incident]) -> set[Row]:
    flags = [getattr(IncidentState, reason) for reason in CONCERN_REASONS]
    found = db.execute(
        sa.select(
            IncidentState.incident_id, IncidentState.state, IncidentState.occurred_on, *flags
        ).where(IncidentState.incident_id.in_([incident.id for incident in incidents]))
    )
    return {
        (incident_id, state, occurred_on, frozenset(compress(CONCERN_REASONS, held)))
        for incident_id, state, occurred_on, *held in found
    }


def ids_where(db: Session, ids: list[int], condition: sa.ColumnElement[bool]) -> set[int]:
    return set(db.scalars(sa.select(Incident.id).where(Incident.id.in_(ids), condition)))


def old_visible_cases(state: str) -> sa.ColumnElement[bool]:
    """A Member State's cases as the policy computed them before ``case_states``."""
    through_incident = (
        sa.exists()
        .where(case_incidents.c.case_id == JudicialCase.id)
        .where(case_incidents.c.incident_id == Incident.id)
        .where(Incident.deleted_at.is_(None), Incident.status == "validated")
        .where(old_concerns(state))
        .correlate(JudicialCase)
    )
    validated = JudicialCase.review_status == "validated"
    prosecuted = JudicialCase.prosecuting_state_code == state
    seen = sa.or_(sa.and_(validated, sa.or_(through_incident, prosecuted)), prosecuted)
    return sa.and_(JudicialCase.deleted_at.is_(None), seen)


def old_mission_cases(mission: str) -> sa.ColumnElement[bool]:
    """A mission officer's cases as the policy computed them before ``case_missions``:
    reviewed ones linked to an undeleted incident of the mission, and every case the
    officer keeps (linked to any incident of the mission)."""

    def linked(*conditions: sa.ColumnElement[bool]) -> sa.Exists:
        return (
            sa.exists()
            .where(case_incidents.c.case_id == JudicialCase.id)
            .where(case_incidents.c.incident_id == Incident.id)
            .where(Incident.mission_code == mission, *conditions)
            .correlate(JudicialCase)
        )

    validated = JudicialCase.review_status == "validated"
    seen = sa.or_(sa.and_(validated, linked(Incident.deleted_at.is_(None))), linked())
    return sa.and_(JudicialCase.deleted_at.is_(None), seen)


def cases_seen(
    db: Session, cases: list[JudicialCase], condition: sa.ColumnElement[bool]
) -> set[int]:
    ids = [case.id for case in cases]
    return set(db.scalars(sa.select(JudicialCase.id).where(JudicialCase.id.in_(ids), condition)))


def check_cases(db: Session, cases: list[JudicialCase]) -> None:
    """Each State's focal point and each mission's officer sees the cases the former
    rules gave them."""
    for state in STATES:
        # Active as a stored account would be: the column's default is only applied when
        # the row is inserted, and an inactive user sees nothing.
        focal_point = User(
            email=f"{state}@capdb.test", role="member_state", state_code=state, active=True
        )
        kept = cases_seen(db, cases, visible_cases(focal_point))
        assert kept == cases_seen(db, cases, old_visible_cases(state)), state
    for mission in MISSIONS:
        officer = User(email=f"{mission}@capdb.test", role="mission", active=True)
        officer.missions = [db.get_one(Mission, mission)]
        kept = cases_seen(db, cases, visible_cases(officer))
        assert kept == cases_seen(db, cases, old_mission_cases(mission)), mission


class Editor:
    """Applies one drawn operation through the services, as an administrator."""

    def __init__(self, db: Session, admin: User) -> None:
        self.db, self.admin = db, admin
        self.incidents: list[Incident] = []
        self.cases: list[JudicialCase] = []

    def apply(self, operation: tuple[Any, ...]) -> None:
        name, *arguments = operation
        if name in ("create", "hosts"):
            getattr(self, name)(*arguments)
            return
        if not self.incidents:
            return
        if name in ("link", "prosecutor"):
            if self.cases:
                case = self.cases[arguments[0] % len(self.cases)]
                getattr(self, name)(case, *arguments[1:])
        elif name == "case":
            self.case(*arguments)
        else:
            self.change(name, self.incident(arguments[0]), *arguments[1:])
        self.db.flush()

    def incident(self, number: int) -> Incident:
        return self.incidents[number % len(self.incidents)]

    def change(self, name: str, incident: Incident, *arguments: Any) -> None:
        if name == "delete_incident":
            incident.deleted_at = utcnow()
        elif name == "undelete_incident":
            incident.deleted_at = None
        elif name == "status":  # as the workflow sets it
            incident.status = arguments[0]
        elif incident.deleted_at is None:
            getattr(self, name)(incident, *arguments)

    def case(self, first: int, second: int, prosecutor: str) -> None:
        linked = list({self.incident(first), self.incident(second)})
        case = JudicialCase(
            prosecuting_state_code=prosecutor, jurisdiction="ordinary", incidents=linked
        )
        self.db.add(case)
        self.cases.append(case)

    def link(self, case: JudicialCase, number: int) -> None:
        if self.incident(number) not in case.incidents:
            case.incidents.append(self.incident(number))

    def prosecutor(self, case: JudicialCase, state: str) -> None:
        case.prosecuting_state_code = state

    def create(self, mission: str, country: str, victims: list[tuple[str, str | None]]) -> None:
        values: dict[str, Any] = incident_values(mission_code=mission, country_code=country)
        names = [f.name for f in dataclasses.fields(service.IncidentFields)]
        chosen: dict[str, Any] = {name: values.get(name) for name in names}
        fields = service.IncidentFields(**chosen)
        rows = [service.VictimRow(None, None, victim_fields(*v)) for v in victims]
        self.incidents.append(service.create_incident(self.db, self.admin, fields, rows))

    def hosts(self, mission: str, codes: set[str]) -> None:
        hosts = [HostPeriod(code) for code in codes]
        set_mission_hosts(self.db, self.db.get_one(Mission, mission), hosts)
        self.db.flush()

    def edit(self, incident: Incident, rows: list[service.VictimRow], **changes: object) -> None:
        current = {
            f.name: getattr(incident, f.name) for f in dataclasses.fields(service.IncidentFields)
        }
        fields = service.IncidentFields(**(current | changes))
        service.update_incident(
            self.db, self.admin, incident, fields, rows, loaded_version=incident.version
        )

    def place(self, incident: Incident, country: str) -> None:
        self.edit(incident, [], country_code=country)

    def mission(self, incident: Incident, mission: str) -> None:
        self.edit(incident, [], mission_code=mission)

    def date(self, incident: Incident, occurred_on: date) -> None:
        self.edit(incident, [], occurred_on=occurred_on)

    def add_victim(self, incident: Incident, nationality: str, contributor: str | None) -> None:
        self.edit(
            incident, [service.VictimRow(None, None, victim_fields(nationality, contributor))]
        )

    def victim(self, incident: Incident, number: int, *, deleted: bool = False) -> Victim | None:
        victims = [v for v in incident.victims if (v.deleted_at is not None) is deleted]
        return victims[number % len(victims)] if victims else None

    def edit_victim(
        self, incident: Incident, number: int, nationality: str, contributor: str | None
    ) -> None:
        victim = self.victim(incident, number)
        if victim is not None:
            fields = victim_fields(nationality, contributor)
            self.edit(incident, [service.VictimRow(victim.id, victim.version, fields)])

    def remove_victim(self, incident: Incident, number: int) -> None:
        victim = self.victim(incident, number)
        if victim is not None:
            self.edit(incident, [service.VictimRow(victim.id, victim.version, None)])

    def undelete_victim(self, incident: Incident, number: int) -> None:
        victim = self.victim(incident, number, deleted=True)
        if victim is not None:
            victim.deleted_at = None


def victim_fields(nationality: str, contributor: str | None) -> service.VictimFields:
    return service.VictimFields(
        category="contingent_military" if contributor else "international_civilian",
        nationality_code=nationality,
        contributing_country_code=contributor,
        unit=None,
        sex="male",
        outcome="injured",
        date_of_death=None,
        name=None,
    )


@pytest.fixture
def admin_id(make_user: UserFactory) -> int:
    return make_user("admin").id


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(creations, min_size=1, max_size=3),
    edits=st.lists(operations, min_size=1, max_size=12),
)
def test_the_table_is_the_rule_after_random_edits(
    db: Session, admin_id: int, first: list[tuple[Any, ...]], edits: list[tuple[Any, ...]]
) -> None:
    # Each example starts from the same database, and a session that holds nothing of
    # another example's (SQLite gives the ids of rolled back rows again).
    db.expunge_all()
    example = db.begin_nested()
    try:
        editor = Editor(db, db.get_one(User, admin_id))
        for operation in first + edits:
            editor.apply(operation)
            # After every step: a later edit of the same incident would mend a miss.
            assert held_rows(db, editor.incidents) == expected_rows(db, editor.incidents)
            check_cases(db, editor.cases)
        incidents = editor.incidents
        ids = [incident.id for incident in incidents]
        for state in STATES:
            assert ids_where(db, ids, concerns(state)) == ids_where(db, ids, old_concerns(state))
    finally:
        example.rollback()
