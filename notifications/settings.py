"""Each user's choices per kind of event, the administrators' defaults per role, and the
notifications a user reads."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.clock import now
from notifications.models import (
    KINDS,
    SHIPPED_DELIVERY,
    Notification,
    NotificationDefault,
    NotificationPreference,
)
from notifications.scope import visible_notifications

SHOWN = 100


def role_defaults(db: Session, role: str) -> dict[str, str]:
    """What a user of the role who chose nothing gets, per kind."""
    chosen = dict(
        db.execute(
            sa.select(NotificationDefault.kind, NotificationDefault.delivery).where(
                NotificationDefault.role == role
            )
        ).all()
    )
    return {kind: chosen.get(kind, SHIPPED_DELIVERY) for kind in KINDS}


def choices_of(db: Session, user: User) -> dict[str, str]:
    """The user's delivery per kind: its own choice, else its role's default."""
    own = dict(
        db.execute(
            sa.select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return role_defaults(db, user.role) | own


def choose(db: Session, user: User, choices: dict[str, str]) -> None:
    """Keep the user's choices (only kinds and deliveries the forms offer get here)."""
    for kind, delivery in choices.items():
        found = db.get(NotificationPreference, (user.id, kind))
        if found is None:
            db.add(NotificationPreference(user_id=user.id, kind=kind, delivery=delivery))
        else:
            found.delivery = delivery
    db.flush()


def set_defaults(db: Session, role: str, choices: dict[str, str], *, by: User) -> None:
    before = role_defaults(db, role)
    for kind, delivery in choices.items():
        found = db.get(NotificationDefault, (role, kind))
        if found is None:
            db.add(NotificationDefault(role=role, kind=kind, delivery=delivery))
        else:
            found.delivery = delivery
    db.flush()
    changed = {kind: d for kind, d in choices.items() if before.get(kind) != d}
    if changed:
        detail = {"notification_defaults": role, "changed": changed}
        audit.record(db, "update", user=by, detail=detail)


def notifications_of(db: Session, user: User) -> list[Notification]:
    return list(
        db.scalars(
            sa.select(Notification)
            .where(visible_notifications(user))
            .order_by(Notification.id.desc())
            .limit(SHOWN)
        )
    )


def unread_count(db: Session, user: User) -> int:
    return int(
        db.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(visible_notifications(user), Notification.read_at.is_(None))
        )
        or 0
    )


def notification_of(db: Session, user: User, notification_id: int) -> Notification | None:
    return db.scalar(
        sa.select(Notification).where(
            Notification.id == notification_id, visible_notifications(user)
        )
    )


def mark_all_read(db: Session, user: User) -> None:
    db.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=now())
        .execution_options(synchronize_session=False)
    )
