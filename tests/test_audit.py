"""The audit trail: its hash chain, the database's refusal to change it, `audit verify`,
and the administrators' page."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from auth.audit import entry_hash, link_pending, record, verify_chain
from auth.audit_views import PER_PAGE
from auth.models import AuditEvent
from tests.factories import LoginAs

AUDIT = "/admin/audit/"
events = AuditEvent.metadata.tables["audit_events"]


def allow_tampering(db: Session) -> None:
    """Lift the append-only triggers, inside the test's transaction only (DDL is
    transactional on both databases, so the rollback puts them back)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
    else:
        db.execute(sa.text("DROP TRIGGER audit_events_no_update"))
        db.execute(sa.text("DROP TRIGGER audit_events_no_delete"))


def three_entries(db: Session) -> list[AuditEvent]:
    """Three entries, linked into the chain as they would be after their commit."""
    entries = [
        record(db, "login", actor="first@capdb.test"),
        record(db, "export", actor="second@capdb.test", detail={"format": "csv", "rows": 12}),
        record(db, "logout", actor="third@capdb.test"),
    ]
    assert link_pending(db) == 3
    return entries


def hash_of(entry: AuditEvent) -> str:
    assert entry.hash is not None, "the entry is not linked"
    return entry.hash


def tamper(db: Session, statement: sa.Executable) -> None:
    allow_tampering(db)
    db.execute(statement)
    # Forget what this session loaded, so that reading sees the table as it now is. The
    # entries already in hand keep their (original) values.
    db.expunge_all()


def forged_after(predecessor: AuditEvent, position: int, prev_hash: str) -> AuditEvent:
    """An entry that claims to follow ``prev_hash``, with a hash that fits its content."""
    forged = AuditEvent(
        position=position,
        occurred_at=predecessor.occurred_at,
        actor="forger@capdb.test",
        action="delete",
        detail={},
        prev_hash=prev_hash,
    )
    forged.hash = entry_hash(prev_hash, forged)
    return forged


# The chain


def test_record_writes_entries_outside_the_chain_until_they_are_linked(db: Session) -> None:
    entry = record(db, "login", actor="first@capdb.test")
    assert (entry.position, entry.prev_hash, entry.hash) == (None, None, None)
    assert verify_chain(db) is None


def test_linking_chains_each_entry_to_the_one_before(db: Session) -> None:
    first, second, third = three_entries(db)
    assert first.position is not None
    assert (second.position, third.position) == (first.position + 1, first.position + 2)
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3
    assert verify_chain(db) is None


def test_an_altered_actor_breaks_the_chain_at_that_entry(db: Session) -> None:
    _, second, _ = three_entries(db)
    tamper(db, events.update().where(events.c.id == second.id).values(actor="someone@else"))
    broken = verify_chain(db)
    assert broken is not None
    assert broken.event_id == second.id
    assert "altered" in broken.reason


def test_an_altered_detail_breaks_the_chain_at_that_entry(db: Session) -> None:
    _, second, _ = three_entries(db)
    tamper(
        db,
        events.update().where(events.c.id == second.id).values(detail={"format": "csv", "rows": 1}),
    )
    broken = verify_chain(db)
    assert broken is not None
    assert broken.event_id == second.id


def test_a_removed_entry_breaks_the_chain_at_the_next_one(db: Session) -> None:
    _, second, third = three_entries(db)
    tamper(db, events.delete().where(events.c.id == second.id))
    broken = verify_chain(db)
    assert broken is not None
    assert broken.event_id == third.id
    assert "removed or inserted" in broken.reason


def test_an_entry_rehashed_after_alteration_breaks_the_link_to_the_next(db: Session) -> None:
    first, second, third = three_entries(db)
    db.expunge(second)
    second.actor = "someone@else"
    rehashed = entry_hash(hash_of(first), second)
    tamper(
        db,
        events.update().where(events.c.id == second.id).values(actor="someone@else", hash=rehashed),
    )
    broken = verify_chain(db)
    assert broken is not None
    assert broken.event_id == third.id


def make_room_after(db: Session, entry: AuditEvent) -> None:
    """Move the entries after ``entry`` one position on (in two steps: positions are
    unique at every row), leaving a hole."""
    later = events.c.position > entry.position
    tamper(db, events.update().where(later).values(position=events.c.position + 1000))
    db.execute(events.update().where(later).values(position=events.c.position - 999))


def test_a_hole_in_the_positions_is_found(db: Session) -> None:
    first, second, _ = three_entries(db)
    make_room_after(db, first)
    broken = verify_chain(db)
    assert broken is not None
    assert broken.event_id == second.id
    assert "removed or inserted" in broken.reason


