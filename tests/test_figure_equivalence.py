"""Every figure is the same read from the kept sums as counted from the incidents.

A demo database (incidents spread over missions, years, means, victims of many States,
cases at every stage, some covering two incidents) is shaken up at random (drafts,
deleted incidents and victims, pending and rejected stage events and cases, cases
covering several incidents, incidents without coordinates); then every trend figure, the
summary, and the map's clusters, heat and choropleth at several zooms are computed both
ways, for every role, for filters the sums answer and filters they do not, and compared
exactly.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from auth.models import User
from capdb.app import kept_total
from capdb.db import utcnow
from demo.seed import seed_demo
from incidents.filters import IncidentFilters, listed_incidents
from incidents.models import Incident, JudicialCase, StageEvent, Victim
from incidents.totals import total
from maps import map_data, map_tables, trend_tables
from maps.charts import Figures
from maps.figure_reads import reading
from maps.figure_upkeep import check
from maps.grid import CLUSTER_LEVELS, HEAT_LEVELS, grid_for
from maps.map_data import LEVELS, MAX_CLUSTER_CELLS, MAX_HEAT_CELLS, MEASURES
from maps.stats import Period
from maps.viewport import View

VIEWERS = {
    "admin": "admin@capdb.example",
    "analyst": "analyst@capdb.example",
    "mission officer": "monusco@capdb.example",  # MONUSCO and MINUSCA
    "host State's focal point": "mali@capdb.example",
    "contributing State's focal point": "chad@capdb.example",
}
# (filter, whether the kept sums answer the time chart)
FILTERS: list[tuple[dict[str, str], bool]] = [
    ({}, True),
    ({"date_from": "2017-01-01", "date_to": "2017-12-31"}, True),
    ({"date_from": "2016-03-01", "date_to": "2017-08-31"}, True),
    ({"date_from": "2016-03-05", "date_to": "2017-08-20"}, False),
    ({"mission": "MINUSMA"}, True),
    ({"mission": "MINUSCA", "status": "validated"}, True),
    ({"state": "TCD"}, True),
    ({"state": "MLI", "date_from": "2015-01-01"}, True),
    ({"means_of_attack": "ied"}, True),
    ({"outcome": "killed"}, True),
    ({"status": "draft"}, True),
    ({"q": "Kidal"}, False),
    ({"stage": "convicted"}, False),
    ({"mission": "MINUSMA", "means_of_attack": "ied", "date_from": "2016-01-01",
      "date_to": "2018-12-31"}, True),
]  # fmt: skip


def shake(db: Session, rng: random.Random) -> None:
    """Change the demo data the ways real use does, through the ORM (kept by the hook)."""
    incidents = list(db.scalars(sa.select(Incident).order_by(Incident.id)))
    for incident in rng.sample(incidents, len(incidents) // 8):
        incident.status = rng.choice(("draft", "submitted"))
    for incident in rng.sample(incidents, len(incidents) // 25):
        incident.deleted_at = utcnow()
    for incident in rng.sample(incidents, len(incidents) // 20):
        incident.latitude = incident.longitude = None
    for incident in rng.sample(incidents, len(incidents) // 3):
        incident.admin1_code = f"{incident.country_code}-{rng.randrange(4)}"
        incident.admin2_code = rng.choice((None, f"{incident.admin1_code}-{rng.randrange(3)}"))
    victims = list(db.scalars(sa.select(Victim).order_by(Victim.id)))
    for victim in rng.sample(victims, len(victims) // 20):
        victim.deleted_at = utcnow()
    cases = list(db.scalars(sa.select(JudicialCase).order_by(JudicialCase.id)))
    for case in rng.sample(cases, len(cases) // 5):
        other = rng.choice(incidents)
        if other not in case.incidents:
            case.incidents.append(other)
    for case in rng.sample(cases, len(cases) // 20):
        case.deleted_at = utcnow()
    for case in rng.sample(cases, len(cases) // 4):
        first = min(incident.occurred_on for incident in case.incidents)
        db.add(
            StageEvent(
                case=case,
                stage=rng.choice(("arrested", "charged", "convicted", "trial_opened")),
                occurred_on=first + timedelta(days=rng.randrange(-20, 900)),
                review_status=rng.choice(("validated", "validated", "pending", "rejected")),
            )
        )
    # Cases a Member State opened, which the mission has not validated (or has rejected).
    for case in rng.sample(cases, len(cases) // 15):
        case.review_status = rng.choice(("pending", "rejected"))
    db.flush()


@pytest.fixture
def demo(db: Session) -> Session:
    seed_demo(db, 400, 2589)
    shake(db, random.Random(14))
    assert all(not (d.missing or d.extra) for d in check(db).values())
    return db


def viewer(db: Session, email: str) -> User:
    return db.scalars(sa.select(User).where(User.email == email)).one()


def filters_of(db: Session, args: dict[str, str]) -> IncidentFilters:
    filters, errors = IncidentFilters.parse(db, args)
    assert not errors, errors
    return filters


def both_ways(db: Session, user: User, filters: IncidentFilters, period: Period) -> None:
    kept = Figures(db, user, filters, period, "en")
    counted = Figures(db, user, filters, period, "en", kept=False)
    assert counted.data.reading is None
    for name, a, b in zip([f.name for f in counted.all()], kept.all(), counted.all(), strict=True):
        assert a == b, name
    assert kept.summary() == counted.summary()


def sums_answer(user: User, args: dict[str, str], answered: bool) -> bool:
    """Whether the kept sums answer the filter for this viewer: a focal point's own State's
    share does; the incidents of two States do not."""
    other_state = user.state_code and args.get("state", user.state_code) != user.state_code
    return answered and not other_state


@pytest.mark.parametrize("role", VIEWERS)
def test_every_trend_figure_both_ways(app: Flask, demo: Session, role: str) -> None:
    user = viewer(demo, VIEWERS[role])
    with app.test_request_context():
        for args, answered in FILTERS:
            filters = filters_of(demo, args)
            found = reading(demo, user, filters)
            if sums_answer(user, args, answered):  # not a comparison of one way with itself
                assert found is not None, args
                assert trend_tables.counts_over_time(demo, found, Period.YEAR) is not None
            for period in Period:
                both_ways(demo, user, filters, period)


@pytest.mark.parametrize("role", VIEWERS)
def test_every_list_total_both_ways(app: Flask, demo: Session, role: str) -> None:
    user = viewer(demo, VIEWERS[role])
    with app.test_request_context():
        for args, answered in FILTERS:
            filters = filters_of(demo, args)
            kept = kept_total(demo, user, filters)
            counted = total(demo, listed_incidents(user, filters), exact=True)
            assert counted.exact
            if kept is not None:
                assert kept == counted.count, args
            assert (kept is not None) == sums_answer(user, args, answered), args


def test_the_sums_answer_the_common_views(app: Flask, demo: Session) -> None:
    user = viewer(demo, VIEWERS["analyst"])
    found = reading(demo, user, IncidentFilters())
    assert found is not None
    assert trend_tables.counts_by_state(demo, found)
    assert trend_tables.victim_groups(demo, found)
    assert trend_tables.incidents_by_step(demo, found)
    year = filters_of(demo, {"date_from": "2017-01-01", "date_to": "2017-12-31"})
    in_2017 = reading(demo, user, year)
    assert in_2017 is not None
    assert trend_tables.victim_groups(demo, in_2017) is not None
    assert trend_tables.counts_over_time(demo, in_2017, Period.MONTH) is not None


# The map ---------------------------------------------------------------------------------------

VIEWS = [
    View(),  # the world, as the page opens
    View(0),
    View(4, -20.0, 0.0, 30.0, 25.0),  # the Sahel
    View(7, -2.0, 14.0, 4.0, 20.0),
    View(10, 0.8, 18.0, 1.8, 18.8),
    View(13, 1.2, 18.3, 1.5, 18.6),  # finer than the sums keep: counted from the incidents
]
MAP_FILTERS = [
    {},
    {"mission": "MINUSMA"},
    {"means_of_attack": "ied"},
    {"state": "TCD"},
    {"status": "validated", "mission": "MONUSCO"},
    {"date_from": "2017-01-01", "date_to": "2017-12-31"},
    {"outcome": "killed"},
]


@pytest.mark.parametrize("role", VIEWERS)
def test_every_map_layer_both_ways(app: Flask, demo: Session, role: str) -> None:
    user = viewer(demo, VIEWERS[role])
    with app.test_request_context():
        for args in MAP_FILTERS:
            filters = filters_of(demo, args)
            for view in VIEWS:
                for measure in MEASURES:
                    kept = map_data.clusters(demo, user, filters, view, measure)
                    counted = map_data.clusters(demo, user, filters, view, measure, kept=False)
                    assert kept == counted, (args, view, measure)
                    kept = map_data.heat(demo, user, filters, view, measure)
                    counted = map_data.heat(demo, user, filters, view, measure, kept=False)
                    assert kept == counted, (args, view, measure)
            for level in LEVELS:
                for fatalities in (False, True):
                    kept_areas = map_data.counts_by_area(
                        demo, user, filters, level, fatalities=fatalities
                    )
                    counted_areas = map_data.counts_by_area(
                        demo, user, filters, level, fatalities=fatalities, kept=False
                    )
                    assert sorted(kept_areas, key=str) == sorted(counted_areas, key=str)


def test_the_sums_answer_the_map_as_it_opens(demo: Session) -> None:
    user = viewer(demo, VIEWERS["contributing State's focal point"])
    found = reading(demo, user, IncidentFilters())
    assert found is not None
    for view in VIEWS[:-1]:
        grid = grid_for(view, CLUSTER_LEVELS, MAX_CLUSTER_CELLS)
        assert map_tables.grid_cells(demo, found, grid) is not None
    assert map_tables.grid_cells(demo, found, grid_for(View(2), 0, 600))
    assert map_tables.area_counts(demo, found, "admin0")
    finest = grid_for(VIEWS[-1], HEAT_LEVELS, MAX_HEAT_CELLS)
    assert map_tables.grid_cells(demo, found, finest) is None
