"""Trend statistics against figures counted by hand, and against the access rule.

The fixed data set (``world``): seven visible incidents and a draft, a deleted incident,
victims (one soft-deleted), and cases at known steps of the justice ladder. The figures
expected below were counted from it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import utcnow
from capdb.vocabularies import JUDICIAL_STAGE
from demo.seed import seed_demo
from incidents.filters import IncidentFilters, page_of, scoped_incidents
from incidents.models import (
    CapacityAssistance,
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
)
from maps import stats
from maps.charts import Figures
from maps.ladder import LADDER, Step
from maps.stats import Period
from tests.factories import IncidentFactory, UserFactory, VictimFactory

ALL = IncidentFilters()


@dataclass
class World:
    incidents: dict[str, Incident]
    cases: dict[str, JudicialCase]


def open_case(
    db: Session,
    incidents: list[Incident],
    events: list[tuple[str, date]],
    *,
    pending: list[tuple[str, date]] = (),  # type: ignore[assignment]
    deleted: bool = False,
) -> JudicialCase:
    case = JudicialCase(
        prosecuting_state_code=incidents[0].country_code,
        jurisdiction="ordinary",
        incidents=incidents,
        current_stage=events[-1][0] if events else None,
        deleted_at=utcnow() if deleted else None,
    )
    db.add(case)
    db.flush()
    for stage, on in events:
        db.add(StageEvent(case_id=case.id, stage=stage, occurred_on=on, review_status="validated"))
    for stage, on in pending:
        db.add(StageEvent(case_id=case.id, stage=stage, occurred_on=on, review_status="pending"))
    db.flush()
    return case


@pytest.fixture
def world(db: Session, make_incident: IncidentFactory, make_victim: VictimFactory) -> World:
    return build_world(db, make_incident, make_victim)


def build_world(db: Session, make_incident: IncidentFactory, make_victim: VictimFactory) -> World:
    """The fixed data set the figures were counted from by hand."""
    mali = {"mission_code": "MINUSMA", "country_code": "MLI"}
    drc = {"mission_code": "MONUSCO", "country_code": "COD", "place": "Beni"}
    south_sudan = {"mission_code": "UNMISS", "country_code": "SSD", "place": "Bor"}
    incidents = {
        "A": make_incident(**mali, occurred_on=date(2021, 1, 10), means_of_attack="ied"),
        "B": make_incident(**mali, occurred_on=date(2021, 1, 20), means_of_attack="small_arms"),
        "C": make_incident(
            mission_code="MINUSMA", country_code="NER", occurred_on=date(2021, 3, 5)
        ),
        "D": make_incident(**drc, occurred_on=date(2021, 3, 15), means_of_attack="small_arms"),
        "E": make_incident(**drc, occurred_on=date(2022, 6, 1), means_of_attack="rpg"),
        "H": make_incident(**drc, occurred_on=date(2022, 7, 1), means_of_attack="small_arms"),
        "I": make_incident(
            **south_sudan, occurred_on=date(2021, 11, 1), means_of_attack="small_arms"
        ),
        "F": make_incident(**mali, occurred_on=date(2021, 2, 1), status="draft"),
        "G": make_incident(**mali, occurred_on=date(2021, 2, 2), deleted_at=utcnow()),
    }
    A, B, C, D, E, F, G, I = (incidents[k] for k in "ABCDEFGI")  # noqa: N806, E741 (their names)
    civilian = {"category": "international_civilian", "contributing_country_code": None}
    police = {"category": "formed_police_unit", "contributing_country_code": "BGD"}
    make_victim(A, outcome="killed", name="Jean Secret", identifier="UN-778899")
    make_victim(A, outcome="killed")
    make_victim(A, **civilian, nationality_code="FRA")
    make_victim(B, outcome="killed")
    make_victim(B, outcome="killed", deleted_at=utcnow())
    make_victim(C, **police, nationality_code="BGD", outcome="abducted")
    make_victim(D, nationality_code="IND", contributing_country_code="IND", outcome="killed")
    make_victim(I, nationality_code="NPL", contributing_country_code="NPL")
    make_victim(F, outcome="killed")
    make_victim(G, outcome="killed")
    day = date
    cases = {
        "1": open_case(
            db,
            [A],
            [
                ("reported", day(2021, 1, 15)),
                ("suspect_identified", day(2021, 2, 9)),
                ("charged", day(2021, 4, 10)),
                ("convicted", day(2021, 7, 8)),
            ],
        ),
        "2": open_case(
            db,
            [B, C],
            [("warrant_issued", day(2021, 3, 1))],
            pending=[("trial_opened", day(2021, 6, 1))],
        ),
        "3": open_case(db, [E], [("suspended", day(2022, 8, 1))]),
        "4": open_case(db, [D], [("arrested", day(2021, 4, 14)), ("charged", day(2021, 5, 14))]),
        "5": open_case(db, [E], [("convicted", day(2022, 9, 1))], deleted=True),
        "6": open_case(db, [F], [("convicted", day(2021, 9, 1))]),
        "7": open_case(db, [D], [("reported", day(2021, 3, 20))]),
        "8": open_case(db, [I], [("acquitted", day(2022, 1, 30))]),
        "9": open_case(db, [G], [("convicted", day(2021, 9, 1))]),
    }
    db.add(Defendant(case=cases["1"], alias="Abu Hidden", identifier="DEF-4242"))
    for mission, state, kind, started_on in [
        ("MINUSMA", "MLI", "training", day(2021, 6, 1)),
        ("MONUSCO", "COD", "technical", day(2022, 2, 1)),
    ]:
        db.add(
            CapacityAssistance(
                mission_code=mission, recipient_state_code=state, kind=kind, started_on=started_on
            )
        )
    db.flush()
    return World(incidents, cases)


def test_every_stage_has_a_place_on_the_ladder() -> None:
    assert set(LADDER) == set(JUDICIAL_STAGE.codes)
    assert LADDER["acquitted"] == Step.TRIED
    assert LADDER["sentenced"] == Step.CONVICTED
    assert LADDER["closed_without_action"] == Step.CASE_OPENED


def test_incidents_and_fatalities_per_year(
    db: Session, make_user: UserFactory, world: World
) -> None:
    rows = stats.counts_over_time(db, make_user("analyst"), ALL, Period.YEAR)
    assert {
        (r.period, r.mission, r.means_of_attack): (r.incidents, r.fatalities) for r in rows
    } == {
        ("2021", "MINUSMA", "ied"): (2, 2),
        ("2021", "MINUSMA", "small_arms"): (1, 1),
        ("2021", "MONUSCO", "small_arms"): (1, 1),
        ("2021", "UNMISS", "small_arms"): (1, 0),
        ("2022", "MONUSCO", "rpg"): (1, 0),
        ("2022", "MONUSCO", "small_arms"): (1, 0),
    }


def test_incidents_per_month_fill_the_filter_s_months(
    app: Flask, db: Session, make_user: UserFactory, world: World
) -> None:
    filters = IncidentFilters(date_from=date(2021, 1, 1), date_to=date(2021, 4, 30))
    with app.test_request_context():
        figure = Figures(db, make_user("analyst"), filters, Period.MONTH, "en").build(
            "incidents-by-mission"
        )
    assert figure.headers == ("Month", "MINUSMA", "MONUSCO", "Total")
    assert figure.rows == (
        ("2021-01", 2, 0, 2),
        ("2021-02", 0, 0, 0),
        ("2021-03", 1, 1, 2),
        ("2021-04", 0, 0, 0),
    )


def test_victims_by_category_nationality_and_contributor(
    db: Session, make_user: UserFactory, world: World
) -> None:
    analyst = make_user("analyst")

    def counts(dimension: stats.VictimDimension) -> dict[tuple[str, str], int]:
        return {
            (r.key, r.outcome): r.victims for r in stats.victims_by(db, analyst, ALL, dimension)
        }

    assert counts("category") == {
        ("contingent_military", "killed"): 4,
        ("contingent_military", "injured"): 1,
        ("international_civilian", "injured"): 1,
        ("formed_police_unit", "abducted"): 1,
    }
    assert counts("nationality") == {
        ("TCD", "killed"): 3,
        ("FRA", "injured"): 1,
        ("BGD", "abducted"): 1,
        ("IND", "killed"): 1,
        ("NPL", "injured"): 1,
    }
    assert counts("contributing_country") == {
        ("TCD", "killed"): 3,
        ("BGD", "abducted"): 1,
        ("IND", "killed"): 1,
        ("NPL", "injured"): 1,
    }


def test_the_justice_funnel(db: Session, make_user: UserFactory, world: World) -> None:
    funnel = stats.justice_funnel(db, make_user("analyst"), ALL)
    assert [(s.step, s.incidents) for s in funnel] == [
        (Step.INCIDENT, 7),
        (Step.CASE_OPENED, 6),  # all but H
        (Step.SUSPECT_IDENTIFIED, 5),  # A, B and C (a warrant), D, I
        (Step.ARRESTED, 3),  # A (charged), D, I (acquitted)
        (Step.CHARGED, 3),
        (Step.TRIED, 2),  # A, I: an acquittal was a trial; B's pending trial does not count
        (Step.CONVICTED, 1),  # A; not E, whose convicted case is deleted
    ]


def test_median_days_to_each_step(db: Session, make_user: UserFactory, world: World) -> None:
    delays = stats.days_to_steps(db, make_user("analyst"), ALL)
    assert [(d.step, d.cases, d.median_days) for d in delays] == [
        (Step.SUSPECT_IDENTIFIED, 4, 35.0),  # 30 (1), 40 (2: from B), 30 (4), 90 (8)
        (Step.ARRESTED, 3, 90.0),  # 90 (1, charged), 30 (4), 90 (8)
        (Step.CHARGED, 3, 90.0),  # 90, 60, 90
        (Step.TRIED, 2, 134.5),  # 179 (1, convicted), 90 (8)
        (Step.CONVICTED, 1, 179.0),
    ]


def test_a_case_starts_with_its_first_incident_whatever_the_filter(
    db: Session, make_user: UserFactory, world: World
) -> None:
    # From March, B is filtered out, but case 2 (B and C) still started with B on 20 January.
    since_march = IncidentFilters(date_from=date(2021, 3, 1))
    delays = stats.days_to_steps(db, make_user("analyst"), since_march)
    assert (delays[0].step, delays[0].cases, delays[0].median_days) == (
        Step.SUSPECT_IDENTIFIED,
        3,
        40.0,  # 40 (case 2), 30 (4), 90 (8)
    )


def test_accountability_per_host_state(db: Session, make_user: UserFactory, world: World) -> None:
    states = stats.by_host_state(db, make_user("analyst"), ALL)
    assert [
        (s.country, s.incidents, s.fatalities, s.cases, s.convictions, s.median_days_to_conviction)
        for s in states
    ] == [
        ("COD", 3, 1, 3, 0, None),
        ("MLI", 2, 3, 2, 1, 179.0),
        ("NER", 1, 0, 1, 0, None),
        ("SSD", 1, 0, 1, 0, None),
    ]


def test_summary(db: Session, make_user: UserFactory, world: World) -> None:
    assert stats.summary(db, make_user("analyst"), ALL) == {
        "incidents": 7,
        "fatalities": 4,
        "injured": 2,
        "abducted": 1,
        "cases": 6,
        "convictions": 1,
    }


def test_a_member_state_counts_every_victim_of_the_incidents_it_sees(
    db: Session, make_user: UserFactory, world: World
) -> None:
    # France sees incident A through its civilian; A's two Chadian soldiers count too.
    france = make_user("member_state", state="FRA")
    assert stats.summary(db, france, ALL)["incidents"] == 1
    assert {(r.key, r.victims) for r in stats.victims_by(db, france, ALL, "nationality")} == {
        ("TCD", 2),
        ("FRA", 1),
    }
    chad = make_user("member_state", state="TCD")
    assert stats.summary(db, chad, ALL) == {
        "incidents": 2,
        "fatalities": 3,
        "injured": 1,
        "abducted": 0,
        "cases": 2,
        "convictions": 1,
    }


def test_a_mission_counts_its_drafts(db: Session, make_user: UserFactory, world: World) -> None:
    minusma = make_user("mission", missions=("MINUSMA",))
    funnel = {s.step: s.incidents for s in stats.justice_funnel(db, minusma, ALL)}
    assert funnel[Step.INCIDENT] == 4  # A, B, C and the draft F
    assert funnel[Step.CONVICTED] == 2  # A and F


def test_filters_narrow_every_figure(db: Session, make_user: UserFactory, world: World) -> None:
    analyst = make_user("analyst")
    killed = IncidentFilters(outcome="killed", mission="MINUSMA")
    assert stats.summary(db, analyst, killed) == {
        "incidents": 2,
        "fatalities": 3,
        "injured": 1,
        "abducted": 0,
        "cases": 2,
        "convictions": 1,
    }
    assert [s.incidents for s in stats.justice_funnel(db, analyst, killed)] == [2, 2, 2, 1, 1, 1, 1]


def test_assistance_per_year_in_each_scope(db: Session, make_user: UserFactory) -> None:
    def record(mission: str, state: str, kind: str, year: int) -> CapacityAssistance:
        return CapacityAssistance(
            mission_code=mission, recipient_state_code=state, kind=kind, started_on=date(year, 5, 1)
        )

    db.add_all(
        [
            record("MINUSMA", "MLI", "training", 2020),
            record("MINUSMA", "MLI", "training", 2020),
            record("MINUSMA", "MLI", "technical", 2021),
            record("MONUSCO", "COD", "training", 2021),
        ]
    )
    db.flush()

    def counts(user: User, filters: IncidentFilters = ALL) -> set[tuple[int, str, int]]:
        return {(r.year, r.kind, r.records) for r in stats.assistance_per_year(db, user, filters)}

    everything = {(2020, "training", 2), (2021, "technical", 1), (2021, "training", 1)}
    assert counts(make_user("analyst")) == everything
    assert counts(make_user("admin")) == everything
    mali = {(2020, "training", 2), (2021, "technical", 1)}
    assert counts(make_user("member_state", state="MLI")) == mali
    assert counts(make_user("mission", missions=("MINUSMA",))) == mali
    assert counts(make_user("member_state", state="TCD")) == set()
    in_2021 = IncidentFilters(date_from=date(2021, 1, 1))
    assert counts(make_user("analyst"), in_2021) == {(2021, "technical", 1), (2021, "training", 1)}


def test_months_for_up_to_two_years_then_years() -> None:
    two_years = IncidentFilters(date_from=date(2021, 1, 1), date_to=date(2022, 12, 31))
    assert stats.default_period(two_years) is Period.MONTH
    three_years = IncidentFilters(date_from=date(2021, 1, 1), date_to=date(2023, 12, 31))
    assert stats.default_period(three_years) is Period.YEAR
    assert stats.default_period(IncidentFilters(date_from=date(2021, 1, 1))) is Period.YEAR


def test_periods_fill_gaps_and_refuse_centuries() -> None:
    assert stats.periods_for(ALL, Period.YEAR, ["2019", "2021"]) == ["2019", "2020", "2021"]
    dec_to_feb = IncidentFilters(date_from=date(2020, 12, 5), date_to=date(2021, 2, 1))
    assert stats.periods_for(dec_to_feb, Period.MONTH, []) == ["2020-12", "2021-01", "2021-02"]
    centuries = IncidentFilters(date_from=date(1, 1, 1), date_to=date(2100, 1, 1))
    assert stats.periods_for(centuries, Period.MONTH, ["2021-03", "2021-01"]) == [
        "2021-01",
        "2021-02",
        "2021-03",
    ]
    assert stats.periods_for(centuries, Period.MONTH, []) == []


# Scope: every figure equals a direct count over what the viewer may open ---------------------


def direct_counts(db: Session, user: User) -> dict[str, object]:
    """The figures counted object by object from the incidents the user can list."""
    visible = list(db.scalars(scoped_incidents(user, ALL)))
    victims = [v for i in visible for v in i.victims if v.deleted_at is None]
    cases = {c.id: c for i in visible for c in i.cases if c.deleted_at is None}

    def step(case: JudicialCase) -> int:
        counting = [
            e for e in case.stage_events if e.review_status == "validated" and e.deleted_at is None
        ]
        return max([int(LADDER[e.stage]) for e in counting], default=int(Step.CASE_OPENED))

    reached = {
        i.id: max(step(c) for c in i.cases if c.deleted_at is None)
        for i in visible
        if any(c.deleted_at is None for c in i.cases)
    }
    by_year: dict[str, int] = {}
    for incident in visible:
        year = str(incident.occurred_on.year)
        by_year[year] = by_year.get(year, 0) + 1
    return {
        "summary": {
            "incidents": len(visible),
            "fatalities": sum(v.outcome == "killed" for v in victims),
            "injured": sum(v.outcome == "injured" for v in victims),
            "abducted": sum(v.outcome == "abducted" for v in victims),
            "cases": len(cases),
            "convictions": sum(step(c) >= Step.CONVICTED for c in cases.values()),
        },
        "funnel": [len(visible)] + [sum(s >= k for s in reached.values()) for k in range(1, 7)],
        "by_year": by_year,
        "victims": len(victims),
        "by_state": {
            code: sum(i.country_code == code for i in visible)
            for code in {i.country_code for i in visible}
        },
    }


def listed(db: Session, user: User) -> int:
    """How many incidents the user's list walks through, page by page."""
    count, cursor = 0, None
    while True:
        page = page_of(db, scoped_incidents(user, ALL), cursor=cursor, per_page=200)
        count += len(page.items)
        if page.next_cursor is None:
            return count
        cursor = page.next_cursor


