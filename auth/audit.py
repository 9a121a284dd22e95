"""The audit trail: append-only, each entry carrying the hash of the one before.

Changing, removing or inserting an entry breaks the chain at that point, which
:func:`verify_chain` finds. The database also refuses UPDATE and DELETE on the table.
Removing the newest entries leaves a shorter chain that still holds; a head hash kept
outside the database (``audit verify`` prints it) catches that: the entry bearing it
must still be there.
Nothing secret is ever written here: callers pass identifiers and counts, not passwords,
codes or tokens.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from capdb.db import utcnow

GENESIS = "0" * 64
# Any constant serves: it names the lock that orders writers of the trail on PostgreSQL.
_CHAIN_LOCK = 2589_0001


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
    """Append one entry to the trail, in the caller's transaction.

    ``target`` may be any mapped record (its table name and id are used); ``actor``
    defaults to the user's email, or "system" for commands run without a user.
    """
    if target is not None:
        target_type = target_type or getattr(target, "__tablename__", type(target).__name__)
        target_id = getattr(target, "id", target_id)
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.select(sa.func.pg_advisory_xact_lock(_CHAIN_LOCK)))
    previous = db.scalar(sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    event = AuditEvent(
        occurred_at=at or utcnow(),
        user_id=user.id if user is not None else None,
        actor=actor or (user.email if user is not None else "system"),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        remote_addr=request.remote_addr if has_request_context() else None,
        detail=detail or {},
        prev_hash=previous or GENESIS,
    )
    event.hash = entry_hash(event.prev_hash, event)
    db.add(event)
    db.flush()
    return event


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


@dataclass(frozen=True)
class ChainCheck:
    broken: ChainBreak | None
    newest: ChainHead | None  # the last entry checked; None for an empty trail


def verify_chain(db: Session, head: str | None = None) -> ChainBreak | None:
    """The first entry where the chain is broken, or None when the whole trail holds.

    With ``head``, a hash the trail once ended with, the entry bearing it must be there.
    """
    return check_chain(db, head).broken


def check_chain(db: Session, head: str | None = None) -> ChainCheck:
    """:func:`verify_chain`, and the newest entry it checked, whose hash is the one to
    keep outside the database."""
    expected_prev = GENESIS
    head_seen = head is None
    newest: ChainHead | None = None
    for event in _in_order(db):
        if event.prev_hash != expected_prev:
            reason = "does not follow the entry before it (removed or inserted)"
            return ChainCheck(ChainBreak(event.id, reason), newest)
        if entry_hash(event.prev_hash, event) != event.hash:
            return ChainCheck(ChainBreak(event.id, "its content was altered"), newest)
        expected_prev = event.hash
        head_seen = head_seen or event.hash == head
        newest = ChainHead(event.id, event.hash)
    if not head_seen:
        reason = f"no entry has the hash {head}: the newest entries were removed"
        return ChainCheck(ChainBreak(None, reason), newest)
    return ChainCheck(None, newest)


def _in_order(db: Session) -> Iterator[AuditEvent]:
    # Read from the table, not from copies the session may already hold.
    statement = (
        sa.select(AuditEvent)
        .order_by(AuditEvent.id)
        .execution_options(yield_per=1000, populate_existing=True)
    )
    # Closing the result ends the server-side cursor even when the caller stops early.
    with db.scalars(statement) as events:
        yield from events
