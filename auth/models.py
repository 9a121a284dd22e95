"""Users, their roles and bindings, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capdb.db import Base, utcnow
from capdb.reference import Country, Mission
from capdb.vocabularies import AUDIT_ACTION, ROLE

user_missions = sa.Table(
    "user_missions",
    Base.metadata,
    sa.Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("mission_code", ForeignKey("missions.code"), primary_key=True),
)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(ROLE.column_type())
    state_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The time step of the last accepted TOTP code: a code is accepted only once.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    active: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer)
    # The language of the mail the user receives: the one of the last sign-in, or chosen.
    locale: Mapped[str | None] = mapped_column(String(5))

    state: Mapped[Country | None] = relationship()
    missions: Mapped[list[Mission]] = relationship(
        secondary=user_missions, order_by=Mission.code, lazy="selectin"
    )

    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'member_state') = (state_code IS NOT NULL)", name="state_for_member_state"
        ),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    # What Flask-Login asks of a user. Accounts are authenticated per request by their
    # server-side session or API token, never by the id stored in a cookie.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return self.active

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return str(self.id)

    @property
    def mission_codes(self) -> frozenset[str]:
        return frozenset(m.code for m in self.missions)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class AuditEvent(Base):
    """One entry of the append-only, hash-chained audit trail."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(AUDIT_ACTION.column_type())
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The chain: NULL together until the entry is linked after its transaction commits
    # (auth.audit.link_pending); the position is the order of the chain, not the id.
    position: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64), unique=True)

    __table_args__ = (
        sa.Index("ix_audit_events_target", "target_type", "target_id"),
        sa.Index(
            "ix_audit_events_unlinked",
            "id",
            postgresql_where=sa.text("position IS NULL"),
            sqlite_where=sa.text("position IS NULL"),
        ),
        sa.CheckConstraint(
            "(position IS NULL AND prev_hash IS NULL AND hash IS NULL)"
            " OR (position IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL)",
            name="linked_whole",
        ),
    )

    @property
    def linked(self) -> bool:
        return self.position is not None


class UserSession(Base):
    """A signed-in browser. The cookie carries a random token; only its hash is kept."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A bearer token for the API; acts with exactly its user's scope."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed sign-ins per account name, shared by every worker through the database.

    Keyed by a hash of the normalised email so that unknown accounts are throttled the
    same way as real ones and nothing tells them apart.
    """

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]

    __table_args__ = (sa.CheckConstraint("failures >= 0", name="failures_not_negative"),)


class PasswordReset(Base):
    """A link to choose a new password, mailed on request. Only its token's hash is kept;
    it works once, for a short time, and only while it is the account's newest link."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # Set when the link was used, or when a later link or a password change replaced it.
    ended_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """A one-time code that stands in for a TOTP code (the phone is lost). Only its hash is
    kept: the codes are shown once, when made."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]

    __table_args__ = (sa.UniqueConstraint("user_id", "code_hash", name="uq_recovery_codes_code"),)
