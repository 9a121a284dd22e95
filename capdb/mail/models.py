"""The outbox: every message capdb sends, written in the transaction of what caused it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from capdb.db import Base, utcnow

# pending: waits for its turn (next_attempt_at); sending: a sender has claimed it until
# claimed_until; sent: the server accepted it; failed: every try failed (admins see it).
MAIL_STATUSES = ("pending", "sending", "sent", "failed")


class OutboxMessage(Base):
    """One message to one recipient, sent by the job worker.

    The Message-ID is chosen when the message is queued and never changes, so that a
    message sent again after a crash (between the server's acceptance and the "sent" mark)
    carries the same identity and the receiving side can tell it is the same message.
    Once sent, the bodies are dropped: the outbox is not an archive.
    """

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What the message is about, for the administrators' list ("notification", "digest",
    # "password_reset", "account"): never its content.
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    list_unsubscribe: Mapped[str | None] = mapped_column(String(1000))
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    # Why the last try failed, in the words of the mail server or the network (no content).
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed')", name="known_status"
        ),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_mail_outbox_due", "status", "next_attempt_at"),
    )
