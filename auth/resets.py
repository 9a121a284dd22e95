"""Password reset links: single use, short-lived, bound to one account, and replaced by
any later link or password change.

The answer to a request never tells whether the address has an account. Requests are
counted per address and per client address in the database (the login throttle's table,
under keys of their own), so that nobody floods a mailbox or probes many addresses.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth import account_mail
from auth.credentials import normalise_email
from auth.models import LoginThrottle, PasswordReset, User
from auth.sessions import token_hash
from capdb.clock import now
from capdb.config import current_config
from capdb.mail.links import external_url

PER_ADDRESS = 3
PER_CLIENT = 20
WINDOW = timedelta(hours=1)


class TooManyRequestsError(Exception):
    """This client asked too often; it may ask again later."""


def _counted(db: Session, key: str, limit: int) -> bool:
    """Count one request under the key; whether it is within the limit."""
    hashed = hashlib.sha256(key.encode()).hexdigest()
    throttle = db.get(LoginThrottle, hashed, with_for_update=True)
    moment = now()
    if throttle is None:
        throttle = LoginThrottle(key=hashed, failures=0, window_started_at=moment)
        db.add(throttle)
    elif moment - throttle.window_started_at > WINDOW:
        throttle.failures, throttle.window_started_at = 0, moment
    throttle.failures += 1
    db.flush()
    return throttle.failures <= limit


def request_reset(db: Session, email: str, client: str | None) -> None:
    """Mail a reset link if the address is an active account's and not asked too often.

    Raises :class:`TooManyRequestsError` when the client asked too often, whatever the
    address; an address asked for too often gets no more mail, silently.
    """
    if not _counted(db, f"reset-client:{client or 'unknown'}", PER_CLIENT):
        raise TooManyRequestsError
    email = normalise_email(email)
    if not _counted(db, f"reset-address:{email}", PER_ADDRESS):
        return
    user = db.scalar(sa.select(User).where(User.email == email, User.active))
    if user is None:
        return
    end_links(db, user)
    token = secrets.token_urlsafe(32)
    minutes = current_config().password_reset_minutes
    db.add(
        PasswordReset(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now(),
            expires_at=now() + timedelta(minutes=minutes),
        )
    )
    db.flush()
    link = external_url("recovery.reset_password", token=token)
    account_mail.password_reset_link(db, user, link, minutes)


def end_links(db: Session, user: User) -> None:
    """Every link of the user stops working."""
    db.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.ended_at.is_(None))
        .values(ended_at=now())
        .execution_options(synchronize_session=False)
    )


def user_of_link(db: Session, token: str) -> User | None:
    """The active user whose live link this is, or None."""
    reset = db.scalar(sa.select(PasswordReset).where(PasswordReset.token_hash == token_hash(token)))
    if reset is None or reset.ended_at is not None or reset.expires_at <= now():
        return None
    user = db.get(User, reset.user_id)
    return user if user is not None and user.active else None


def use_link(db: Session, token: str) -> bool:
    """End the link if it is still live; False if another request used it first."""
    used = db.execute(
        sa.update(PasswordReset)
        .where(
            PasswordReset.token_hash == token_hash(token),
            PasswordReset.ended_at.is_(None),
            PasswordReset.expires_at > now(),
        )
        .values(ended_at=now())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(used, "rowcount", 0))