def test_every_figure_stays_within_each_viewer_s_scope(db: Session, make_user: UserFactory) -> None:
    seed_demo(db, 300, 11)
    viewers = [
        make_user("analyst"),
        make_user("member_state", state="TCD"),
        make_user("member_state", state="MLI"),
        make_user("member_state", state="BGD"),
        make_user("mission", missions=("MINUSMA",)),
        make_user("mission", missions=("MONUSCO", "MINUSCA")),
    ]
    for user in viewers:
        expected = direct_counts(db, user)
        summary = stats.summary(db, user, ALL)
        assert summary == expected["summary"], user
        assert Figures(db, user, ALL, Period.YEAR, "en").summary() == summary
        assert summary["incidents"] > 0, user
        assert [s.incidents for s in stats.justice_funnel(db, user, ALL)] == expected["funnel"]
        by_year: dict[str, int] = {}
        for row in stats.counts_over_time(db, user, ALL, Period.YEAR):
            by_year[row.period] = by_year.get(row.period, 0) + row.incidents
        assert by_year == expected["by_year"], user
        assert (
            sum(r.victims for r in stats.victims_by(db, user, ALL, "category"))
            == expected["victims"]
        )
        states = stats.by_host_state(db, user, ALL)
        assert {s.country: s.incidents for s in states} == expected["by_state"]
        assert sum(s.cases for s in states) >= summary["cases"]
        if user.role == "member_state":
            assert summary["incidents"] == listed(db, user)


def test_nothing_is_counted_for_a_viewer_without_scope(
    db: Session, make_user: UserFactory, world: World
) -> None:
    nobody = make_user("member_state", state="BRA")
    assert set(stats.summary(db, nobody, ALL).values()) == {0}
    assert stats.counts_over_time(db, nobody, ALL, Period.MONTH) == []
    assert db.scalar(sa.select(sa.func.count()).select_from(Incident)) == 9
