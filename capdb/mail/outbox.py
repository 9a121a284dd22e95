"""Queueing mail in the outbox, and the job that sends it.

:func:`queue_mail` adds a message to the outbox in the caller's transaction: the message
exists if and only if the change that caused it was committed. Once that transaction has
committed, the worker is told to send (:data:`TASK`); should that word be lost (a crash,
an unreachable queue), the sender that runs every minute finds the message anyway.

A message is sent by one sender at a time: it is claimed (a short transaction, committed
before the mail server is contacted), handed over, then marked sent. A sender that dies
after the server accepted a message and before marking it leaves a claim that expires;
the message is then sent again with the same Message-ID, so that the receiving side sees
one message. A message the server refuses is tried again later (1, 2, 4... minutes, at
most six hours apart), and after ``CAPDB_MAIL_MAX_ATTEMPTS`` tries it is marked failed,
for the administrators to see and send again.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from capdb import db as database
from capdb import jobs
from capdb.clock import now
from capdb.config import current_config
from capdb.mail.models import OutboxMessage
from capdb.mail.transport import DeliveryError, transport_for

log = logging.getLogger(__name__)

TASK = "capdb.mail.send"
PERIODIC_TASK = "capdb.mail.send_due"
CLAIM = timedelta(minutes=10)
LONGEST_WAIT = timedelta(hours=6)
BATCH = 200


@dataclass(frozen=True)
class Mail:
    """A message as its author writes it: the outbox adds the envelope."""

    recipient: str
    subject: str
    text: str
    html: str
    kind: str
    unsubscribe_url: str | None = None


def queue_mail(db: Session, mail: Mail) -> OutboxMessage:
    """Add the message to the outbox in the current transaction; sent once it commits."""
    message = OutboxMessage(
        kind=mail.kind,
        recipient=mail.recipient,
        subject=mail.subject[:300],
        body_text=mail.text,
        body_html=mail.html,
        list_unsubscribe=f"<{mail.unsubscribe_url}>" if mail.unsubscribe_url else None,
        message_id=new_message_id(),
        status="pending",
        attempts=0,
        next_attempt_at=now(),
        created_at=now(),
    )
    db.add(message)
    db.flush()
    send_after_commit(db)
    return message


def new_message_id() -> str:
    domain = parseaddr(current_config().mail_from)[1].rpartition("@")[2] or "capdb.localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def send_after_commit(db: Session) -> None:
    """Tell the worker to send once the session's transaction commits (once per session)."""
    if db.info.get("mail_waiting"):
        return
    db.info["mail_waiting"] = True

    def tell_the_worker(session: Session) -> None:
        session.info.pop("mail_waiting", None)
        try:
            jobs.send(TASK)
        except Exception as error:  # the periodic sender finds the message anyway
            log.warning("could not queue the mail job: %s", type(error).__name__)

    sa.event.listen(db, "after_commit", tell_the_worker, once=True)


def compose(message: OutboxMessage) -> EmailMessage:
    """The message as it goes on the wire: plain text and HTML alternatives."""
    config = current_config()
    email = EmailMessage()
    email["From"] = config.mail_from
    email["To"] = Address(addr_spec=message.recipient)
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    email["Message-ID"] = message.message_id
    email["Auto-Submitted"] = "auto-generated"
    if message.list_unsubscribe:
        email["List-Unsubscribe"] = message.list_unsubscribe
    email.set_content(message.body_text)
    email.add_alternative(message.body_html, subtype="html")
    return email


# The sender ---------------------------------------------------------------------------------


def _due() -> sa.ColumnElement[bool]:
    at = now()
    waiting = sa.and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= at)
    abandoned = sa.and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < at)
    return sa.or_(waiting, abandoned)


def _claim(db: Session, message_id: int) -> OutboxMessage | None:
    """Take the message for this sender, unless another took it first."""
    claimed = db.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, _due())
        .values(
            status="sending",
            claimed_until=now() + CLAIM,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.commit()
    if not getattr(claimed, "rowcount", 0):
        return None
    message = db.get_one(OutboxMessage, message_id, populate_existing=True)
    return message


def send_due(limit: int = BATCH) -> int:
    """Send the messages that are due; answers how many the server accepted.

    A server that cannot be reached ends the run: the rest wait for the next one, their
    tries uncounted.
    """
    db = database.session()
    transport = transport_for(current_config())
    candidates = db.scalars(
        sa.select(OutboxMessage.id).where(_due()).order_by(OutboxMessage.id).limit(limit)
    ).all()
    db.commit()
    sent = 0
    for message_id in candidates:
        message = _claim(db, message_id)
        if message is None:
            continue
        try:
            transport.deliver(compose(message))
        except DeliveryError as error:
            _try_later(message, str(error))
            db.commit()
            if error.unreachable:
                break
            continue
        _mark_sent(message)
        db.commit()
        sent += 1
    return sent


def _mark_sent(message: OutboxMessage) -> None:
    message.status, message.sent_at = "sent", now()
    message.claimed_until, message.last_error = None, None
    message.body_text = message.body_html = ""
    log.info("mail %s (%s) sent", message.id, message.kind)


def _try_later(message: OutboxMessage, reason: str) -> None:
    message.claimed_until, message.last_error = None, reason[:300]
    if message.attempts >= current_config().mail_max_attempts:
        message.status = "failed"
        log.warning("mail %s (%s) failed for good: %s", message.id, message.kind, reason)
        return
    wait = min(timedelta(minutes=2 ** (message.attempts - 1)), LONGEST_WAIT)
    message.status, message.next_attempt_at = "pending", now() + wait
    log.warning(
        "mail %s (%s) not sent, try %d: %s", message.id, message.kind, message.attempts, reason
    )


# For the administrators ---------------------------------------------------------------------


def status_counts(db: Session) -> dict[str, int]:
    rows = db.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: int(count) for status, count in rows}


def failed_messages(db: Session, limit: int = 100) -> list[OutboxMessage]:
    return list(
        db.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.status == "failed")
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def send_again(db: Session, message_id: int) -> bool:
    """Put a failed message back in line, its tries counted afresh."""
    message = db.get(OutboxMessage, message_id)
    if message is None or message.status != "failed":
        return False
    message.status, message.attempts, message.next_attempt_at = "pending", 0, now()
    send_after_commit(db)
    return True


def init_app(app: Flask) -> None:
    """The sending task, and the sender that runs every minute for what is due."""
    jobs.register_task(app, send_due, name=TASK)
    jobs.register_periodic(app, send_due, name=PERIODIC_TASK, schedule=jobs.crontab())
