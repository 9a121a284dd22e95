"""capdb served by gunicorn, with the shipped ``gunicorn.conf.py``, on a seeded scratch
PostgreSQL schema, and the accounts that benchmark clients sign in with.

Shared by ``load.py`` and ``workers.py``. The server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import checkout  # noqa: F401 (first: this checkout's packages)
import pyotp
import redis
import requests
import sqlalchemy as sa
from flask import Flask

from auth import accounts
from auth.models import User
from incidents import policy
from incidents.models import Incident, JudicialCase

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
BENCH_REDIS = "redis://127.0.0.1:6379/14"  # a database of its own, emptied at each start
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Account:
    """A benchmark account: what a client needs to sign in (and, for officers, a token)."""

    email: str
    password: str
    totp: str
    token: str = ""


def create_accounts(
    app: Flask,
    role: str,
    count: int,
    *,
    missions: list[str],
    state: str | None,
    purpose: str = "bench",
) -> list[Account]:
    """``count`` new accounts of one role, each with its own TOTP secret, so that every
    simulated user signs in once with a code no other one has used; ``purpose`` keeps the
    addresses of different sets apart."""
    made = []
    scope = (state or "-".join(missions) or "all").lower()
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker.begin() as db:
        for number in range(count):
            account = Account(
                email=f"{purpose}-{role}-{scope}-{number}@capdb.example",
                password=secrets.token_urlsafe(18),
                totp=pyotp.random_base32(),
            )
            user = accounts.create_user(
                db,
                email=account.email,
                role=role,
                missions=missions,
                state=state,
                password=account.password,
                totp_secret=account.totp,
            )
            if role == "mission":
                account.token = accounts.issue_token(db, user, days=1)[1]
            made.append(account)
    return made


def visible_ids(app: Flask, email: str, model: type[Any], limit: int) -> list[int]:
    """Ids of up to ``limit`` random records of ``model`` (Incident or JudicialCase) that
    the account sees, by the application's own access rule."""
    condition = {Incident: policy.visible_incidents, JudicialCase: policy.visible_cases}[model]
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker() as db:
        user = db.scalars(sa.select(User).where(User.email == email)).one()
        statement = (
            sa.select(model.id).where(condition(user)).order_by(sa.func.random()).limit(limit)
        )
        return list(db.scalars(statement))


def load_average() -> str:
    """The machine's load averages (1, 5, 15 minutes), as ``uptime`` prints them."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


@contextmanager
def gunicorn(
    app: Flask, port: int, workers: int | None = None, *, keep_redis: bool = False
) -> Iterator[str]:
    """gunicorn with the shipped configuration, serving the scratch schema of ``app`` on
    127.0.0.1:``port``, with Redis as production has it (emptied first unless
    ``keep_redis``, as for a server that follows another); yields its base URL.

    ``CAPDB_ENV=development``: the production settings are the same but for the session
    cookie's Secure flag, which would keep a plain-HTTP client from signing in.
    """
    config = app.extensions["capdb.config"]
    environ = {key: value for key, value in os.environ.items() if not key.startswith("CAPDB_")}
    environ |= {
        "CAPDB_ENV": "development",
        "CAPDB_DATABASE_URL": config.database_url,
        "CAPDB_SECRET_KEY": config.resolved_secret_key(),
        "CAPDB_INSTANCE_PATH": tempfile.mkdtemp(prefix="capdb-bench-"),
        "CAPDB_BIND": f"{HOST}:{port}",
        "CAPDB_LOG_LEVEL": "WARNING",
        # Sessions, throttles, rate limits, the queue and the chart cache, as in production;
        # emptied first, so that no chart is drawn before the run.
        "CAPDB_REDIS_URL": BENCH_REDIS,
    }
    if not keep_redis:
        redis.Redis.from_url(BENCH_REDIS).flushdb()
    if workers is not None:
        environ["CAPDB_WEB_WORKERS"] = str(workers)
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    # The application's request log (one JSON line per request) would swamp the output.
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and config)
        command, cwd=ROOT, env=environ, stdout=subprocess.DEVNULL
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_until_ready(base, server)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


def wait_until_ready(base: str, server: subprocess.Popen[bytes], seconds: float = 90) -> None:
    """Wait for ``/readyz`` to answer 200 (every worker imports the application first)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with status {server.returncode}")
        try:
            if requests.get(base + "/readyz", timeout=30).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn not ready after {seconds} s")


def signed_in(base: str, account: Account) -> requests.Session:
    """A client signed in through the pages, as a browser is: password, then TOTP code."""
    client = requests.Session()
    step = client.get(base + "/auth/login", timeout=60)
    answer = client.post(
        base + "/auth/login",
        data={"email": account.email, "password": account.password, "csrf_token": csrf(step.text)},
        timeout=60,
    )
    code = pyotp.TOTP(account.totp).now()
    answer = client.post(
        base + "/auth/mfa", data={"code": code, "csrf_token": csrf(answer.text)}, timeout=60
    )
    if answer.status_code != 200 or "/auth/" in answer.url:
        raise RuntimeError(f"{account.email} could not sign in ({answer.status_code})")
    return client


def same_browser(client: requests.Session) -> requests.Session:
    """Another client with the same session cookie, like another tab of one browser: a TOTP
    code is accepted once, so parallel clients of one account share one sign-in."""
    other = requests.Session()
    other.cookies.update(client.cookies)
    return other


def warm_up(base: str, client: requests.Session, urls: list[str], parallel: int) -> None:
    """Ask each URL ``parallel`` times at once, so that every worker has imported what the
    page needs (WeasyPrint, matplotlib, folium are imported by the first page using them)."""
    clients = [same_browser(client) for _ in range(parallel)]
    with ThreadPoolExecutor(parallel) as pool:
        for url in urls:
            answers = pool.map(lambda c, u=url: c.get(base + u, timeout=300), clients)
            for answer in answers:
                answer.raise_for_status()


def csrf(page: str) -> str:
    found = CSRF.search(page)
    if found is None:
        raise RuntimeError("no CSRF token in the page")
    return found.group(1)


def as_dict(account: Account) -> dict[str, str]:
    return asdict(account)
