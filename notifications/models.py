"""Notifications, and how each user wants to be told of each kind of event."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from capdb.db import Base, utcnow

KINDS = (
    "incident_submitted",
    "incident_validated",
    "incident_returned",
    "stage_changed",
    "update_pending",
    "update_validated",
    "update_rejected",
    "clarification_requested",
    "clarification_answered",
)
# At once (a mail per event), in a daily or a weekly digest, or never by mail: every
# notification is listed on the notifications page whatever its delivery.
DELIVERIES = ("immediate", "daily", "weekly", "never")
SHIPPED_DELIVERY = "immediate"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Notification(Base):
    """One event told to one user: its kind and record (an incident or a case), never its
    content. Whether and when it was mailed follows the user's choice at the time."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("judicial_cases.id"), index=True)
    # The incident's reference (a case is named by its number) and the mission.
    reference: Mapped[str | None] = mapped_column(String(40))
    mission_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    delivery: Mapped[str] = mapped_column(String(10))
    # Set once the notification went into a mail, or was found not to need one.
    mailed_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint(_one_of("kind", KINDS), name="known_kind"),
        sa.CheckConstraint(_one_of("delivery", DELIVERIES), name="known_delivery"),
        sa.CheckConstraint("(incident_id IS NULL) <> (case_id IS NULL)", name="one_subject"),
        sa.Index("ix_notifications_user_id_id", "user_id", "id"),
        sa.Index(
            "ix_notifications_to_mail",
            "delivery",
            "id",
            postgresql_where=sa.text("mailed_at IS NULL"),
            sqlite_where=sa.text("mailed_at IS NULL"),
        ),
    )


class NotificationPreference(Base):
    """A user's own choice for one kind of event."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        sa.CheckConstraint(_one_of("kind", KINDS), name="known_kind"),
        sa.CheckConstraint(_one_of("delivery", DELIVERIES), name="known_delivery"),
    )


class NotificationDefault(Base):
    """What an administrator chose for the users of a role who made no choice themselves."""

    __tablename__ = "notification_defaults"

    role: Mapped[str] = mapped_column(String(20), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        sa.CheckConstraint(_one_of("kind", KINDS), name="known_kind"),
        sa.CheckConstraint(_one_of("delivery", DELIVERIES), name="known_delivery"),
    )
