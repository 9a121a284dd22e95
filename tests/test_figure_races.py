"""Two writers changing one incident at once leave the figure tables right.

The session hook reads what an incident adds before a flush and again after it. A second
writer that read "before" while the first had not yet committed, and "after" once it had,
would count the first writer's change twice. Here the second writer is held, between its
two readings, until the first has committed: the tables must still be what the incidents
add up to.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from capdb import db as capdb_db
from incidents.models import Incident, Victim
from maps.figure_upkeep import check, is_built
from tests.conftest import config_for
from tests.factories import incident_values
from tests.live import migrated_app

HELD = "tests.held_after_reading"


@pytest.fixture
def app(make_database_url: Callable[[str], str], tmp_path: Path) -> Iterator[Flask]:
    app = migrated_app(config_for(make_database_url("figure-race"), tmp_path))
    yield app
    app.extensions["capdb.db"].engine.dispose()


def victim(incident_id: int) -> Victim:
    return Victim(
        incident_id=incident_id,
        category="contingent_military",
        nationality_code="TCD",
        contributing_country_code="TCD",
        outcome="killed",
        sex="male",
    )


def hold_if_asked(session: Session, _context: object, _instances: object) -> None:
    """Runs after the figures' own hook has read what the incidents add before the flush."""
    release = session.info.get(HELD)
    if release is not None:
        assert release.wait(timeout=60)


@pytest.fixture
def holding() -> Iterator[None]:
    event.listen(Session, "before_flush", hold_if_asked)
    yield
    event.remove(Session, "before_flush", hold_if_asked)


def test_a_change_committed_between_the_readings_is_counted_once(app: Flask, holding: None) -> None:
    sessions = app.extensions["capdb.db"].sessionmaker
    with capdb_db.writes(), sessions.begin() as db:
        assert is_built(db)
        incident = Incident(**incident_values(status="validated"))
        db.add(incident)
        db.flush()
        incident_id = incident.id
    release = threading.Event()
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            with capdb_db.writes(), sessions.begin() as db:
                db.info[HELD] = release
                db.add(victim(incident_id))
                db.flush()
        except BaseException as error:  # reported by the test's thread
            failures.append(error)

    with capdb_db.writes(), sessions() as first:
        first.add(victim(incident_id))
        first.flush()
        writer = threading.Thread(target=second_writer)
        writer.start()
        writer.join(timeout=1)  # it waits for the first writer, or is held after reading
        first.commit()
    release.set()
    writer.join(timeout=60)
    assert not writer.is_alive()
    assert failures == []
    with sessions() as db:
        assert len(db.get_one(Incident, incident_id).victims) == 2
        discrepancies: dict[str, Any] = check(db)
    assert all(not (d.missing or d.extra) for d in discrepancies.values()), discrepancies
