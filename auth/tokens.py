"""API bearer tokens: shown once at creation, kept only as a hash."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import ApiToken, User
from auth.sessions import token_hash
from capdb.clock import now

PREFIX = "capdb_"


def create(db: Session, user: User, *, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for the user, and its secret value, which is never stored."""
    value = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=token_hash(value),
        prefix=value[: len(PREFIX) + 6],
        user_id=user.id,
        created_at=now(),
        expires_at=now() + timedelta(days=days) if days else None,
    )
    db.add(token)
    db.flush()
    return token, value


def user_for(db: Session, value: str) -> User | None:
    """The active user a presented token acts for, or None."""
    if not value.startswith(PREFIX):
        return None
    token = db.scalar(sa.select(ApiToken).where(ApiToken.token_hash == token_hash(value)))
    moment = now()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= moment:
        return None
    if not token.user.active:
        return None
    # Recorded once a minute at most, so that reading through the API rarely writes.
    if token.last_used_at is None or moment - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = moment
    return token.user


def revoke(db: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = now()


def revoke_all(db: Session, user: User) -> list[ApiToken]:
    """Revoke every live token of the user, for good; answers the tokens revoked.

    Expired tokens are revoked too, so that no token of the user can ever act again.
    """
    live = db.scalars(
        sa.select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.id)
    ).all()
    moment = now()
    for token in live:
        token.revoked_at = moment
    db.flush()
    return list(live)


def of_user(db: Session, user: User) -> list[ApiToken]:
    return list(
        db.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )
