"""How a message leaves: SMTP (STARTTLS or TLS), or a file in a folder.

``CAPDB_MAIL_URL`` names the way:

- ``smtp://[user:password@]host[:587]``: STARTTLS, required: a server that does not offer
  it is refused rather than written to in clear;
- ``smtps://[user:password@]host[:465]``: TLS from the first byte;
- ``smtp+insecure://host[:25]``: no encryption, for a relay on the same machine (and the
  tests' listener);
- ``file:///folder`` or nothing: each message is written to the folder as a ``.eml``
  file (by default the instance folder's ``mail/``), which is what ``make run`` does.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from capdb.config import Config

TIMEOUT_SECONDS = 30
DEFAULT_PORTS = {"smtp": 587, "smtps": 465, "smtp+insecure": 25}
MAIL_FOLDER = "mail"
# Failures of the connection rather than of one message.
UNREACHABLE = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    smtplib.SMTPConnectError,
    smtplib.SMTPServerDisconnected,
    ssl.SSLError,
)


class DeliveryError(Exception):
    """The message could not be handed over; the message says why, without its content.

    ``unreachable`` when the server could not be spoken to at all (rather than refusing
    this one message): the other messages would fare no better now.
    """

    def __init__(self, reason: str, *, unreachable: bool = False) -> None:
        super().__init__(reason)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Transport:
    scheme: str
    host: str = ""
    port: int = 0
    username: str = ""
    password: str = ""
    folder: Path | None = None

    def deliver(self, message: EmailMessage) -> None:
        """Hand the message over, or raise :class:`DeliveryError`."""
        try:
            if self.folder is not None:
                self._write(message)
            else:
                self._send(message)
        except DeliveryError:
            raise
        except (OSError, smtplib.SMTPException, ssl.SSLError) as error:
            unreachable = isinstance(error, UNREACHABLE)
            raise DeliveryError(_describe(error), unreachable=unreachable) from error

    def _write(self, message: EmailMessage) -> None:
        assert self.folder is not None  # noqa: S101 (only called with a folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = str(message["Message-ID"]).strip("<>").replace("/", "_").replace("@", "_at_")
        part = self.folder / f".{name}.part"
        part.write_bytes(bytes(message))
        # Written whole, then renamed: a reader never sees half a message, and writing the
        # same message again replaces it instead of adding a copy.
        part.replace(self.folder / f"{name}.eml")

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        server: smtplib.SMTP
        if self.scheme == "smtps":
            server = smtplib.SMTP_SSL(
                self.host, self.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            server = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_SECONDS)
        with server:
            server.ehlo()
            if self.scheme == "smtp":
                if not server.has_extn("starttls"):
                    raise DeliveryError("the mail server does not offer STARTTLS", unreachable=True)
                server.starttls(context=context)
                server.ehlo()
            if self.username:
                server.login(self.username, self.password)
            server.send_message(message)


def _describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        reply = error.smtp_error
        text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
        return f"{error.smtp_code} {text}"[:300]
    return f"{type(error).__name__}: {error}"[:300]


def transport_for(config: Config) -> Transport:
    """The transport that ``CAPDB_MAIL_URL`` (and its user and password settings) name."""
    if not config.mail_url:
        return Transport("file", folder=config.instance_path / MAIL_FOLDER)
    parts = urlsplit(config.mail_url)
    if parts.scheme == "file":
        return Transport("file", folder=Path(unquote(parts.path)))
    return Transport(
        parts.scheme,
        host=parts.hostname or "localhost",
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        username=unquote(parts.username or "") or config.mail_username,
        password=unquote(parts.password or "") or config.mail_password,
    )