def test_an_inserted_entry_that_does_not_follow_its_predecessor_is_found(db: Session) -> None:
    first, _, _ = three_entries(db)
    assert first.position is not None
    make_room_after(db, first)
    forged = forged_after(first, first.position + 1, prev_hash="f" * 64)
    db.add(forged)
    db.flush()
    broken = verify_chain(db)
    assert broken is not None
    assert broken.event_id == forged.id


def test_an_inserted_entry_that_links_to_its_predecessor_breaks_the_next_link(
    db: Session,
) -> None:
    first, second, _ = three_entries(db)
    assert first.position is not None
    make_room_after(db, first)
    db.add(forged_after(first, first.position + 1, prev_hash=hash_of(first)))
    db.flush()
    broken = verify_chain(db)
    assert broken is not None
    assert broken.event_id == second.id


def test_an_appended_entry_with_a_wrong_previous_hash_is_found(db: Session) -> None:
    first, _, third = three_entries(db)
    assert third.position is not None
    forged = forged_after(third, third.position + 1, prev_hash=hash_of(first))
    db.add(forged)
    db.flush()
    broken = verify_chain(db)
    assert broken is not None
    assert broken.event_id == forged.id


# The database itself


@pytest.mark.parametrize(
    "statement",
    [
        events.update().values(actor="someone@else"),
        events.delete(),
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_remove_entries(
    db: Session, statement: sa.Executable
) -> None:
    three_entries(db)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin_nested():
        db.execute(statement)
    assert db.scalar(sa.select(sa.func.count()).select_from(events)) == 3


def test_postgresql_refuses_to_truncate_the_trail(db: Session, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    three_entries(db)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.begin_nested():
        db.execute(sa.text("TRUNCATE audit_events"))


# flask audit verify


def test_audit_verify_says_an_intact_trail_is_intact(db: Session, cli: FlaskCliRunner) -> None:
    three_entries(db)
    result = cli.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_audit_verify_fails_and_names_the_altered_entry(db: Session, cli: FlaskCliRunner) -> None:
    _, second, _ = three_entries(db)
    tamper(db, events.update().where(events.c.id == second.id).values(actor="someone@else"))
    result = cli.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit entry {second.id}:" in result.output
    assert "intact" not in result.output


def test_audit_verify_fails_and_names_the_entry_after_a_removed_one(
    db: Session, cli: FlaskCliRunner
) -> None:
    _, second, third = three_entries(db)
    tamper(db, events.delete().where(events.c.id == second.id))
    result = cli.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"audit entry {third.id}:" in result.output


def test_a_kept_head_hash_catches_the_newest_entries_removed(
    db: Session, cli: FlaskCliRunner
) -> None:
    _, second, third = three_entries(db)
    result = cli.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"newest entry is {third.id}, with the head hash {third.hash}." in result.output
    assert cli.invoke(args=["audit", "verify", "--head", third.hash]).exit_code == 0
    # Removing the newest entry leaves a chain that holds on its own...
    tamper(db, events.delete().where(events.c.id == third.id))
    assert cli.invoke(args=["audit", "verify"]).exit_code == 0
    # ...but not against the head hash kept from before.
    result = cli.invoke(args=["audit", "verify", "--head", third.hash])
    assert result.exit_code == 1
    assert f"no entry has the hash {third.hash}" in result.output
    assert cli.invoke(args=["audit", "verify", "--head", second.hash]).exit_code == 0


# The administrators' page


@pytest.mark.parametrize("role", ["analyst", "mission", "member_state"])
def test_only_administrators_see_the_trail(
    client: FlaskClient, login_as: LoginAs, db: Session, role: str
) -> None:
    record(db, "login", actor="secret-actor@capdb.test")
    login_as(role)
    response = client.get(AUDIT)
    assert response.status_code == 403
    assert "secret-actor" not in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client: FlaskClient) -> None:
    response = client.get(AUDIT)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")


def test_administrators_see_entries_newest_first(
    app: Flask, client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        record(
            db,
            "export",
            actor="older@capdb.test",
            target_type="incidents",
            target_id=42,
            detail={"format": "csv", "rows": 12},
            at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        )
    record(db, "login", actor="newer@capdb.test")
    login_as("admin")
    response = client.get(AUDIT)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.index("newer@capdb.test") < page.index("older@capdb.test")
    assert "2024-05-06T07:08:09Z" in page
    assert "Export" in page
    assert "incidents 42" in page
    assert "203.0.113.7" in page
    assert "format=csv" in page
    assert "rows=12" in page
    assert "Older entries" not in page


def test_action_labels_follow_the_language(
    client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    record(db, "login_failed", actor="someone@capdb.test")
    login_as("admin")
    page = client.get(AUDIT, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Échec de connexion" in page
    assert "Failed login" not in page


def test_detail_is_shown_escaped(client: FlaskClient, login_as: LoginAs, db: Session) -> None:
    record(db, "update", actor="<b>actor</b>", detail={"note": "<script>alert(1)</script>"})
    login_as("admin")
    page = client.get(AUDIT).get_data(as_text=True)
    assert "note=&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;actor&lt;/b&gt;" in page
    assert "<script>alert" not in page
    assert "<b>actor" not in page


def filter_fixtures(db: Session) -> None:
    record(
        db,
        "login",
        actor="alice@un.org",
        target_type="incidents",
        target_id=7,
        at=datetime(2024, 1, 10, 12, tzinfo=UTC),
    )
    record(
        db,
        "export",
        actor="bob@un.org",
        target_type="judicial_cases",
        target_id=8,
        at=datetime(2024, 2, 10, 23, 59, tzinfo=UTC),
    )
    record(
        db,
        "update",
        actor="carol@state.example",
        target_type="incidents",
        target_id=9,
        at=datetime(2024, 3, 10, 0, 0, tzinfo=UTC),
    )


ACTORS = {"alice": "alice@un.org", "bob": "bob@un.org", "carol": "carol@state.example"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"alice", "bob", "carol"}),
        ({"action": "export"}, {"bob"}),
        ({"actor": "ALICE"}, {"alice"}),
        ({"actor": "un.org"}, {"alice", "bob"}),
        ({"actor": "%"}, set()),
        ({"target_type": "incidents"}, {"alice", "carol"}),
        ({"target_id": "9"}, {"carol"}),
        ({"target_type": "incidents", "target_id": "8"}, set()),
        ({"date_from": "2024-02-10"}, {"bob", "carol"}),
        ({"date_to": "2024-02-10"}, {"alice", "bob"}),
        ({"date_from": "2024-02-01", "date_to": "2024-03-09"}, {"bob"}),
    ],
    ids=[
        "none",
        "action",
        "actor-any-case",
        "actor-substring",
        "actor-wildcard-is-literal",
        "target-type",
        "target-id",
        "target-type-and-id",
        "date-from",
        "date-to-inclusive",
        "date-range",
    ],
)
def test_each_filter_narrows_the_trail(
    client: FlaskClient,
    login_as: LoginAs,
    db: Session,
    query: dict[str, str],
    expected: set[str],
) -> None:
    filter_fixtures(db)
    login_as("admin")
    response = client.get(AUDIT, query_string=query)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    shown = {name for name, actor in ACTORS.items() if actor in page}
    assert shown == expected
    assert ("No audit entries match" in page) == (not expected)


def older_link(page: str) -> str | None:
    match = re.search(r'href="([^"]*before=\d+[^"]*)" rel="next"', page)
    return html.unescape(match.group(1)) if match else None


def test_pages_go_back_in_time_by_entry_id_and_keep_the_filters(
    client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    for number in range(PER_PAGE + 5):
        record(db, "login", actor=f"actor-{number:03d}@capdb.test")
        if number == 2:
            record(db, "export", actor="not-a-login@capdb.test")
    login_as("admin")

    first = client.get(AUDIT, query_string={"action": "login"}).get_data(as_text=True)
    assert first.count("<tr id=") == PER_PAGE
    assert "actor-054@" in first
    assert "actor-005@" in first
    assert "actor-004@" not in first
    link = older_link(first)
    assert link is not None
    assert "action=login" in link

    second = client.get(link).get_data(as_text=True)
    assert second.count("<tr id=") == 5
    assert "actor-004@" in second
    assert "actor-000@" in second
    assert "actor-005@" not in second
    assert "not-a-login" not in second
    assert older_link(second) is None
    assert "Newest entries" in second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"date_from": "2024-13-40"}, "Not a valid date value"),
        ({"date_to": "yesterday"}, "Not a valid date value"),
        ({"date_from": "2024-03-01", "date_to": "2024-02-01"}, "end date is before the start"),
        ({"action": "nuke"}, "Choose an action from the list"),
        ({"before": "abc"}, "Not a valid integer value"),
        ({"before": "0"}, "Not a valid entry number"),
        ({"before": "99999999999999999999"}, "Not a valid entry number"),
        ({"actor": "a\x00b"}, "Control characters are not allowed"),
        ({"target_id": "x" * 65}, "64"),
    ],
    ids=[
        "bad-date",
        "word-for-date",
        "reversed-dates",
        "unknown-action",
        "non-integer-before",
        "zero-before",
        "huge-before",
        "nul-in-actor",
        "long-target-id",
    ],
)
def test_invalid_filters_are_explained_not_crashed_on(
    client: FlaskClient, login_as: LoginAs, db: Session, query: dict[str, str], message: str
) -> None:
    record(db, "login", actor="hidden@capdb.test")
    login_as("admin")
    response = client.get(AUDIT, query_string=query)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "error-summary" in page
    assert message in page
    # An invalid filter shows nothing rather than everything.
    assert "hidden@capdb.test" not in page
