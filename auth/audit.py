"""The audit trail: append-only, each entry carrying the hash of the one before.

An entry is written in the caller's transaction without a place in the chain, so that a
request rolled back leaves none and no request waits for another to finish. Right after
the transaction commits, a short transaction links the committed entries into the chain
(:func:`link_pending`): each gets the next ``position``, the hash of the entry before it
and its own hash. The lock that orders linkers is held for those few statements only,
never while a page or a PDF is rendered. Whatever the commit hook misses (a crash between
commit and linking) the periodic job or ``audit link`` links later.

Changing, removing or inserting a linked entry breaks the chain at that point, which
:func:`check_chain` finds. The database also refuses UPDATE and DELETE on the table,
except the one change linking makes. Removing the newest entries leaves a shorter chain
that still holds; an anchor kept outside the database (``audit anchor``, see
:mod:`auth.audit_anchor`) catches that.
Nothing secret is ever written here: callers pass identifiers and counts, not passwords,
codes or tokens.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from auth.models import AuditEvent, User
from capdb.db import utcnow

GENESIS = "0" * 64
# Any constant serves: it names the lock that orders linkers of the trail on PostgreSQL.
_CHAIN_LOCK = 2589_0001
# The session's note that it wrote entries its commit should get linked.
_UNLINKED = "capdb.audit_unlinked"
# Linking after a commit takes at most this many entries, to stay short; the rest wait
# for the next commit or the periodic job.
LINK_BATCH = 500

log = logging.getLogger(__name__)


def entry_hash(prev_hash: str, event: AuditEvent) -> str:
    content = {
        "prev": prev_hash,
        "at": event.occurred_at.isoformat(),
        "user": event.user_id,
        "actor": event.actor,
        "action": event.action,
        "target": [event.target_type, event.target_id],
        "from": event.remote_addr,
        "detail": event.detail,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    db: Session,
    action: str,
    *,
    user: User | None = None,
    actor: str | None = None,
    target: object | None = None,
    target_type: str | None = None,
    target_id: object | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Write one entry in the caller's transaction; it joins the chain once committed.

    ``target`` may be any mapped record (its table name and id are used); ``actor``
    defaults to the user's email, or "system" for commands run without a user.
    """
    if target is not None:
        target_type = target_type or getattr(target, "__tablename__", type(target).__name__)
        target_id = getattr(target, "id", target_id)
    event = AuditEvent(
        occurred_at=at or utcnow(),
        user_id=user.id if user is not None else None,
        actor=actor or (user.email if user is not None else "system"),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        remote_addr=request.remote_addr if has_request_context() else None,
        detail=detail or {},
    )
    db.add(event)
    db.flush()
    db.info[_UNLINKED] = True
    return event


# Linking


def link_pending(db: Session, *, limit: int | None = None) -> int:
    """Link the committed entries not yet in the chain, in id order; how many were linked.

    Runs in the caller's transaction, which the caller commits. An entry whose
    transaction commits later than one with a higher id is simply linked later, after
    it: the chain's order is the order of linking, kept in ``position``, and entries
    already linked never move.
    """
    _take_the_chain(db)
    head = chain_head(db)
    position, prev_hash = (head.position, head.hash) if head is not None else (0, GENESIS)
    pending = (
        sa.select(AuditEvent)
        .where(AuditEvent.position.is_(None))
        .order_by(AuditEvent.id)
        .limit(limit)
        .execution_options(populate_existing=True)
    )
    linked = 0
    for event in db.scalars(pending):
        position += 1
        event.position = position
        event.prev_hash = prev_hash
        event.hash = prev_hash = entry_hash(prev_hash, event)
        # One statement per entry: the database checks each joins at the tail.
        db.flush()
        linked += 1
    return linked


def link_all_pending(sessions: sessionmaker[Session], *, batch: int = 1000) -> int:
    """Link every entry left unlinked, a batch per short transaction; how many were.

    What ``audit link`` and the periodic job run: the commit hook links almost
    everything, this catches entries whose linking failed or never ran (a crash).
    """
    total = 0
    while True:
        with sessions.begin() as session:
            linked = link_pending(session, limit=batch)
        total += linked
        if linked < batch:
            return total


def _take_the_chain(db: Session) -> None:
    """Make this transaction the only linker until it ends (a few milliseconds)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK)))
    else:
        # SQLite: take the write lock before reading the head, so that two linkers never
        # both read it and then fight over upgrading to writers.
        db.execute(sa.update(AuditEvent).where(sa.false()).values(position=None))


def link_at_commit(sessions: sessionmaker[Session]) -> None:
    """Link what a session's transaction wrote right after it commits."""
    sa_event.listen(sessions, "after_commit", _link_after_commit)
    sa_event.listen(sessions, "after_soft_rollback", _forget_unlinked)


def _forget_unlinked(session: Session, rolled_back: SessionTransaction) -> None:
    # Only the whole transaction's rollback takes every entry it wrote with it.
    if rolled_back.parent is None:
        session.info.pop(_UNLINKED, None)


