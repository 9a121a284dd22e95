"""Server-side, revocable sessions.

The browser's (signed) Flask session cookie holds a random token and nothing else about
the account; the database keeps the token's hash, so that a session can be ended from
anywhere: at logout, on a password change, when the user is disabled, or by expiry
(idle and absolute).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import request, session
from sqlalchemy.orm import Session

from auth.models import User, UserSession
from capdb.clock import now
from capdb.config import current_config

SESSION_KEY = "sid"
# Writing last_seen_at on every request would turn each page view into a write.
TOUCH_INTERVAL = timedelta(minutes=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(db: Session, user: User) -> UserSession:
    """Sign the user in on this browser with a brand-new session id."""
    session.clear()
    token = secrets.token_urlsafe(32)
    session[SESSION_KEY] = token
    user_session = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        created_at=now(),
        last_seen_at=now(),
        remote_addr=request.remote_addr,
        user_agent=(request.user_agent.string or "")[:200],
    )
    db.add(user_session)
    db.flush()
    return user_session


def current(db: Session) -> UserSession | None:
    """The live session of this browser, or None when absent, ended or expired."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    user_session = db.scalar(
        sa.select(UserSession).where(UserSession.token_hash == token_hash(token))
    )
    if user_session is None or user_session.ended_at is not None:
        return None
    moment = now()
    config = current_config()
    idle = moment - user_session.last_seen_at > timedelta(minutes=config.session_idle_minutes)
    old = moment - user_session.created_at > timedelta(hours=config.session_absolute_hours)
    if idle or old or not user_session.user.active:
        user_session.ended_at = moment
        return None
    if moment - user_session.last_seen_at > TOUCH_INTERVAL:
        user_session.last_seen_at = moment
    return user_session


def end(db: Session) -> None:
    """End this browser's session."""
    user_session = current(db)
    if user_session is not None:
        user_session.ended_at = now()
    session.clear()


def end_all(db: Session, user: User) -> int:
    """End every session of the user, wherever it is; answers how many were live."""
    result = db.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
