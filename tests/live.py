"""Live servers for the tests that need real concurrency: a committed database, the
application served over HTTP (in a thread, or as processes of its own), and a small
HTTP client that keeps cookies like a browser.

The rest of the suite runs each test inside a rolled-back transaction, which one
connection serves; concurrent writers and several processes need a database whose
commits are real, so these tests each get a fresh one (``make_database_url``).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alembic import command
from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from auth.models import User
from capdb import db as capdb_db
from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.config import ROOT, Config
from capdb.reference import Mission, load_reference
from tests.factories import TEST_TOTP_SECRET, test_password_hash

STARTUP_SECONDS = 60


def migrated_app(config: Config) -> Flask:
    """The application on a new committed database, migrated and holding the reference data."""
    app = create_app(config)
    with app.app_context():
        command.upgrade(alembic_config(), "head")
    with app.extensions["capdb.db"].sessionmaker.begin() as db:
        load_reference(db)
    return app


@contextmanager
def writing_session(app: Flask) -> Iterator[Session]:
    """A session whose transactions take SQLite's write lock when they begin, as a request
    that writes does, so that a test writing beside a worker process queues for the lock
    instead of failing with "database is locked" (see :func:`capdb.db.sqlite_begin`)."""
    with capdb_db.writes(), app.extensions["capdb.db"].sessionmaker() as session:
        yield session


def add_user(db: Session, email: str, role: str, missions: tuple[str, ...] = ()) -> User:
    """A user with the tests' password and TOTP secret (see tests/factories.py)."""
    user = User(
        email=email,
        password_hash=test_password_hash(),
        role=role,
        totp_secret=TEST_TOTP_SECRET,
        active=True,
        missions=[db.get_one(Mission, code) for code in missions],
    )
    db.add(user)
    db.flush()
    return user


@contextmanager
def served_in_a_thread(app: Flask) -> Iterator[str]:
    """The application behind a threaded werkzeug server on a free port; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def app_processes(*servers: tuple[dict[str, str], Path]) -> Iterator[list[str]]:
    """``flask --app wsgi run`` as processes of their own, each with its CAPDB_ settings
    and log file, started together; their base URLs.

    Nothing of the test runner's environment that configures capdb or Flask leaks in.
    """
    with ExitStack() as stack:
        started = [stack.enter_context(_process(settings, log)) for settings, log in servers]
        for process, base, log in started:
            wait_until_serving(process, base, log)
        yield [base for _, base, _ in started]


@contextmanager
def _process(
    settings: dict[str, str], log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAPDB_", "FLASK_"))}
    env.update(settings)
    arguments = ["--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"]
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", *arguments],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process, f"http://127.0.0.1:{port}", log
        finally:
            process.terminate()
            process.wait(timeout=15)


def wait_until_serving(process: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start:\n{log.read_text()}")
        try:
            if call("GET", base + "/auth/login").status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer in {STARTUP_SECONDS} s:\n{log.read_text()}")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
) -> Answer:
    """One HTTP request on a new connection; redirects are answers like any other."""
    parts = urlsplit(url)
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Answer(
            status=response.status,
            headers={name.lower(): value for name, value in response.getheaders()},
            body=response.read(),
            cookies=response.msg.get_all("Set-Cookie") or [],
        )
    finally:
        connection.close()


class Browser:
    """Cookies for 127.0.0.1, whichever port: like a browser, it sends the same session
    cookie to every server of the host."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, form: dict[str, str] | None = None) -> Answer:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        answer = call(method, url, body=body, headers=headers)
        for line in answer.cookies:
            for name, morsel in SimpleCookie(line).items():
                if morsel.value and not morsel["expires"].startswith("Thu, 01 Jan 1970"):
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return answer

    def get(self, url: str) -> Answer:
        return self.request("GET", url)

    def post_form(self, url: str, form: dict[str, str], page: str | None = None) -> Answer:
        """Post the form with the CSRF token of the page (the form's own URL by default)."""
        token = csrf_token(self.get(page or url).text)
        return self.request("POST", url, {**form, "csrf_token": token})


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)
