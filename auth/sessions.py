"""Server-side, revocable sessions.

The browser's (signed) Flask session cookie holds a random token and nothing else about
the account. Every session is recorded in the database (who, when, from where: the
history an administrator reads). Whether it is still live is kept where every process of
the deployment looks: in Redis when ``CAPDB_REDIS_URL`` is set (an entry per session that
expires when the session is idle too long, and the set of each user's sessions, so that
ending them all is one step), else in the database row itself. Either way a session can be
ended from anywhere: at logout, on a password change, when the user is disabled, or by
expiry (idle and absolute).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import redis
import sqlalchemy as sa
from flask import request, session
from sqlalchemy.orm import Session

from auth.models import User, UserSession
from capdb import redis_store
from capdb.clock import now
from capdb.config import current_config

SESSION_KEY = "sid"
# Writing last_seen_at on every request would turn each page view into a write.
TOUCH_INTERVAL = timedelta(minutes=1)
REDIS_SESSION = "capdb:session:"
REDIS_USER_SESSIONS = "capdb:user-sessions:"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, user: User) -> UserSession:
    """Sign the user in on this browser with a brand-new session id."""
    session.clear()
    token = secrets.token_urlsafe(32)
    session[SESSION_KEY] = token
    moment = now()
    user_session = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        created_at=moment,
        last_seen_at=moment,
        remote_addr=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:200],
    )
    db.add(user_session)
    db.flush()
    if (store := redis_store.client()) is not None:
        _remember(store, user_session)
    return user_session


def current(db: Session) -> User | None:
    """The user of this browser's live session, or None when absent, ended or expired."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    if (store := redis_store.client()) is not None:
        return _current_in_redis(db, store, token_hash(token))
    user_session = db.scalar(
        sa.select(UserSession).where(UserSession.token_hash == token_hash(token))
    )
    if user_session is None or user_session.ended_at is not None:
        return None
    moment = now()
    if _expired(user_session.created_at, user_session.last_seen_at, moment):
        user_session.ended_at = moment
        return None
    if not user_session.user.active:
        user_session.ended_at = moment
        return None
    if moment - user_session.last_seen_at > TOUCH_INTERVAL:
        user_session.last_seen_at = moment
    return user_session.user


def end(db: Session) -> None:
    """End this browser's session."""
    token = session.get(SESSION_KEY)
    session.clear()
    if not isinstance(token, str):
        return
    hashed = token_hash(token)
    if (store := redis_store.client()) is not None:
        user_id = store.hget(REDIS_SESSION + hashed, "user")
        store.delete(REDIS_SESSION + hashed)
        if user_id is not None:
            store.srem(REDIS_USER_SESSIONS + _text(user_id), hashed)
    db.execute(
        sa.update(UserSession)
        .where(UserSession.token_hash == hashed, UserSession.ended_at.is_(None))
        .values(ended_at=now())
        .execution_options(synchronize_session=False)
    )


def end_all(db: Session, user: User) -> int:
    """End every session of the user, wherever it is; answers how many were live."""
    result = db.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now())
        .execution_options(synchronize_session=False)
    )
    if (store := redis_store.client()) is None:
        return int(getattr(result, "rowcount", 0) or 0)
    listed = REDIS_USER_SESSIONS + str(user.id)
    hashes = [_text(hashed) for hashed in store.smembers(listed)]
    live = int(store.delete(*(REDIS_SESSION + hashed for hashed in hashes))) if hashes else 0
    store.delete(listed)
    return live


def _expired(created: datetime, last_seen: datetime, moment: datetime) -> bool:
    config = current_config()
    idle = moment - last_seen > timedelta(minutes=config.session_idle_minutes)
    return idle or moment - created > timedelta(hours=config.session_absolute_hours)


# In Redis -----------------------------------------------------------------------------------
#
# An entry per session: its user, when it started and when it was last seen (checked against
# the application's clock, as in the database); Redis forgets it a little after it has been
# idle too long, so that nothing piles up.


def _remember(store: redis.Redis, user_session: UserSession) -> None:
    key = REDIS_SESSION + user_session.token_hash
    started = user_session.created_at.isoformat()
    with store.pipeline() as pipeline:
        pipeline.hset(
            key, mapping={"user": user_session.user_id, "created": started, "seen": started}
        )
        pipeline.expire(key, _idle_ttl())
        listed = REDIS_USER_SESSIONS + str(user_session.user_id)
        pipeline.sadd(listed, user_session.token_hash)
        # The list outlives each of its sessions, and no more.
        pipeline.expire(listed, current_config().session_absolute_hours * 3600)
        pipeline.execute()


def _current_in_redis(db: Session, store: redis.Redis, hashed: str) -> User | None:
    key = REDIS_SESSION + hashed
    found = store.hgetall(key).items()
    entry = {_text(name): _text(value) for name, value in found}
    if not entry:
        return None
    moment = now()
    user = db.get(User, int(entry["user"]))
    created, seen = datetime.fromisoformat(entry["created"]), datetime.fromisoformat(entry["seen"])
    if user is None or not user.active or _expired(created, seen, moment):
        store.delete(key)
        return None
    if moment - seen > TOUCH_INTERVAL:
        with store.pipeline() as pipeline:
            pipeline.hset(key, "seen", moment.isoformat())
            pipeline.expire(key, _idle_ttl())
            pipeline.execute()
    return user


def _idle_ttl() -> int:
    # A minute more than the idle limit: the clock check above decides, Redis only tidies.
    return current_config().session_idle_minutes * 60 + int(TOUCH_INTERVAL.total_seconds())


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
