"""A real SMTP server for the tests: aiosmtpd on a free local port, keeping what it receives.

The ``mailbox`` fixture starts it; a test can stop and start it again (a mail server that
goes away) and read every message it accepted, parsed.
"""

from __future__ import annotations

import email
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.live import free_port


@dataclass
class Received:
    envelope_to: list[str]
    message: EmailMessage

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        content: str = body.get_content()
        return content

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.received.append(Received(list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


class Mailbox:
    """An SMTP listener on 127.0.0.1 and what it received."""

    def __init__(self, **smtp_options: Any) -> None:
        self.port = free_port()
        self.handler = _Handler()
        self.controller: Controller | None = None
        self.smtp_options = smtp_options  # e.g. tls_context and require_starttls

    @property
    def url(self) -> str:
        return f"smtp+insecure://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(
                self.handler, hostname="127.0.0.1", port=self.port, **self.smtp_options
            )
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[Received]:
        return [mail for mail in self.received if address in mail.envelope_to]

    def wait_for_mail_to(self, address: str, seconds: float = 60) -> list[Received]:
        """The messages to the address, waiting for a worker to send the first."""
        deadline = time.monotonic() + seconds
        while not self.to(address) and time.monotonic() < deadline:
            time.sleep(0.1)
        found = self.to(address)
        assert found, f"no message to {address} came in {seconds} s"
        return found

    def wait_for(self, count: int, seconds: float = 60) -> list[Received]:
        """At least ``count`` messages, waiting for a worker to send them."""
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.received) >= count, f"{len(self.received)} of {count} messages came"
        return self.received


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()
