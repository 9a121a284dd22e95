"""Plugging notifications into the application: the listeners, the header's unread count,
and the jobs that mail notifications and digests."""

from __future__ import annotations

import logging

from flask import Flask, has_request_context
from flask_login import current_user

from auth.access import viewer
from capdb import db, jobs
from notifications import delivery, events, settings

log = logging.getLogger(__name__)

DUE_TASK = "notifications.deliver_due"
DAILY_TASK = "notifications.daily_digest"
WEEKLY_TASK = "notifications.weekly_digest"


def unread_notifications() -> int:
    """The signed-in user's unread notifications, for the header (0 if it cannot tell)."""
    if not has_request_context() or not current_user.is_authenticated:
        return 0
    try:
        return settings.unread_count(db.session(), viewer())
    except Exception as error:  # an error page must still render
        log.warning("unread notifications not counted: %s", type(error).__name__)
        return 0


def init_app(app: Flask) -> None:
    events.connect()
    app.jinja_env.globals["unread_notifications"] = unread_notifications
    # At once after each change; every minute for what a lost message to the worker left;
    # the digests every morning at 06:00 UTC, the weekly one on Mondays.
    jobs.register_task(app, delivery.deliver_and_send, name=events.DELIVER_TASK)
    jobs.register_periodic(app, delivery.deliver_and_send, name=DUE_TASK, schedule=jobs.crontab())
    jobs.register_periodic(
        app, delivery.daily_digest, name=DAILY_TASK, schedule=jobs.crontab(hour="6", minute="0")
    )
    jobs.register_periodic(
        app,
        delivery.weekly_digest,
        name=WEEKLY_TASK,
        schedule=jobs.crontab(day_of_week="1", hour="6", minute="5"),
    )
