"""The outbox and its sender, against a real SMTP listener (aiosmtpd)."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from capdb.config import ConfigError
from capdb.mail import outbox
from capdb.mail.models import OutboxMessage
from capdb.mail.transport import transport_for
from tests.factories import MovableClock
from tests.mailbox import Mailbox


def a_mail(recipient: str = "focal@chad.test", **changes: str) -> outbox.Mail:
    values = {
        "recipient": recipient,
        "subject": "MINUSMA-2021-0042 was validated",
        "text": "Incident MINUSMA-2021-0042 was validated.",
        "html": "<p>Incident MINUSMA-2021-0042 was validated.</p>",
        "kind": "notification",
        "unsubscribe_url": "http://127.0.0.1:5000/notifications/unsubscribe/abc",
    } | changes
    return outbox.Mail(**values)


def queued(app: Flask, db: Session, *mails: outbox.Mail) -> list[OutboxMessage]:
    with app.app_context():
        found = [outbox.queue_mail(db, mail) for mail in mails]
    db.commit()
    return found


def send(app: Flask) -> int:
    with app.app_context():
        return outbox.send_due()


@pytest.fixture
def app_with_smtp(app: Flask, mailbox: Mailbox) -> Flask:
    config = app.extensions["capdb.config"]
    app.extensions["capdb.config"] = config.replace(mail_url=mailbox.url, mail_max_attempts=3)
    return app


def test_a_queued_message_is_sent_with_both_parts_and_its_headers(
    app_with_smtp: Flask, db: Session, mailbox: Mailbox
) -> None:
    (message,) = queued(app_with_smtp, db, a_mail())
    assert send(app_with_smtp) == 1
    (received,) = mailbox.received
    assert received.envelope_to == ["focal@chad.test"]
    assert received.subject == "MINUSMA-2021-0042 was validated"
    assert "MINUSMA-2021-0042" in received.text
    assert "<p>" in received.html
    assert received.message["Message-ID"] == message.message_id
    assert received.message["List-Unsubscribe"] == (
        "<http://127.0.0.1:5000/notifications/unsubscribe/abc>"
    )
    assert received.message["Auto-Submitted"] == "auto-generated"
    db.refresh(message)
    assert message.status == "sent"
    assert message.sent_at is not None
    # The outbox is not an archive: what was said is gone once it is sent.
    assert message.body_text == message.body_html == ""
    assert send(app_with_smtp) == 0
    assert len(mailbox.received) == 1


def test_a_message_exists_only_if_its_transaction_commits(app: Flask, db: Session) -> None:
    with app.app_context():
        outbox.queue_mail(db, a_mail())
    db.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_a_stopped_server_delays_mail_and_loses_none(
    app_with_smtp: Flask, db: Session, mailbox: Mailbox, clock: MovableClock
) -> None:
    messages = queued(app_with_smtp, db, a_mail("one@chad.test"), a_mail("two@chad.test"))
    mailbox.stop()
    assert send(app_with_smtp) == 0
    for message in messages:
        db.refresh(message)
    # The first try failed and waits; the second was not even tried: the server is away.
    assert [m.status for m in messages] == ["pending", "pending"]
    assert [m.attempts for m in messages] == [1, 0]
    assert messages[0].last_error
    assert messages[0].next_attempt_at > clock()

    mailbox.start()
    # Not yet due: the first message waits for its time, the second goes.
    assert send(app_with_smtp) == 1
    clock.offset += timedelta(minutes=2)
    assert send(app_with_smtp) == 1
    assert sorted(m.envelope_to[0] for m in mailbox.received) == ["one@chad.test", "two@chad.test"]
    assert send(app_with_smtp) == 0


def test_after_the_last_try_a_message_is_failed_until_sent_again(
    app_with_smtp: Flask, db: Session, mailbox: Mailbox, clock: MovableClock
) -> None:
    (message,) = queued(app_with_smtp, db, a_mail())
    mailbox.stop()
    for _ in range(3):
        send(app_with_smtp)
        clock.offset += timedelta(hours=7)
    db.refresh(message)
    assert (message.status, message.attempts) == ("failed", 3)
    assert send(app_with_smtp) == 0
    with app_with_smtp.app_context():
        assert [m.id for m in outbox.failed_messages(db)] == [message.id]
        assert outbox.status_counts(db) == {"failed": 1}
        assert outbox.send_again(db, message.id)
    db.commit()
    mailbox.start()
    assert send(app_with_smtp) == 1
    assert len(mailbox.received) == 1


def test_a_sender_that_died_after_claiming_is_replaced_with_the_same_message_id(
    app_with_smtp: Flask, db: Session, mailbox: Mailbox, clock: MovableClock
) -> None:
    (message,) = queued(app_with_smtp, db, a_mail())
    # What a sender leaves behind when it dies mid-send: a claim, never marked sent.
    message.status, message.claimed_until = "sending", clock() + outbox.CLAIM
    db.commit()
    assert send(app_with_smtp) == 0  # another sender holds it
    clock.offset += outbox.CLAIM + timedelta(seconds=1)
    assert send(app_with_smtp) == 1
    (received,) = mailbox.received
    assert received.message["Message-ID"] == message.message_id


def test_smtp_without_starttls_is_refused_rather_than_sent_in_clear(
    app: Flask, db: Session, mailbox: Mailbox
) -> None:
    config = app.extensions["capdb.config"]
    plain_url = mailbox.url.replace("smtp+insecure://", "smtp://")
    app.extensions["capdb.config"] = config.replace(mail_url=plain_url)
    (message,) = queued(app, db, a_mail())
    assert send(app) == 0
    db.refresh(message)
    assert message.status == "pending"
    assert "STARTTLS" in (message.last_error or "")
    assert mailbox.received == []


def test_without_a_mail_server_mail_is_written_to_the_instance_folder(
    app: Flask, db: Session
) -> None:
    (message,) = queued(app, db, a_mail())
    assert send(app) == 1
    folder = Path(app.instance_path) / "mail"
    (written,) = folder.glob("*.eml")
    content = written.read_text()
    assert message.message_id in content
    assert "MINUSMA-2021-0042" in content


@pytest.mark.parametrize(
    ("url", "scheme", "port", "user"),
    [
        ("smtp://mailer:s%40cret@mail.example.org", "smtp", 587, "mailer"),
        ("smtps://mail.example.org", "smtps", 465, ""),
        ("smtp+insecure://127.0.0.1:2525", "smtp+insecure", 2525, ""),
    ],
)
def test_the_mail_url_names_the_transport(
    app: Flask, url: str, scheme: str, port: int, user: str
) -> None:
    transport = transport_for(app.extensions["capdb.config"].replace(mail_url=url))
    assert (transport.scheme, transport.port, transport.username) == (scheme, port, user)
    if user:
        assert transport.password == "s@cret"


def test_an_unknown_mail_scheme_is_a_configuration_error(app: Flask) -> None:
    with pytest.raises(ConfigError, match="CAPDB_MAIL_URL"):
        app.extensions["capdb.config"].replace(mail_url="http://mail.example.org")


@pytest.fixture
def tls_mailbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A listener that requires STARTTLS, with a certificate for 127.0.0.1 that the client
    trusts (and nothing else)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(  # noqa: S603 (fixed arguments)
        ["/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    box = Mailbox(tls_context=context, require_starttls=True)
    box.start()
    yield box
    box.stop()


def test_smtp_sends_over_starttls_to_a_server_it_trusts(
    app: Flask, db: Session, tls_mailbox: Mailbox
) -> None:
    config = app.extensions["capdb.config"]
    url = tls_mailbox.url.replace("smtp+insecure://", "smtp://")
    app.extensions["capdb.config"] = config.replace(mail_url=url)
    queued(app, db, a_mail())
    assert send(app) == 1
    (received,) = tls_mailbox.received
    assert received.envelope_to == ["focal@chad.test"]
