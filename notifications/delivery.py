"""Mailing notifications: at once, or gathered in daily and weekly digests.

The worker turns notifications into messages of the outbox (:mod:`capdb.mail.outbox`):
the messages and the "mailed" marks of their notifications commit together, one user at a
time, so that a crash mails nothing twice and forgets nothing. Each message is written in
its recipient's language and names only the record (an incident's reference or a case's
number), its mission, what happened and a link: never a name or a narrative. A record the
recipient can no longer see by the time the mail is written is left out of it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from itertools import groupby

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import URLSafeSerializer
from sqlalchemy.orm import Session

from auth.models import User
from capdb import db as database
from capdb.clock import now
from capdb.config import current_config
from capdb.mail import outbox
from capdb.mail.links import external_url
from notifications.kinds import EVENT_LABELS, KIND_LABELS
from notifications.models import Notification
from notifications.scope import visible_notifications

log = logging.getLogger(__name__)

BATCH = 500
UNSUBSCRIBE_SALT = "capdb-unsubscribe"


def unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(user: User, kinds: list[str]) -> str:
    token = unsubscribe_serializer().dumps({"user": user.id, "kinds": sorted(set(kinds))})
    return external_url("notifications.unsubscribe", token=token)


@dataclass(frozen=True)
class Item:
    """One notification as a mail names it."""

    kind: str
    name: str
    mission: str
    event: str
    link: str


def item(notification: Notification) -> Item:
    if notification.incident_id is not None:
        name = notification.reference or ""
        link = external_url("incidents.detail", incident_id=notification.incident_id)
    else:
        name = _("Case %(number)d", number=notification.case_id or 0)
        link = external_url("cases.detail", case_id=notification.case_id)
    return Item(
        kind=notification.kind,
        name=str(name),
        mission=notification.mission_code or "",
        event=str(EVENT_LABELS[notification.kind]),
        link=link,
    )


def _mail(user: User, template: str, subject: str, items: list[Item], kind: str) -> outbox.Mail:
    context = {
        "items": items,
        "groups": _grouped(items),
        "preferences_url": external_url("notifications.preferences"),
    }
    return outbox.Mail(
        recipient=user.email,
        subject=subject,
        text=render_template(f"notifications/mail/{template}.txt", **context),
        html=render_template(f"notifications/mail/{template}.html", **context),
        kind=kind,
        unsubscribe_url=unsubscribe_url(user, [i.kind for i in items]),
    )


def _grouped(items: list[Item]) -> list[tuple[str, list[Item]]]:
    by_kind: dict[str, list[Item]] = defaultdict(list)
    for one in items:
        by_kind[one.kind].append(one)
    return [(str(KIND_LABELS[kind]), found) for kind, found in by_kind.items()]


def _visible(db: Session, user: User, notifications: list[Notification]) -> list[Notification]:
    """Those of the notifications whose record the user still sees."""
    ids = [n.id for n in notifications]
    return list(
        db.scalars(
            sa.select(Notification)
            .where(Notification.id.in_(ids), visible_notifications(user))
            .order_by(Notification.kind, Notification.id)
        )
    )


def _due(db: Session, delivery: str) -> list[Notification]:
    return list(
        db.scalars(
            sa.select(Notification)
            .where(
                Notification.delivery == delivery,
                Notification.mailed_at.is_(None),
                Notification.created_at <= now(),
            )
            .order_by(Notification.user_id, Notification.id)
            .limit(BATCH)
        )
    )


def deliver_immediate() -> int:
    """Mail each notification due at once; answers how many messages were queued."""
    db = database.session()
    queued = 0
    for user_id, found in groupby(_due(db, "immediate"), key=lambda n: n.user_id):
        user = db.get_one(User, user_id)
        notifications = list(found)
        with force_locale(user.locale or current_config().default_locale):
            for notification in _visible(db, user, notifications):
                one = item(notification)
                subject = _("[capdb] %(name)s (%(mission)s): %(event)s", **_words(one))
                outbox.queue_mail(db, _mail(user, "event", subject, [one], "notification"))
                queued += 1
        _mark_mailed(notifications)
        db.commit()
    return queued


def _words(one: Item) -> dict[str, str]:
    return {"name": one.name, "mission": one.mission, "event": one.event}


def send_digest(delivery: str) -> int:
    """Mail each user one digest of the notifications gathered for it; answers how many."""
    db = database.session()
    queued = 0
    while found_any := _due(db, delivery):
        for user_id, found in groupby(found_any, key=lambda n: n.user_id):
            user = db.get_one(User, user_id)
            notifications = list(found)
            with force_locale(user.locale or current_config().default_locale):
                items = [item(n) for n in _visible(db, user, notifications)]
                if items:
                    outbox.queue_mail(db, _digest(user, delivery, items))
                    queued += 1
            _mark_mailed(notifications)
            db.commit()
    return queued


def _digest(user: User, delivery: str, items: list[Item]) -> outbox.Mail:
    if delivery == "daily":
        subject = _("[capdb] Your daily digest: %(count)d notifications", count=len(items))
    else:
        subject = _("[capdb] Your weekly digest: %(count)d notifications", count=len(items))
    return _mail(user, "digest", subject, items, "digest")


def _mark_mailed(notifications: list[Notification]) -> None:
    moment = now()
    for notification in notifications:
        notification.mailed_at = moment


# The jobs -------------------------------------------------------------------------------------


def deliver_and_send() -> None:
    deliver_immediate()
    outbox.send_due()


def daily_digest() -> None:
    send_digest("daily")
    outbox.send_due()


def weekly_digest() -> None:
    send_digest("weekly")
    outbox.send_due()
