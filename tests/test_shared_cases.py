"""The cases that cover several incidents are counted once per version of them, and a
change to one of them, or to one of their incidents, is in the next figure drawn.

The sums of these cases are kept per viewer's scope and filter, at a version, and counted
again where a change touched them (:mod:`maps.shared_cases`); every figure of cases is
compared with the same figure counted from the incidents, before and after changes that
must (and must not) renew the version.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from auth.models import User
from demo.seed import seed_demo
from incidents.filters import IncidentFilters
from incidents.models import Incident, JudicialCase, StageEvent, case_incidents
from maps import figure_upkeep, shared_cases
from maps.case_tally import CaseSums, CaseTally
from maps.figure_upkeep import (
    SharedVersion,
    new_shared_cases_version,
    shared_cases_changed,
    shared_cases_version,
)
from maps.ladder import TIMED_STEPS, Step
from maps.models import FigureChange, FigureSharedCase
from maps.stats import CaseProgress, Period
from maps.trend_data import TrendData
from tests.test_figure_equivalence import viewer


def tally(db: Session, user: User, filters: IncidentFilters, *, kept: bool = True) -> CaseTally:
    return TrendData(db, user, filters, Period.YEAR, kept=kept).cases


@pytest.fixture
def demo(db: Session) -> Session:
    seed_demo(db, 300, 2589)
    return db


Counted = tuple[str, frozenset[int] | None]  # a viewer's address, the cases counted (None: all)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[Counted]:
    """Each count of the shared cases, in order, as the figures ask for them."""
    counts: list[Counted] = []
    count_cases = shared_cases.count_cases

    def counting(
        db: Session, user: User, filters: IncidentFilters, case_ids: Collection[int] | None
    ) -> object:
        counts.append((user.email, None if case_ids is None else frozenset(case_ids)))
        return count_cases(db, user, filters, case_ids)

    monkeypatch.setattr(shared_cases, "count_cases", counting)
    return counts


def unconvicted_shared_case(db: Session) -> JudicialCase:
    """A validated case of several validated incidents, not yet at a conviction."""
    for case_id in db.scalars(
        sa.select(FigureSharedCase.case_id).order_by(FigureSharedCase.case_id)
    ):
        case = db.get(JudicialCase, case_id)
        assert case is not None
        statuses = {incident.status for incident in case.incidents}
        reached = {event.stage for event in case.stage_events if event.review_status == "validated"}
        if (
            statuses == {"validated"}
            and case.review_status == "validated"
            and not (reached & {"convicted", "sentenced"})
        ):
            return case
    raise AssertionError("the demo data holds no shared case short of a conviction")


@pytest.mark.parametrize("email", ["analyst@capdb.example", "chad@capdb.example"])
def test_a_validated_conviction_shows_in_the_next_figure(
    app: Flask, demo: Session, email: str
) -> None:
    user = viewer(demo, email)
    with app.test_request_context():
        before = tally(demo, user, IncidentFilters())
        assert before == tally(demo, user, IncidentFilters(), kept=False)
        version = shared_cases_version(demo)
        case = unconvicted_shared_case(demo)
        first = min(incident.occurred_on for incident in case.incidents)
        demo.add(
            StageEvent(
                case=case,
                stage="convicted",
                occurred_on=first + timedelta(days=400),
                review_status="validated",
            )
        )
        demo.flush()
        assert shared_cases_version(demo) != version
        after = tally(demo, user, IncidentFilters())
        assert after == tally(demo, user, IncidentFilters(), kept=False)
    if user.role == "analyst":  # the analyst sees every validated case
        assert after.convictions == before.convictions + 1
    delays = {d.step: d.cases for d in after.delays}
    assert delays[Step.CONVICTED] >= {d.step: d.cases for d in before.delays}[Step.CONVICTED]


def test_an_incident_of_no_shared_case_keeps_the_version(demo: Session) -> None:
    shared = sa.select(case_incidents.c.incident_id).where(
        case_incidents.c.case_id.in_(sa.select(FigureSharedCase.case_id))
    )
    incident = demo.scalars(
        sa.select(Incident).where(Incident.id.not_in(shared)).order_by(Incident.id)
    ).first()
    assert incident is not None
    version = shared_cases_version(demo)
    incident.status = "draft" if incident.status != "draft" else "submitted"
    demo.flush()
    assert shared_cases_version(demo) == version


def test_an_incident_of_a_shared_case_renews_the_version(demo: Session) -> None:
    case = unconvicted_shared_case(demo)
    version = shared_cases_version(demo)
    case.incidents[0].status = "submitted"
    demo.flush()
    assert shared_cases_version(demo) != version


def test_sums_are_counted_once_per_scope_filter_and_version(
    app: Flask, demo: Session, counted: list[Counted]
) -> None:
    analyst, other = viewer(demo, "analyst@capdb.example"), viewer(demo, "mali@capdb.example")
    in_2017 = IncidentFilters(date_from=date(2017, 1, 1), date_to=date(2017, 12, 31))
    with app.test_request_context():
        for _ in range(3):
            tally(demo, analyst, IncidentFilters())
            tally(demo, other, IncidentFilters())
            tally(demo, analyst, in_2017)
        assert counted == [(analyst.email, None), (other.email, None), (analyst.email, None)]
        # Read three times from the kept sums, the same as counted afresh: no reading
        # added its own rows to the sums the next one reads.
        assert tally(demo, analyst, IncidentFilters()) == tally(
            demo, analyst, IncidentFilters(), kept=False
        )
        incident = unconvicted_shared_case(demo).incidents[0]
        before = shared_cases_version(demo)
        incident.status = "submitted"
        demo.flush()
        now = shared_cases_version(demo)
        assert before is not None
        assert now is not None
        # The cases of the incident, and those of the incidents sharing a case with it.
        changed = shared_cases_changed(demo, before, now)
        assert changed
        assert {case.id for case in incident.cases} & changed
        # Only the changed cases are counted again, and the sums are those counted afresh.
        assert tally(demo, analyst, IncidentFilters()) == tally(
            demo, analyst, IncidentFilters(), kept=False
        )
    assert counted[3:] == [(analyst.email, frozenset(changed))]
    assert len(changed) < len(demo.scalars(sa.select(FigureSharedCase.case_id)).all())


def test_what_changed_is_told_only_since_a_version_this_database_had(demo: Session) -> None:
    first, second = demo.scalars(
        sa.select(FigureSharedCase.case_id).order_by(FigureSharedCase.case_id).limit(2)
    ).all()
    start = shared_cases_version(demo)
    assert start is not None
    new_shared_cases_version(demo, {first})
    middle = shared_cases_version(demo)
    new_shared_cases_version(demo, {second})
    now = shared_cases_version(demo)
    assert middle is not None
    assert now is not None
    assert shared_cases_changed(demo, start, now) == {first, second}
    assert shared_cases_changed(demo, middle, now) == {second}
    assert shared_cases_changed(demo, now, now) == set()
    # A version of the same serial that this database never had (a restored one's).
    elsewhere = SharedVersion(middle.serial, middle.value ^ 1)
    assert shared_cases_changed(demo, elsewhere, now) is None
    new_shared_cases_version(demo)  # every case, as a rebuild
    latest = shared_cases_version(demo)
    assert latest is not None
    assert shared_cases_changed(demo, middle, latest) is None
    assert shared_cases_changed(demo, latest, latest) == set()


def test_changes_older_than_those_kept_are_forgotten(
    demo: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figure_upkeep, "KEPT_CHANGES", 3)
    case_id = demo.scalars(sa.select(FigureSharedCase.case_id).limit(1)).one()
    versions = []
    for _ in range(6):
        new_shared_cases_version(demo, {case_id})
        version = shared_cases_version(demo)
        assert version is not None
        versions.append(version)
    # Each serial that is a multiple of three forgets those three or more before it.
    serials = set(demo.scalars(sa.select(FigureChange.serial)))
    assert versions[0].serial not in serials
    assert {v.serial for v in versions[-2:]} <= serials
    assert shared_cases_changed(demo, versions[0], versions[-1]) is None
    assert shared_cases_changed(demo, versions[-2], versions[-1]) == {case_id}


def test_another_process_starts_from_the_sums_one_counted(
    app: Flask, demo: Session, monkeypatch: pytest.MonkeyPatch, counted: list[Counted]
) -> None:
    analyst = viewer(demo, "analyst@capdb.example")
    with app.test_request_context():
        tally(demo, analyst, IncidentFilters())  # counted in full, and shared
        # Another process: none of the sums of this one, the deployment's shared cache.
        monkeypatch.setattr(shared_cases, "_kept", shared_cases._Recent(shared_cases.KEPT))
        incident = unconvicted_shared_case(demo).incidents[0]
        before = shared_cases_version(demo)
        incident.status = "submitted"
        demo.flush()
        now = shared_cases_version(demo)
        assert tally(demo, analyst, IncidentFilters()) == tally(
            demo, analyst, IncidentFilters(), kept=False
        )
    # Counted in full by the first process; by the second, only the cases changed since.
    assert before is not None
    assert now is not None
    changed = shared_cases_changed(demo, before, now)
    assert counted == [(analyst.email, None), (analyst.email, changed)]
    assert {case.id for case in incident.cases} <= (changed or set())


@pytest.mark.parametrize("share_every", [1, 2])
def test_sums_counted_again_are_shared_every_so_many_versions(
    app: Flask,
    demo: Session,
    monkeypatch: pytest.MonkeyPatch,
    counted: list[Counted],
    share_every: int,
) -> None:
    """A new worker starts from sums counted again after changes, once they are
    ``SHARE_EVERY`` versions newer than the shared copy: it counts nothing more."""
    monkeypatch.setattr(shared_cases, "SHARE_EVERY", share_every)
    analyst = viewer(demo, "analyst@capdb.example")
    with app.test_request_context():
        tally(demo, analyst, IncidentFilters())  # counted in full, and shared
        new_shared_cases_version(demo, {unconvicted_shared_case(demo).id})  # one version on
        tally(demo, analyst, IncidentFilters())  # that case counted again
        # Another process: none of the sums of this one, the deployment's shared cache.
        monkeypatch.setattr(shared_cases, "_kept", shared_cases._Recent(shared_cases.KEPT))
        assert tally(demo, analyst, IncidentFilters()) == tally(
            demo, analyst, IncidentFilters(), kept=False
        )
    case = (analyst.email, frozenset({unconvicted_shared_case(demo).id}))
    # Shared again one version after the full count: the new process counts nothing. Not
    # yet shared two versions after: it counts the changed case again.
    everything = (analyst.email, None)
    assert counted == ([everything, case] if share_every == 1 else [everything, case, case])


# What each case added, kept apart from the sums --------------------------------------------------

cases = st.lists(
    st.builds(
        CaseProgress,
        case_id=st.integers(1, 60),
        incidents=st.just(frozenset()),
        countries=st.frozensets(st.sampled_from(["MLI", "TCD", "CAF", "SSD"]), min_size=1),
        started_on=st.just(date(2015, 1, 1)),
        step=st.sampled_from(list(Step)),
        first_on=st.dictionaries(
            st.sampled_from(TIMED_STEPS),
            st.integers(0, 4000).map(lambda d: date(2015, 1, 1) + timedelta(days=d)),
        ),
    ),
    unique_by=lambda case: case.case_id,
)


def summed(progress: list[CaseProgress]) -> CaseSums:
    sums = CaseSums()
    for case in progress:
        sums.add(case.countries, case.step >= Step.CONVICTED, map(case.days_to, TIMED_STEPS))
    return sums


@given(before=cases, after=cases, also=st.sets(st.integers(1, 60)))
def test_shares_replaced_sum_as_the_cases_counted_afresh(
    before: list[CaseProgress], after: list[CaseProgress], also: set[int]
) -> None:
    """A reading after a change: the changed cases (some counted no more, some new) are
    taken from the kept sums and added again as counted now."""
    changed = {case.case_id for case in after} | also
    kept = shared_cases.Shares.of(before)
    assert kept.sums() == summed(before)
    now = [case for case in before if case.case_id not in changed] + after
    replaced = kept.replaced(changed, after)
    assert replaced.sums() == summed(now)
    assert list(replaced.ids) == sorted(case.case_id for case in now)
    total = kept.sums()
    total.take(kept.sums(changed))
    total.merge(replaced.sums(changed))
    assert total == summed(now)