def _link_after_commit(session: Session) -> None:
    # A savepoint released is not the end of the transaction: its entries are not
    # committed yet, and on SQLite another connection would wait for this one's lock.
    if session.get_nested_transaction() is not None:
        return
    if not session.info.pop(_UNLINKED, False):
        return
    # The committed session cannot run SQL any more: a session of its own, on the same
    # database (in the tests, a savepoint of the same connection).
    try:
        with (
            Session(bind=session.get_bind(), join_transaction_mode="create_savepoint") as linking,
            linking.begin(),
        ):
            link_pending(linking, limit=LINK_BATCH)
    except sa.exc.SQLAlchemyError:
        # The request's work is committed and stays; its entries wait for the next link.
        log.exception("linking audit entries after a commit failed; `audit link` will do it")


# Checking


@dataclass(frozen=True)
class ChainBreak:
    event_id: int | None  # None: the break is not at one entry
    reason: str

    def __str__(self) -> str:
        if self.event_id is None:
            return self.reason
        return f"audit entry {self.event_id}: {self.reason}"


@dataclass(frozen=True)
class ChainHead:
    event_id: int
    hash: str
    position: int


@dataclass(frozen=True)
class Anchor:
    """A chain head kept outside the database: the entry at ``position`` had ``hash``."""

    position: int
    hash: str


@dataclass(frozen=True)
class Unlinked:
    """Entries written but not yet in the chain, hence not yet protected by it."""

    count: int
    oldest: datetime | None


@dataclass(frozen=True)
class ChainCheck:
    broken: ChainBreak | None
    newest: ChainHead | None  # the last entry checked; None for an empty trail
    unlinked: Unlinked = Unlinked(0, None)


def verify_chain(db: Session, head: str | None = None) -> ChainBreak | None:
    """The first entry where the chain is broken, or None when the whole trail holds.

    With ``head``, a hash the trail once ended with, the entry bearing it must be there.
    """
    return check_chain(db, head).broken


def check_chain(db: Session, head: str | None = None, anchors: Iterable[Anchor] = ()) -> ChainCheck:
    """:func:`verify_chain`, the newest entry it checked (whose hash is the one to keep
    outside the database), and the entries not linked yet. Only reads.

    Each anchor's position must hold an entry with the anchor's hash: fewer entries mean
    the newest were removed, another hash that the chain was rewritten up to there.
    """
    expected: dict[int, str] = {anchor.position: anchor.hash for anchor in anchors}
    check = _walk(db, head, expected)
    unlinked = _unlinked(db)
    if check.broken is None:
        newest = check.newest.position if check.newest is not None else 0
        for position in sorted(p for p in expected if p > newest):
            reason = (
                f"the chain ends at position {newest} but an anchor holds position {position}:"
                " the newest entries were removed"
            )
            return ChainCheck(ChainBreak(None, reason), check.newest, unlinked)
    return ChainCheck(check.broken, check.newest, unlinked)


def _walk(db: Session, head: str | None, anchors: dict[int, str]) -> ChainCheck:
    expected_prev = GENESIS
    head_seen = head is None
    newest: ChainHead | None = None
    for event in _in_order(db):
        if event.position is None or event.hash is None:
            continue  # the query reads linked entries only; this tells the type checker
        expected_position = newest.position + 1 if newest is not None else 1
        if event.position != expected_position or event.prev_hash != expected_prev:
            reason = "does not follow the entry before it (removed or inserted)"
            return ChainCheck(ChainBreak(event.id, reason), newest)
        if entry_hash(event.prev_hash, event) != event.hash:
            return ChainCheck(ChainBreak(event.id, "its content was altered"), newest)
        if anchors.get(event.position, event.hash) != event.hash:
            reason = f"differs from the anchor kept for position {event.position}"
            return ChainCheck(ChainBreak(event.id, reason), newest)
        expected_prev = event.hash
        head_seen = head_seen or event.hash == head
        newest = ChainHead(event.id, event.hash, event.position)
    if not head_seen:
        reason = f"no entry has the hash {head}: the newest entries were removed"
        return ChainCheck(ChainBreak(None, reason), newest)
    return ChainCheck(None, newest)


def _in_order(db: Session) -> Iterator[AuditEvent]:
    # Read from the table, not from copies the session may already hold.
    statement = (
        sa.select(AuditEvent)
        .where(AuditEvent.position.is_not(None))
        .order_by(AuditEvent.position)
        .execution_options(yield_per=1000, populate_existing=True)
    )
    # Closing the result ends the server-side cursor even when the caller stops early.
    with db.scalars(statement) as events:
        yield from events


def _unlinked(db: Session) -> Unlinked:
    count, oldest = db.execute(
        sa.select(sa.func.count(), sa.func.min(AuditEvent.occurred_at)).where(
            AuditEvent.position.is_(None)
        )
    ).one()
    return Unlinked(count, oldest)


def chain_head(db: Session) -> ChainHead | None:
    """The newest linked entry, as it stands (not checked)."""
    event = db.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.position.is_not(None))
        .order_by(AuditEvent.position.desc())
        .limit(1)
    )
    if event is None or event.position is None or event.hash is None:
        return None
    return ChainHead(event.id, event.hash, event.position)
