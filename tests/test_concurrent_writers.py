"""Mission officers editing one incident at once through the API of a live server.

Each client sends its edit on the version it last saw, as a real client does: an
accepted edit (200) moves the version by exactly one, a stale one is refused (409) with
the current record, and nothing else may come back: no 500 "database is locked" on
SQLite, where writers must queue for the one write lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from auth import tokens
from incidents.models import Incident, RecordVersion
from tests.conftest import config_for
from tests.factories import incident_values
from tests.live import add_user, call, migrated_app, served_in_a_thread

OFFICERS = 4
CLIENTS = 8  # two clients per officer
EDITS_PER_CLIENT = 30
ALLOWED = {200, 409, 429}


@dataclass
class Client:
    """One thread's edits: what it sent and what came back."""

    number: int
    token: str
    statuses: list[int] = field(default_factory=list)
    accepted: dict[int, str] = field(default_factory=dict)  # new version -> place sent
    failures: list[str] = field(default_factory=list)


@dataclass
class World:
    app: Flask
    incident_id: int
    initial_version: int
    tokens: list[str]


@pytest.fixture
def world(make_database_url: Callable[[str], str], tmp_path: Path) -> Iterator[World]:
    """A committed database with four mission officers, each with a token, and one draft."""
    config = config_for(make_database_url("writers"), tmp_path).replace(
        api_rate_limit="100000/minute"
    )
    app = migrated_app(config)
    # Served as in production: an unexpected error is answered, not raised into the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.extensions["capdb.db"].sessionmaker.begin() as db:
        officers = [
            add_user(db, f"officer-{n}@capdb.test", "mission", ("MINUSMA",))
            for n in range(OFFICERS)
        ]
        values = [tokens.create(db, officer)[1] for officer in officers]
        incident = Incident(**incident_values(status="draft", created_by_id=officers[0].id))
        db.add(incident)
        db.flush()
        incident_id, version = incident.id, incident.version
    yield World(app, incident_id, version, values)
    app.extensions["capdb.db"].engine.dispose()


def edit_in_turn(base: str, world: World, client: Client, start: threading.Barrier) -> None:
    url = f"{base}/api/v1/incidents/{world.incident_id}"
    headers = {"Authorization": f"Bearer {client.token}"}
    version = world.initial_version
    start.wait()
    for n in range(EDITS_PER_CLIENT):
        place = f"client {client.number} edit {n}"
        answer = call("PATCH", url, headers=headers, json_body={"place": place, "version": version})
        client.statuses.append(answer.status)
        if answer.status == 200:
            version = answer.json()["version"]
            client.accepted[version] = place
        elif answer.status == 409:
            version = answer.json()["current"]["version"]
        else:
            client.failures.append(f"{answer.status}: {answer.text[:300]}")


def test_concurrent_edits_are_queued_or_refused_never_lost(world: World) -> None:
    clients = [Client(n, world.tokens[n % OFFICERS]) for n in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)
    with served_in_a_thread(world.app) as base:
        threads = [
            threading.Thread(target=edit_in_turn, args=(base, world, client, start))
            for client in clients
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    statuses = [status for client in clients for status in client.statuses]
    assert len(statuses) == CLIENTS * EDITS_PER_CLIENT
    assert set(statuses) <= ALLOWED, [f for client in clients for f in client.failures][:5]
    accepted = {v: place for client in clients for v, place in client.accepted.items()}
    assert statuses.count(200) == len(accepted)  # no version was handed out twice
    with world.app.extensions["capdb.db"].sessionmaker() as db:
        incident = db.get_one(Incident, world.incident_id)
        final_version, final_place = incident.version, incident.place
        history = db.scalar(
            sa.select(sa.func.count())
            .select_from(RecordVersion)
            .where(RecordVersion.record_type == "incidents")
            .where(RecordVersion.record_id == world.incident_id)
        )
    # Every accepted edit moved the version exactly once, and the last one is what stays.
    assert sorted(accepted) == list(range(world.initial_version + 1, final_version + 1))
    assert final_place == accepted[final_version]
    assert history == len(accepted)  # each accepted edit kept the version it replaced
    assert statuses.count(409) > 0  # the clients did race
