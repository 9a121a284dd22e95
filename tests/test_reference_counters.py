"""Incident references come from a counter per mission and year: concurrent recorders
queue for it instead of clashing, and numbers used without it are stepped over."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from incidents.models import Incident, ReferenceCounter
from incidents.recording import service as recording
from tests.conftest import config_for
from tests.factories import IncidentFactory, incident_values
from tests.live import migrated_app, writing_session


@pytest.fixture
def app(make_database_url: Callable[[str], str], tmp_path: Path) -> Iterator[Flask]:
    app = migrated_app(config_for(make_database_url("reference-counters"), tmp_path))
    yield app
    app.extensions["capdb.db"].engine.dispose()


def test_a_counter_starts_from_the_highest_number_and_counts_on(
    db: Session, make_incident: IncidentFactory
) -> None:
    make_incident(reference="MINUSMA-2021-0041")
    assert recording.take_references(db, "MINUSMA", 2021, 3) == 42
    assert recording.next_reference(db, "MINUSMA", 2021) == "MINUSMA-2021-0045"
    assert db.get(ReferenceCounter, ("MINUSMA", 2021)).last_number == 45  # type: ignore[union-attr]


def test_a_number_used_without_the_counter_is_stepped_over(
    db: Session, make_incident: IncidentFactory
) -> None:
    assert recording.next_reference(db, "MINUSMA", 2021) == "MINUSMA-2021-0001"
    make_incident(reference="MINUSMA-2021-0002")  # as the demo data puts incidents in
    make_incident(reference="MINUSMA-2021-0007")
    incident = Incident(**incident_values(mission_code="MINUSMA"))
    recording._insert_under_next_reference(db, incident)
    assert incident.reference == "MINUSMA-2021-0008"


def test_concurrent_recorders_queue_for_the_counter(app: Flask) -> None:
    """Each of eight writers takes five numbers at once, all in one mission and year: every
    number from 1 to 40 is taken exactly once."""
    taken: list[int] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def writer() -> None:
        try:
            start.wait(timeout=30)
            for _ in range(5):
                with writing_session(app) as db, db.begin():
                    taken.append(recording.take_references(db, "MINUSCA", 2022))
        except BaseException as error:  # reported by the test below
            failures.append(error)

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(taken) == list(range(1, 41))


def test_a_second_recorder_waits_for_the_first_to_end(app: Flask) -> None:
    second: list[int] = []

    def later() -> None:
        with writing_session(app) as db, db.begin():
            second.append(recording.take_references(db, "MINUSCA", 2023))

    with writing_session(app) as db, db.begin():
        first = recording.take_references(db, "MINUSCA", 2023)
        thread = threading.Thread(target=later)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive()  # the counter row is held until this transaction ends
    thread.join(timeout=30)
    assert second == [first + 1]


def test_catching_up_moves_the_counter_past_the_numbers_in_use(
    db: Session, make_incident: IncidentFactory
) -> None:
    assert recording.next_reference(db, "MINUSMA", 2021) == "MINUSMA-2021-0001"
    make_incident(reference="MINUSMA-2021-0010")
    recording.catch_up_references(db, "MINUSMA", 2021)
    assert recording.take_references(db, "MINUSMA", 2021, 2) == 11
    assert db.scalar(sa.select(ReferenceCounter.last_number)) == 12
