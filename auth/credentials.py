"""Signing in: the password step with per-account throttling, and the TOTP step.

Failures are counted per account name where every process of the deployment looks: in
Redis when ``CAPDB_REDIS_URL`` is set, else in the database. One locked account does not
stop another from signing in. Messages never tell whether an account exists.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth import audit
from auth.models import LoginThrottle, User
from auth.passwords import hash_password, needs_rehash, verify_password
from capdb import redis_store
from capdb.clock import now

MAX_FAILURES = 10
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
TOTP_WINDOW = 1  # codes of the previous and next 30 seconds are accepted too
REDIS_FAILURES = "capdb:login-failures:"
REDIS_LOCK = "capdb:login-lock:"


class LockedOutError(Exception):
    """Too many failures for this account name; try again after ``until``."""

    def __init__(self, until: datetime) -> None:
        super().__init__(until)
        self.until = until


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _throttle_key(email: str) -> str:
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def _throttle(db: Session, email: str) -> LoginThrottle:
    key = _throttle_key(email)
    throttle = db.get(LoginThrottle, key, with_for_update=True)
    if throttle is None:
        throttle = LoginThrottle(key=key, failures=0, window_started_at=now())
        db.add(throttle)
        db.flush()
    return throttle


def ensure_not_locked(db: Session, email: str) -> None:
    if (store := redis_store.client()) is not None:
        locked = store.get(REDIS_LOCK + _throttle_key(email))
        if locked is not None:
            until = datetime.fromisoformat(locked.decode())  # type: ignore[union-attr]
            if until > now():
                raise LockedOutError(until)
        return
    throttle = db.get(LoginThrottle, _throttle_key(email))
    if throttle is not None and throttle.locked_until is not None and throttle.locked_until > now():
        raise LockedOutError(throttle.locked_until)


def record_failure(db: Session, email: str, user: User | None, step: str) -> None:
    """Count a failed attempt; the tenth within the window locks the account name."""
    audit.record(
        db, "login_failed", user=user, actor=user.email if user else "unknown account",
        detail={"step": step},
    )  # fmt: skip
    if _count_failure(db, email):
        audit.record(db, "lockout", user=user, actor=user.email if user else "unknown account")


def _count_failure(db: Session, email: str) -> bool:
    """Count the failure; whether it locked the account name."""
    moment = now()
    if (store := redis_store.client()) is not None:
        key = _throttle_key(email)
        with store.pipeline() as pipeline:  # one round trip; MULTI makes it atomic
            pipeline.incr(REDIS_FAILURES + key)
            pipeline.expire(REDIS_FAILURES + key, WINDOW, nx=True)  # the first failure's window
            failures = int(pipeline.execute()[0])
        if failures < MAX_FAILURES:
            return False
        locked_until = (moment + LOCKOUT).isoformat()
        with store.pipeline() as pipeline:
            pipeline.set(REDIS_LOCK + key, locked_until, ex=LOCKOUT)
            pipeline.delete(REDIS_FAILURES + key)
            pipeline.execute()
        return True
    throttle = _throttle(db, email)
    if moment - throttle.window_started_at > WINDOW:
        throttle.failures, throttle.window_started_at = 0, moment
    throttle.failures += 1
    if throttle.failures < MAX_FAILURES:
        return False
    throttle.locked_until = moment + LOCKOUT
    throttle.failures, throttle.window_started_at = 0, moment
    return True


def clear_failures(db: Session, email: str) -> None:
    if (store := redis_store.client()) is not None:
        store.delete(REDIS_FAILURES + _throttle_key(email), REDIS_LOCK + _throttle_key(email))
        return
    throttle = db.get(LoginThrottle, _throttle_key(email))
    if throttle is not None:
        throttle.failures, throttle.locked_until = 0, None


def check_password(db: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None; counts failures.

    Raises :class:`LockedOutError` before checking anything while the name is locked.
    """
    ensure_not_locked(db, email)
    user = db.scalar(sa.select(User).where(User.email == normalise_email(email)))
    usable = user is not None and user.active
    if not verify_password(user.password_hash if usable and user else None, password):
        record_failure(db, email, user, "password")
        return None
    assert user is not None  # noqa: S101 (verify_password is False without a user)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def check_totp(db: Session, user: User, code: str, secret: str | None = None) -> bool:
    """Whether the code is valid for the user's secret (or the one being enrolled).

    A code is accepted once: its time step must be later than the last one accepted.
    """
    secret = secret or user.totp_secret
    code = code.strip().replace(" ", "")
    if not secret or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    moment = now()
    current_step = totp.timecode(moment)
    for offset in range(-TOTP_WINDOW, TOTP_WINDOW + 1):
        step = current_step + offset
        if hmac.compare_digest(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False
