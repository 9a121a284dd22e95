"""The audit chain's database guard on linking, `audit link`, anchors against a truncated
trail, unlinked entries in `audit verify` and on the administrators' page, and the
migration that gave the existing entries their positions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from auth.audit import (
    GENESIS,
    check_chain,
    entry_hash,
    link_all_pending,
    link_pending,
    record,
)
from auth.audit_anchor import link_and_anchor
from auth.models import AuditEvent
from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.db import utcnow
from capdb.jobs import queue
from tests.conftest import config_for
from tests.factories import LoginAs
from tests.test_audit import events, tamper, three_entries

REFUSED = "append-only"


def refused(db: Session, statement: sa.Executable) -> None:
    with pytest.raises(sa.exc.DatabaseError, match=REFUSED), db.begin_nested():
        db.execute(statement)


def link_values(position: int, prev_hash: str, hash_: str = "a" * 64) -> dict[str, object]:
    return {"position": position, "prev_hash": prev_hash, "hash": hash_}


# The database lets linking happen once, at the tail, and nothing else


def test_the_database_refuses_to_link_a_linked_entry_again(db: Session) -> None:
    _, _, third = three_entries(db)
    assert third.position is not None
    refused(
        db,
        events.update()
        .where(events.c.id == third.id)
        .values(**link_values(third.position + 1, str(third.hash))),
    )


def test_the_database_refuses_to_change_or_remove_an_unlinked_entry(db: Session) -> None:
    entry = record(db, "login", actor="pending@capdb.test")
    refused(db, events.update().where(events.c.id == entry.id).values(actor="someone@else"))
    refused(db, events.delete().where(events.c.id == entry.id))


@pytest.mark.parametrize(
    "change",
    ["not-at-the-tail", "wrong-previous-hash", "content-changed", "hash-missing"],
)
def test_the_database_refuses_a_link_that_is_not_the_next_one(db: Session, change: str) -> None:
    _, _, third = three_entries(db)
    assert third.position is not None
    assert third.hash is not None
    entry = record(db, "logout", actor="pending@capdb.test")
    values: dict[str, object] = link_values(third.position + 1, third.hash)
    if change == "not-at-the-tail":
        values["position"] = third.position + 2
    elif change == "wrong-previous-hash":
        values["prev_hash"] = GENESIS
    elif change == "content-changed":
        values["actor"] = "someone@else"
    else:
        values["hash"] = None
    refused(db, events.update().where(events.c.id == entry.id).values(**values))
    # The right link passes.
    db.execute(
        events.update()
        .where(events.c.id == entry.id)
        .values(**link_values(third.position + 1, third.hash))
    )


def test_audit_link_links_what_commits_left_unlinked(db: Session, cli: FlaskCliRunner) -> None:
    first, second = record(db, "login", actor="a@capdb.test"), record(db, "login", actor="b@")
    result = cli.invoke(args=["audit", "link"])
    assert result.exit_code == 0, result.output
    assert "Linked 2 audit entries" in result.output
    db.expire_all()
    assert first.position is not None
    assert second.position == first.position + 1
    assert check_chain(db).unlinked.count == 0
    assert cli.invoke(args=["audit", "link"]).output.startswith("Linked 0 ")


def test_linking_everything_goes_batch_by_batch(app: Flask, db: Session) -> None:
    recorded = [record(db, "login", actor=f"batch-{n}@capdb.test") for n in range(5)]
    db.commit()  # the commit hook links them...
    pending = [record(db, "login", actor=f"left-{n}@capdb.test") for n in range(5)]
    db.info.clear()  # ...but not these: as if the process died right after committing
    db.commit()
    assert all(entry.position is None for entry in pending)
    assert link_all_pending(app.extensions["capdb.db"].sessionmaker, batch=2) == 5
    db.expire_all()
    positions = [entry.position for entry in recorded + pending]
    assert positions == list(range(positions[0] or 0, (positions[0] or 0) + 10))
    assert check_chain(db).broken is None


def test_a_lower_id_linked_after_a_higher_one_goes_after_it(db: Session) -> None:
    """What happens when a request that took its id first commits last."""
    newer = record(db, "login", actor="newer@capdb.test")
    link_pending(db)
    older = AuditEvent(id=newer.id - 1, occurred_at=utcnow(), actor="older@", action="login")
    db.add(older)
    db.flush()
    assert link_pending(db) == 1
    assert newer.position is not None
    assert older.position == newer.position + 1
    assert check_chain(db).broken is None


# audit verify with unlinked entries


def test_verify_passes_over_entries_being_linked(db: Session, cli: FlaskCliRunner) -> None:
    three_entries(db)
    record(db, "login", actor="just-now@capdb.test")
    result = cli.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "1 newer entries are being linked" in result.output
    assert "Warning" not in result.output


def test_verify_warns_of_entries_left_unlinked(db: Session, cli: FlaskCliRunner) -> None:
    three_entries(db)
    record(db, "login", actor="stuck@capdb.test", at=utcnow() - timedelta(minutes=5))
    result = cli.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    assert "Warning: 1 audit entries are not linked" in result.output
    assert "audit link" in result.output


# Anchors


@pytest.fixture
def anchor_dir(app: Flask, tmp_path: Path) -> Path:
    directory = tmp_path / "anchors"
    config = app.extensions["capdb.config"]
    app.extensions["capdb.config"] = config.replace(audit_anchor_dir=str(directory))
    return directory


def test_audit_anchor_writes_the_head_to_a_file_of_its_own(
    db: Session, cli: FlaskCliRunner, anchor_dir: Path
) -> None:
    _, _, third = three_entries(db)
    result = cli.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    [written] = anchor_dir.iterdir()
    content = json.loads(written.read_text())
    assert (content["position"], content["hash"]) == (third.position, third.hash)
    assert content["entry_id"] == third.id
    assert f"position {third.position}" in result.output
    assert cli.invoke(args=["audit", "anchor"]).exit_code == 0
    assert len(list(anchor_dir.iterdir())) == 2


def test_the_periodic_job_links_and_anchors(app: Flask, db: Session, anchor_dir: Path) -> None:
    first, second = record(db, "login", actor="a@capdb.test"), record(db, "login", actor="b@")
    with app.app_context():
        assert link_and_anchor() == 2
    db.expire_all()
    [written] = anchor_dir.iterdir()
    content = json.loads(written.read_text())
    assert (content["position"], content["hash"]) == (second.position, second.hash)
    assert first.position is not None


@pytest.mark.parametrize(
    ("task", "due", "not_due"),
    [
        ("capdb.audit_anchor", datetime(2026, 12, 7, 13, 7), datetime(2026, 12, 7, 13, 8)),
        ("capdb.backup", datetime(2026, 12, 7, 2, 37), datetime(2026, 12, 7, 3, 37)),
    ],
)
def test_the_worker_runs_the_audit_and_backup_jobs_on_their_schedule(
    app: Flask, task: str, due: datetime, not_due: datetime
) -> None:
    assert task in [periodic.name for periodic in queue(app).read_periodic(due)]
    assert task not in [periodic.name for periodic in queue(app).read_periodic(not_due)]


def test_audit_anchor_prints_the_head_without_a_folder(db: Session, cli: FlaskCliRunner) -> None:
    _, _, third = three_entries(db)
    result = cli.invoke(args=["audit", "anchor"])
    assert result.exit_code == 0, result.output
    assert f'"hash": "{third.hash}"' in result.output
    assert "CAPDB_AUDIT_ANCHOR_DIR is not set" in result.output


def anchor_file(cli: FlaskCliRunner, tmp_path: Path) -> Path:
    result = cli.invoke(args=["audit", "anchor", "--print"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "kept-anchor.json"
    path.write_text(result.output)
    return path


def test_an_anchor_catches_the_newest_entries_removed(
    db: Session, cli: FlaskCliRunner, tmp_path: Path
) -> None:
    _, second, third = three_entries(db)
    kept = anchor_file(cli, tmp_path)
    result = cli.invoke(args=["audit", "verify", "--anchor", str(kept)])
    assert result.exit_code == 0, result.output
    assert "every entry up to the 1 anchor" in result.output
    tamper(db, events.delete().where(events.c.id == third.id))
    # The shorter chain holds on its own...
    assert cli.invoke(args=["audit", "verify"]).exit_code == 0
    # ...but not against the anchor.
    result = cli.invoke(args=["audit", "verify", "--anchor", str(kept)])
    assert result.exit_code == 1
    assert f"the chain ends at position {second.position}" in result.output
    assert "the newest entries were removed" in result.output


def test_an_anchor_catches_a_rewritten_chain(
    db: Session, cli: FlaskCliRunner, tmp_path: Path
) -> None:
    """Entries altered and every hash after them recomputed hold as a chain; the anchor
    still has the old head."""
    first, second, third = three_entries(db)
    kept = anchor_file(cli, tmp_path)
    db.expunge_all()
    tamper(db, events.update().where(events.c.id == second.id).values(actor="someone@else"))
    rewritten_prev = str(first.hash)
    for entry in (second, third):
        entry = db.get_one(AuditEvent, entry.id)
        rewritten = entry_hash(rewritten_prev, entry)
        db.execute(
            events.update()
            .where(events.c.id == entry.id)
            .values(prev_hash=rewritten_prev, hash=rewritten)
        )
        rewritten_prev = rewritten
    db.expunge_all()
    assert cli.invoke(args=["audit", "verify"]).exit_code == 0
    result = cli.invoke(args=["audit", "verify", "--anchor", str(kept)])
    assert result.exit_code == 1
    assert f"audit entry {third.id}: differs from the anchor" in result.output


@pytest.mark.parametrize(
    "content",
    ["not json", '{"format": "something else"}', '{"format": "capdb-audit-anchor/1"}'],
    ids=["not-json", "other-format", "no-position"],
)
def test_a_bad_anchor_file_is_explained(
    db: Session, cli: FlaskCliRunner, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "anchor.json"
    path.write_text(content)
    result = cli.invoke(args=["audit", "verify", "--anchor", str(path)])
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "Traceback" not in result.output


# The administrators' page


def test_the_page_shows_positions_and_entries_being_linked(
    client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    linked = record(db, "login", actor="linked@capdb.test")
    link_pending(db)
    pending = record(db, "logout", actor="pending@capdb.test")
    login_as("admin")
    page = client.get("/admin/audit/").get_data(as_text=True)
    linked_row = page[page.index(f'id="entry-{linked.id}"') :]
    pending_row = page[page.index(f'id="entry-{pending.id}"') : page.index(linked_row)]
    assert f"<td>{linked.position}</td>" in linked_row.split("</tr>")[0]
    assert "Not yet linked" in pending_row


# The migration


def test_the_migration_gives_existing_entries_their_positions(
    make_database_url: Callable[[str], str], tmp_path: Path
) -> None:
    app = create_app(config_for(make_database_url("auditmigration"), tmp_path))
    engine = app.extensions["capdb.db"].engine
    with app.app_context():
        command.upgrade(alembic_config(), "9c3e1d2a7b40")
        prev = GENESIS
        with engine.begin() as connection:
            for number in range(3):
                entry = AuditEvent(
                    occurred_at=datetime(2026, 1, 1, number, tzinfo=UTC),
                    actor=f"before-{number}@capdb.test",
                    action="login",
                    detail={"n": number},
                )
                entry.prev_hash, entry.hash = prev, entry_hash(prev, entry)
                prev = entry.hash
                connection.execute(
                    sa.insert(events).values(
                        occurred_at=entry.occurred_at,
                        actor=entry.actor,
                        action=entry.action,
                        detail=entry.detail,
                        prev_hash=entry.prev_hash,
                        hash=entry.hash,
                    )
                )
        command.upgrade(alembic_config(), "head")
        with app.extensions["capdb.db"].sessionmaker() as session:
            check = check_chain(session)
            assert check.broken is None
            assert check.newest is not None
            assert (check.newest.position, check.newest.hash) == (3, prev)
        command.downgrade(alembic_config(), "9c3e1d2a7b40")
    engine.dispose()
