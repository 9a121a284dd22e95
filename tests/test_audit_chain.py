"""Linking the audit trail after commit: against a committed database of its own, with
requests that really commit (the usual fixture rolls everything back in one transaction).

Audited requests go through a page of the test's own that records an entry and can wait,
holding its transaction open, the way a page or a PDF being rendered does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask, request

from auth.audit import check_chain, record
from auth.models import AuditEvent
from capdb import db
from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.security import public
from tests.conftest import config_for

# Long enough for a slow machine, far shorter than a request held open by these tests.
PROMPTLY = 10.0
HELD = 30.0


@dataclass
class Gate:
    """Lets a test hold a request open after it recorded its entry."""

    recorded: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


GATES: dict[str, Gate] = {}


@public
def audited() -> tuple[str, int]:
    record(db.session(), "login", actor=request.args["actor"])
    if "savepoint" in request.args:
        with db.session().begin_nested():
            record(db.session(), "login", actor="in-savepoint-" + request.args["actor"])
    if (gate := GATES.get(request.args.get("gate", ""))) is not None:
        gate.recorded.set()
        gate.release.wait(HELD)
    return "recorded", int(request.args.get("status", "200"))


@pytest.fixture(scope="module")
def live_app(
    make_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    app = create_app(
        config_for(make_database_url("auditchain"), tmp_path_factory.mktemp("instance"))
    )
    app.add_url_rule("/test-audited", "test_audited", audited)
    with app.app_context():
        command.upgrade(alembic_config(), "head")
    yield app
    app.extensions["capdb.db"].engine.dispose()


def entries(app: Flask, actor_prefix: str = "") -> list[AuditEvent]:
    with app.extensions["capdb.db"].sessionmaker() as session:
        statement = sa.select(AuditEvent).where(AuditEvent.actor.startswith(actor_prefix))
        return list(session.scalars(statement.order_by(AuditEvent.id)))


def chain_check(app: Flask) -> tuple[object, int]:
    with app.extensions["capdb.db"].sessionmaker() as session:
        check = check_chain(session)
    return check.broken, check.unlinked.count


def get(app: Flask, actor: str, **args: str) -> int:
    return app.test_client().get("/test-audited", query_string={"actor": actor, **args}).status_code


def test_concurrent_audited_requests_leave_a_whole_chain(live_app: Flask) -> None:
    failures: list[BaseException] = []

    def requests(thread: int) -> None:
        try:
            for number in range(10):
                assert get(live_app, f"concurrent-{thread}-{number}@capdb.test") == 200
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=requests, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    recorded = entries(live_app, "concurrent-")
    assert len(recorded) == 60
    # Every entry was linked as its request committed; none waits for the periodic job.
    assert all(entry.position is not None for entry in recorded)
    assert chain_check(live_app) == (None, 0)


def test_a_savepoint_released_does_not_link_before_the_commit(live_app: Flask) -> None:
    assert get(live_app, "savepoint@capdb.test", savepoint="yes") == 200
    recorded = entries(live_app, "savepoint@") + entries(live_app, "in-savepoint-savepoint@")
    assert len(recorded) == 2
    assert all(entry.position is not None for entry in recorded)
    assert chain_check(live_app) == (None, 0)


def test_a_rolled_back_request_leaves_no_entry(live_app: Flask) -> None:
    assert get(live_app, "refused@capdb.test", status="400") == 400
    assert entries(live_app, "refused@") == []
    assert chain_check(live_app) == (None, 0)


def hold_request(app: Flask, actor: str) -> tuple[Gate, threading.Thread]:
    """A request that recorded its entry and keeps its transaction open until released."""
    gate = GATES.setdefault(actor, Gate())
    thread = threading.Thread(target=get, args=(app, actor), kwargs={"gate": actor})
    thread.start()
    assert gate.recorded.wait(PROMPTLY)
    return gate, thread


def test_no_lock_is_held_while_an_audited_request_is_open(live_app: Flask, backend: str) -> None:
    gate, held = hold_request(live_app, "slow-pdf@capdb.test")
    try:
        if backend == "postgresql":
            # Another request records, commits and is linked while the first one renders.
            quick = threading.Thread(target=get, args=(live_app, "quick@capdb.test"))
            quick.start()
            quick.join(PROMPTLY)
            assert not quick.is_alive(), "the second audited request waited for the first"
            [quick_entry] = entries(live_app, "quick@")
            assert quick_entry.position is not None
        else:
            # SQLite lets one transaction write at a time, whatever the trail does; the
            # trail is read, checked and anchored while the writer is open.
            checked = threading.Thread(target=chain_check, args=(live_app,))
            checked.start()
            checked.join(PROMPTLY)
            assert not checked.is_alive()
    finally:
        gate.release.set()
        held.join(PROMPTLY)
    assert not held.is_alive()
    [slow_entry] = entries(live_app, "slow-pdf@")
    assert slow_entry.position is not None
    if backend == "postgresql":
        # Its id is older, its commit newer: it joins the chain after, nothing moves.
        [quick_entry] = entries(live_app, "quick@")
        assert slow_entry.id < quick_entry.id
        assert quick_entry.position is not None
        assert slow_entry.position == quick_entry.position + 1
    assert chain_check(live_app) == (None, 0)
