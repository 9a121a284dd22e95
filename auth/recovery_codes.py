"""Recovery codes: ten one-time codes that stand in for a TOTP code when the phone is lost.

Shown once when made (at enrollment, or when the user asks for new ones); only their
hashes are kept. Each has 50 random bits, so a plain SHA-256 keeps them as safe as a slow
password hash would, and a code is found by its hash alone.
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import RecoveryCode, User
from capdb.clock import now

COUNT = 10
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l to misread


def _normalised(code: str) -> str:
    return "".join(code.lower().split()).replace("-", "")


def _hash(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def _new_code() -> str:
    letters = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


def renew(db: Session, user: User) -> list[str]:
    """Replace the user's codes with ten new ones; the codes, to be shown once."""
    discard(db, user)
    codes = [_new_code() for _ in range(COUNT)]
    for code in codes:
        db.add(RecoveryCode(user_id=user.id, code_hash=_hash(code), created_at=now()))
    db.flush()
    return codes


def discard(db: Session, user: User) -> None:
    db.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def use(db: Session, user: User, code: str) -> bool:
    """Whether the code is one of the user's unused codes; it is used up if so."""
    if not 8 <= len(_normalised(code)) <= 20:
        return False
    used = db.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now())
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(used, "rowcount", 0))


def remaining(db: Session, user: User) -> int:
    return int(
        db.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )
