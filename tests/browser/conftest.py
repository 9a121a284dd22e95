"""Browser tests: a live capdb server on its own database, driven by Debian's Chromium.

The server runs in a thread on a random local port, on a fresh database that the test
module fills through the pages themselves; every request the browser makes is recorded so
that a test can prove no page asks another host for anything. Screenshots go to
``artifacts/`` (not committed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from alembic import command
from flask import Flask
from playwright.sync_api import Browser, Page, Request, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from auth.models import User
from auth.passwords import hash_password
from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.reference import Mission, load_reference
from tests.conftest import config_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PASSWORD = "browser journeys passphrase"


@dataclass
class Account:
    email: str
    role: str
    totp_secret: str
    missions: tuple[str, ...] = ()
    state: str | None = None
    last_step: int = -1

    def code(self) -> str:
        """A code the server accepts: a code is accepted once, so each sign-in takes a time
        step after the last one used (the server accepts the next step too), waiting for
        the clock when both are used."""
        totp = pyotp.TOTP(self.totp_secret)
        while True:
            current = totp.timecode(datetime.now(UTC))
            step = max(current, self.last_step + 1)
            if step <= current + 1:
                self.last_step = step
                return totp.generate_otp(step)
            time.sleep(30 - time.time() % 30 + 0.1)


ACCOUNTS = {
    "officer": Account("officer@minusma.test", "mission", pyotp.random_base32(), ("MINUSMA",)),
    "validator": Account("validator@minusma.test", "mission", pyotp.random_base32(), ("MINUSMA",)),
    "focal_point": Account("focal@chad.test", "member_state", pyotp.random_base32(), state="TCD"),
    "mali_focal": Account("focal@mali.test", "member_state", pyotp.random_base32(), state="MLI"),
}


@dataclass
class LiveServer:
    url: str
    app: Flask
    requests: list[str] = field(default_factory=list)

    def foreign_requests(self) -> list[str]:
        """Every URL the browser asked for that this server does not serve."""
        own = urlsplit(self.url).netloc
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in {"data", "blob", "about"} and urlsplit(url).netloc != own
        ]


def _prepare(app: Flask) -> None:
    with app.app_context():
        command.upgrade(alembic_config(), "head")
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        load_reference(session)
    add_accounts(app, ACCOUNTS.values())


def add_accounts(app: Flask, accounts: Iterable[Account]) -> None:
    """Committed users for these accounts, all with the tests' password."""
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        password_hash = hash_password(PASSWORD)
        for account in accounts:
            account.last_step = -1  # a fresh database: no code used yet
            session.add(
                User(
                    email=account.email,
                    role=account.role,
                    password_hash=password_hash,
                    totp_secret=account.totp_secret,
                    state_code=account.state,
                    missions=[session.get_one(Mission, code) for code in account.missions],
                )
            )


@pytest.fixture(scope="module")
def live_server(
    make_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    app = create_app(config_for(make_database_url("browser"), tmp_path_factory.mktemp("live")))
    _prepare(app)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join()
    server.server_close()
    app.extensions["capdb.db"].engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser tab (its own cookies) that records every request it makes."""
    context = browser.new_context(base_url=live_server.url, locale="en-GB")

    def record(request: Request) -> None:
        live_server.requests.append(request.url)

    context.on("request", record)
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
