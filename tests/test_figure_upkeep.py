"""After any sequence of changes, the figure tables hold what the incidents add up to.

Random changes go through the recording service (incidents and their victims) and through
the ORM as the other services write (status, deletion, cases, their incidents and stage
events, a mission's hosts). After each, the tables kept current change by change must equal
what :mod:`maps.figure_facts` computes from scratch; at the end, they must also equal what
the set-based fill of :mod:`maps.figure_fill` writes, so that both statements of the rule
agree.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import utcnow
from capdb.reference import HostPeriod, Mission, set_mission_hosts
from incidents.models import Incident, JudicialCase, StageEvent
from incidents.recording import service
from maps.figure_facts import TABLES
from maps.figure_upkeep import changing, check, is_built, rebuild, table
from tests.factories import UserFactory, incident_values

STATES = ("MLI", "NER", "TCD", "FRA", "SEN", "CAF")
MISSIONS = ("MINUSMA", "MINUSCA")
MEANS = ("ied", "small_arms", "abduction")
OUTCOMES = ("killed", "injured", "abducted", "detained")
STAGES = ("reported", "suspect_identified", "arrested", "charged", "convicted", "acquitted")

states = st.sampled_from(STATES)
contributors = st.none() | states
index = st.integers(0, 40)  # of an incident, a victim, a case: modulo how many there are
days = st.integers(0, 900)
points = st.none() | st.tuples(st.floats(-20, 30), st.floats(-10, 25))
victims = st.tuples(states, contributors, st.sampled_from(OUTCOMES))

creations = st.tuples(
    st.just("create"),
    st.sampled_from(MISSIONS),
    states,
    st.sampled_from(MEANS),
    days,
    points,
    st.lists(victims, max_size=3),
)
operations = st.one_of(
    creations,
    st.tuples(st.just("edit"), index, states, st.sampled_from(MEANS), days, points),
    st.tuples(st.just("mission"), index, st.sampled_from(MISSIONS)),
    st.tuples(st.just("status"), index, st.sampled_from(("draft", "submitted", "validated"))),
    st.tuples(st.just("add_victim"), index, victims),
    st.tuples(st.just("edit_victim"), index, index, victims),
    st.tuples(st.just("remove_victim"), index, index),
    st.tuples(st.just("delete_incident"), index),
    st.tuples(st.just("undelete_incident"), index),
    st.tuples(st.just("open_case"), index),
    st.tuples(st.just("link"), index, index),
    st.tuples(st.just("unlink"), index, index),
    st.tuples(st.just("event"), index, st.sampled_from(STAGES), days, st.booleans()),
    st.tuples(st.just("review"), index, index, st.sampled_from(("validated", "rejected"))),
    st.tuples(st.just("review_case"), index, st.sampled_from(("pending", "validated", "rejected"))),
    st.tuples(st.just("delete_case"), index),
    st.tuples(st.just("hosts"), st.sampled_from(MISSIONS), st.sets(states, min_size=1, max_size=2)),
    st.tuples(st.just("areas"), index, st.sampled_from(("A1", "A2", None))),
)

FIRST_DAY = date(2019, 1, 1)


def victim_fields(nationality: str, contributor: str | None, outcome: str) -> service.VictimFields:
    return service.VictimFields(
        category="contingent_military" if contributor else "international_civilian",
        nationality_code=nationality,
        contributing_country_code=contributor,
        unit=None,
        sex="male",
        outcome=outcome,
        date_of_death=None,
        name=None,
    )


class Editor:
    """Applies one drawn change, as an administrator."""

    def __init__(self, db: Session, admin: User) -> None:
        self.db, self.admin = db, admin
        self.incidents: list[Incident] = []
        self.cases: list[JudicialCase] = []

    def apply(self, operation: tuple[Any, ...]) -> None:
        name, *arguments = operation
        if name in ("create", "hosts") or self.incidents:
            getattr(self, name)(*arguments)
        self.db.flush()

    def pick(self, number: int) -> Incident:
        return self.incidents[number % len(self.incidents)]

    def fields(self, incident: Incident, **changes: Any) -> service.IncidentFields:
        names = [f.name for f in dataclasses.fields(service.IncidentFields)]
        return service.IncidentFields(**{n: getattr(incident, n) for n in names} | changes)

    def create(self, mission: str, country: str, means: str, day: int, point: Any,
               victims: list[tuple[str, str | None, str]]) -> None:  # fmt: skip
        values = incident_values(mission_code=mission, country_code=country)
        names = [f.name for f in dataclasses.fields(service.IncidentFields)]
        values |= {"means_of_attack": means, "occurred_on": FIRST_DAY + timedelta(days=day)}
        values |= self.place(point)
        chosen: dict[str, Any] = {name: values.get(name) for name in names}
        fields = service.IncidentFields(**chosen)
        rows = [service.VictimRow(None, None, victim_fields(*v)) for v in victims]
        self.incidents.append(service.create_incident(self.db, self.admin, fields, rows))

    @staticmethod
    def place(point: Any) -> dict[str, Any]:
        if point is None:
            return {"latitude": None, "longitude": None}
        return {"longitude": round(point[0], 5), "latitude": round(point[1], 5)}

    def update(self, incident: Incident, rows: list[service.VictimRow], **changes: Any) -> None:
        if incident.deleted_at is None:
            service.update_incident(
                self.db, self.admin, incident, self.fields(incident, **changes), rows,
                loaded_version=incident.version,
            )  # fmt: skip

    def edit(self, number: int, country: str, means: str, day: int, point: Any) -> None:
        when = FIRST_DAY + timedelta(days=day)
        changes = {"country_code": country, "means_of_attack": means, "occurred_on": when}
        self.update(self.pick(number), [], **changes, **self.place(point))

    def mission(self, number: int, mission: str) -> None:
        self.update(self.pick(number), [], mission_code=mission)

    def status(self, number: int, status: str) -> None:
        self.pick(number).status = status

    def add_victim(self, number: int, victim: tuple[str, str | None, str]) -> None:
        self.update(self.pick(number), [service.VictimRow(None, None, victim_fields(*victim))])

    def edit_victim(self, number: int, which: int, victim: tuple[str, str | None, str]) -> None:
        incident = self.pick(number)
        live = [v for v in incident.victims if v.deleted_at is None]
        if live:
            chosen = live[which % len(live)]
            row = service.VictimRow(chosen.id, chosen.version, victim_fields(*victim))
            self.update(incident, [row])

    def remove_victim(self, number: int, which: int) -> None:
        incident = self.pick(number)
        live = [v for v in incident.victims if v.deleted_at is None]
        if live:
            chosen = live[which % len(live)]
            self.update(incident, [service.VictimRow(chosen.id, chosen.version, None)])

    def delete_incident(self, number: int) -> None:
        self.pick(number).deleted_at = utcnow()

    def undelete_incident(self, number: int) -> None:
        self.pick(number).deleted_at = None

    def open_case(self, number: int) -> None:
        incident = self.pick(number)
        case = JudicialCase(
            prosecuting_state_code=incident.country_code,
            jurisdiction="ordinary",
            incidents=[incident],
        )
        self.db.add(case)
        self.cases.append(case)

    def case(self, number: int) -> JudicialCase | None:
        return self.cases[number % len(self.cases)] if self.cases else None

    def link(self, number: int, which: int) -> None:
        case, incident = self.case(number), self.pick(which)
        if case is not None and incident not in case.incidents:
            case.incidents.append(incident)

    def unlink(self, number: int, which: int) -> None:
        case = self.case(number)
        if case is not None and len(case.incidents) > 1:
            case.incidents.remove(case.incidents[which % len(case.incidents)])

    def event(self, number: int, stage: str, day: int, validated: bool) -> None:
        case = self.case(number)
        if case is not None:
            status = "validated" if validated else "pending"
            on = FIRST_DAY + timedelta(days=day)
            self.db.add(StageEvent(case=case, stage=stage, occurred_on=on, review_status=status))

    def review(self, number: int, which: int, status: str) -> None:
        case = self.case(number)
        if case is not None and case.stage_events:
            case.stage_events[which % len(case.stage_events)].review_status = status

    def review_case(self, number: int, status: str) -> None:
        """A case a Member State opened counts once validated."""
        case = self.case(number)
        if case is not None:
            case.review_status = status

    def delete_case(self, number: int) -> None:
        case = self.case(number)
        if case is not None:
            case.deleted_at = None if case.deleted_at else utcnow()

    def hosts(self, mission: str, codes: set[str]) -> None:
        hosts = [HostPeriod(code) for code in codes]
        set_mission_hosts(self.db, self.db.get_one(Mission, mission), hosts)

    def areas(self, number: int, code: str | None) -> None:
        """A write past the ORM, as the boundaries make: the areas of one incident."""
        incident = self.pick(number)
        self.db.flush()
        with changing(self.db, [incident.id]):
            self.db.execute(
                sa.update(Incident)
                .where(Incident.id == incident.id)
                .values(admin1_code=code, admin2_code=code and code + "-2"),
                execution_options={"synchronize_session": False},
            )
        self.db.expire(incident, ["admin1_code", "admin2_code"])


def held(db: Session) -> dict[str, set[tuple[Any, ...]]]:
    return {name: {tuple(row) for row in db.execute(sa.select(table(name)))} for name in TABLES}


@pytest.fixture
def admin(make_user: UserFactory) -> User:
    return make_user("admin")


def test_an_empty_database_is_built(db: Session) -> None:
    assert is_built(db)
    assert all(not discrepancy.missing for discrepancy in check(db).values())


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.lists(creations, min_size=1, max_size=4),
    edits=st.lists(operations, min_size=1, max_size=14),
)
def test_the_tables_are_the_rule_after_random_changes(
    db: Session, admin: User, first: list[tuple[Any, ...]], edits: list[tuple[Any, ...]]
) -> None:
    example = db.begin_nested()  # each example starts from the same database
    try:
        editor = Editor(db, admin)
        for operation in first + edits:
            editor.apply(operation)
            found = check(db)
            assert all(not (d.missing or d.extra) for d in found.values()), (operation, found)
        kept = held(db)
        rebuild(db)
        assert held(db) == kept
    finally:
        example.rollback()
