"""Creating and changing accounts: the rules the command line and the admin pages share.

Every problem with the input is reported per field (:class:`AccountError`), so that a
form can show each reason next to its field and the command line can print them all.
Nothing is written unless the whole input is valid, and every change is audited without
passwords, TOTP secrets or token values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from auth import account_mail, audit, recovery_codes, resets, sessions, tokens
from auth.credentials import normalise_email
from auth.models import ApiToken, User, UserSession
from auth.passwords import hash_password, password_problems
from capdb.clock import now
from capdb.reference import STATES, Country, Mission
from capdb.vocabularies import ROLE

# The WHATWG form of a valid address, with a dot required in the domain.
_EMAIL = re.compile(
    r"[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+"
)
_BASE32 = re.compile(r"[A-Z2-7]+")
TOTP_SECRET_MIN = 16
TOTP_SECRET_MAX = 64  # the width of users.totp_secret
EMAIL_MAX = 254


class AccountError(ValueError):
    """The input is invalid; ``problems`` maps each field to the reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in problems.items()))
        self.problems = problems


class StaleEditError(ValueError):
    """The account changed since the form was loaded; nothing was written."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Someone else changed this account since you opened it. "
                "Nothing was saved; review the current values and try again."
            )
        )


@dataclass(frozen=True)
class Bindings:
    """A validated role with the missions or the State it is bound to."""

    role: str
    missions: list[Mission]
    state: Country | None

    def summary(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "missions": [m.code for m in self.missions],
            "state": self.state.code if self.state else None,
        }


def create_user(
    db: Session,
    *,
    email: str,
    role: str,
    missions: Iterable[str],
    state: str | None,
    password: str,
    totp_secret: str | None = None,
    by: User | None = None,
) -> User:
    """A new active account; without a TOTP secret its owner enrolls at first sign-in."""
    problems: dict[str, str] = {}
    email = normalise_email(email)
    _check_email(db, email, problems)
    bindings = _check_bindings(db, role, missions, state, problems)
    if reason := next(iter(password_problems(password, email)), None):
        problems["password"] = reason
    secret = _check_totp_secret(totp_secret, problems)
    if problems or bindings is None:
        raise AccountError(problems)
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=bindings.role,
        missions=bindings.missions,
        state=bindings.state,
        totp_secret=secret,
        active=True,
    )
    _insert(db, user)
    # The trail is never erased: it names the account by its id (the target), not its address.
    detail = bindings.summary() | {"totp": "set" if secret else "pending"}
    audit.record(db, "create", user=by, target=user, detail=detail)
    return user


def update_user(
    db: Session,
    user: User,
    *,
    role: str,
    missions: Iterable[str],
    state: str | None,
    active: bool,
    expected_version: int,
    by: User | None,
) -> User:
    """Change the role, bindings and status of an account that nobody changed meanwhile."""
    if expected_version != user.version:
        raise StaleEditError()
    problems: dict[str, str] = {}
    bindings = _check_bindings(db, role, missions, state, problems)
    _check_own_account(user, by, role=role, active=active, problems=problems)
    if problems or bindings is None:
        raise AccountError(problems)
    before = _permissions(user)
    user.role, user.missions, user.state = bindings.role, bindings.missions, bindings.state
    user.active = active
    _save_permission_change(db, user, before, by)
    return user


def set_active(db: Session, user: User, active: bool, *, by: User | None) -> User:
    """Enable or disable an account; disabling ends all its sessions and revokes its API
    tokens for good: enabling it again brings none of them back."""
    problems: dict[str, str] = {}
    _check_own_account(user, by, role=user.role, active=active, problems=problems)
    if problems:
        raise AccountError(problems)
    before = _permissions(user)
    user.active = active
    _save_permission_change(db, user, before, by)
    return user


def set_password(db: Session, user: User, password: str, *, by: User | None) -> User:
    """Give the account a new password: its sessions end and its API tokens are revoked.

    Whoever knew the old password may have made a token with it; a password change (by
    its owner, or by an administrator resetting it) must lock that person out for good.
    The caller starts a new session for the browser that made the change, if it wants one.
    """
    if reason := next(iter(password_problems(password, user.email)), None):
        raise AccountError({"password": reason})
    user.password_hash = hash_password(password)
    user.password_changed_at = now()
    sessions.end_all(db, user)
    resets.end_links(db, user)
    audit.record(db, "update", user=by, target=user, detail={"password": "changed"})
    revoke_all_tokens(db, user, by=by, reason="password changed")
    account_mail.password_changed(db, user)
    return user


def reset_two_factor(db: Session, user: User, *, by: User) -> User:
    """Forget the account's TOTP secret and recovery codes (a lost phone): its owner enrolls
    again at the next sign-in. Its sessions end, as whoever holds them may hold the phone."""
    if by.id == user.id:
        raise AccountError({"totp": _("Ask another administrator to reset your two-factor.")})
    user.totp_secret = None
    user.totp_last_step = None
    recovery_codes.discard(db, user)
    sessions.end_all(db, user)
    audit.record(db, "update", user=by, target=user, detail={"totp": "reset"})
    account_mail.two_factor_changed(db, user, account_mail.RESET)
    return user


def revoke_all_tokens(db: Session, user: User, *, by: User | None, reason: str) -> int:
    """Revoke every live API token of the user, each audited by id (never its value)."""
    revoked = tokens.revoke_all(db, user)
    for token in revoked:
        detail = {"revoked": True, "user": user.id, "reason": reason}
        audit.record(db, "update", user=by, target=token, detail=detail)
    return len(revoked)


def find_user(db: Session, email: str) -> User | None:
    return db.scalar(sa.select(User).where(sa.func.lower(User.email) == normalise_email(email)))


@dataclass(frozen=True)
class UserRow:
    user: User
    last_login: datetime | None


def list_users(db: Session) -> list[UserRow]:
    """Every account, by email, with the time its latest session was opened."""
    last_login = (
        sa.select(UserSession.user_id, sa.func.max(UserSession.created_at).label("at"))
        .group_by(UserSession.user_id)
        .subquery()
    )
    statement = (
        sa.select(User, last_login.c.at)
        .outerjoin(last_login, last_login.c.user_id == User.id)
        .options(selectinload(User.state))
        .order_by(User.email)
    )
    return [UserRow(user, at) for user, at in db.execute(statement)]


def issue_token(
    db: Session, user: User, *, days: int | None = None, by: User | None = None
) -> tuple[ApiToken, str]:
    """A new API token for an active user, and its value, which only the caller sees."""
    if not user.active:
        raise AccountError({"email": _("This account is disabled.")})
    token, value = tokens.create(db, user, days=days)
    detail = {"user": user.id, "expires_at": _iso(token.expires_at)}
    audit.record(db, "create", user=by, target=token, detail=detail)
    account_mail.token_created(db, user, token.prefix)
    return token, value


def revoke_token(db: Session, token: ApiToken, *, by: User | None = None) -> bool:
    """Revoke the token; answers False when it already was."""
    if token.revoked_at is not None:
        return False
    tokens.revoke(db, token)
    audit.record(db, "update", user=by, target=token, detail={"revoked": True})
    return True


def _check_email(db: Session, email: str, problems: dict[str, str]) -> None:
    if len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email):
        problems["email"] = _("Enter a valid email address, such as name@un.org.")
    elif find_user(db, email) is not None:
        problems["email"] = _("An account with this email address already exists.")


def _check_bindings(
    db: Session,
    role: str,
    missions: Iterable[str],
    state: str | None,
    problems: dict[str, str],
) -> Bindings | None:
    """The role with its missions or State, each checked against the role."""
    role = (role or "").strip()
    if role not in ROLE:
        problems["role"] = _("Choose one of the roles.")
        return None
    mission_list = _check_missions(db, role, missions, problems)
    country = _check_state(db, role, state, problems)
    if mission_list is None or "state" in problems:
        return None
    return Bindings(role, mission_list, country)


def _check_missions(
    db: Session, role: str, codes: Iterable[str], problems: dict[str, str]
) -> list[Mission] | None:
    wanted = list(dict.fromkeys(c.strip().upper() for c in codes if c and c.strip()))
    if role != "mission":
        if wanted:
            problems["missions"] = _("Only mission officers are bound to missions.")
            return None
        return []
    if not wanted:
        problems["missions"] = _("A mission officer needs at least one mission.")
        return None
    found = {m.code: m for m in db.scalars(sa.select(Mission).where(Mission.code.in_(wanted)))}
    unknown = [code for code in wanted if code not in found]
    if unknown:
        problems["missions"] = _("Unknown mission: %(codes)s.", codes=", ".join(unknown))
        return None
    return [found[code] for code in sorted(wanted)]


def _check_state(
    db: Session, role: str, code: str | None, problems: dict[str, str]
) -> Country | None:
    code = (code or "").strip().upper()
    if role != "member_state":
        if code:
            problems["state"] = _("Only Member State focal points are bound to a State.")
        return None
    if not code:
        problems["state"] = _("A Member State focal point needs a State.")
        return None
    country = db.get(Country, code) if len(code) == 3 else None
    if country is None or country.kind not in STATES:
        problems["state"] = _("Unknown country code: %(code)s.", code=code)
    return country


def _check_totp_secret(secret: str | None, problems: dict[str, str]) -> str | None:
    """The secret in canonical form (upper case, no spaces or padding), or None."""
    if secret is None or not secret.strip():
        return None
    canonical = re.sub(r"\s+", "", secret).upper().rstrip("=")
    fits = TOTP_SECRET_MIN <= len(canonical) <= TOTP_SECRET_MAX
    if not fits or not _BASE32.fullmatch(canonical):
        problems["totp_secret"] = _(
            "A TOTP secret is %(min)d to %(max)d base32 characters (A to Z and 2 to 7).",
            min=TOTP_SECRET_MIN,
            max=TOTP_SECRET_MAX,
        )
        return None
    return canonical


def _check_own_account(
    user: User, by: User | None, *, role: str, active: bool, problems: dict[str, str]
) -> None:
    """Administrators may not lock themselves out, by mistake or otherwise."""
    if by is None or by.id != user.id:
        return
    if not active:
        problems["active"] = _("You cannot disable your own account.")
    if role != user.role:
        problems["role"] = _("You cannot change your own role.")


def _permissions(user: User) -> dict[str, Any]:
    return {
        "role": user.role,
        "missions": sorted(user.mission_codes),
        "state": user.state.code if user.state else None,
        "active": user.active,
    }


def _save_permission_change(
    db: Session, user: User, before: dict[str, Any], by: User | None
) -> None:
    """Write and audit the change, if any, under the account's version check."""
    after = _permissions(user)
    if after == before:
        return
    # A change of missions alone touches no column of users; marking one makes the
    # flush bump the version, so that concurrent edits of the bindings conflict too.
    flag_modified(user, "role")
    try:
        db.flush()
    except StaleDataError:
        raise StaleEditError() from None
    audit.record(
        db, "permission_change", user=by, target=user, detail={"before": before, "after": after}
    )
    if before["active"] and not user.active:
        sessions.end_all(db, user)
        revoke_all_tokens(db, user, by=by, reason="account disabled")


def _insert(db: Session, user: User) -> None:
    """Add the user; a concurrent insert of the same email is reported as a duplicate."""
    try:
        with db.begin_nested():
            db.add(user)
            db.flush()
    except IntegrityError:
        raise AccountError(
            {"email": _("An account with this email address already exists.")}
        ) from None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
