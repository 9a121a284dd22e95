"""Password hashing with argon2id, and the password policy.

The policy is ASVS's: 8 to 128 characters, any characters, no composition rules, and
none of the commonly used passwords (zxcvbn's list of the 30,000 most frequent).
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import gettext as _
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 8
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2id with the library's reviewed defaults
# Verified against when the account does not exist, so that both cases take as long.
_DUMMY_HASH = _hasher.hash("not a real account's password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problems(password: str, email: str = "") -> list[str]:
    """Why this password may not be used; empty when it may."""
    if len(password) < MIN_LENGTH:
        return [_("Use at least %(count)d characters.", count=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_("Use at most %(count)d characters.", count=MAX_LENGTH)]
    lowered = password.lower()
    if lowered in _common_passwords() or (email and lowered == email.lower()):
        return [_("This password is too common; choose another.")]
    return []
