"""Two application processes sharing one database and one Redis behave as one.

Each process is ``flask --app wsgi run`` on a port of its own, with an instance folder of
its own: nothing is shared but the database and Redis, as between hosts. Sessions, login
throttles and the API's rate limits live in Redis (the database keeps the history of
sessions). The last test shows what Redis is for: without it, each process counts its own
API budget.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
import redis
from flask import Flask

from auth import credentials, sessions, tokens
from auth.sessions import token_hash
from incidents.api import limits
from tests.conftest import REDIS, config_for
from tests.factories import TEST_PASSWORD, TEST_TOTP_SECRET
from tests.live import Answer, Browser, add_user, app_processes, call, migrated_app

REDIS_URL = f"{REDIS}/11"  # a database of its own, emptied of capdb's keys
API_BUDGET = 4
SECRET_KEY = "shared-state-secret-key-" + "x" * 32
LOCKED = "Too many failed attempts"
# Runs going on at once share Redis: each has accounts of its own.
RUN = secrets.token_hex(4)
FOCAL, TARGET = f"focal-{RUN}@capdb.test", f"target-{RUN}@capdb.test"


@dataclass
class Servers:
    one: str
    two: str
    token: str


@dataclass
class Setting:
    database_url: str
    root: Path
    token: str
    control_token: str  # for the processes without Redis

    def of_process(self, name: str, *, with_redis: bool) -> dict[str, str]:
        settings = {
            "CAPDB_ENV": "test",
            "CAPDB_DATABASE_URL": self.database_url,
            "CAPDB_SECRET_KEY": SECRET_KEY,
            "CAPDB_INSTANCE_PATH": str(self.root / name),
            "CAPDB_API_RATE_LIMIT": f"{API_BUDGET}/hour",  # no window ends during the test
        }
        if with_redis:
            settings["CAPDB_REDIS_URL"] = REDIS_URL
        return settings


def clean(store: redis.Redis, *values: str) -> None:
    """Remove the counters of these tokens, and no one else's (xdist workers share Redis)."""
    for value in values:
        for key in store.scan_iter(f"*{limits.KEY_PREFIX}/*{token_hash(value)}*"):
            store.delete(key)


@pytest.fixture(scope="module")
def setting(
    make_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setting]:
    """A committed database with the users of these tests, and Redis emptied of counters."""
    root = tmp_path_factory.mktemp("shared")
    app = migrated_app(config_for(make_database_url("shared"), root / "setup"))
    with app.extensions["capdb.db"].sessionmaker.begin() as db:
        add_user(db, FOCAL, "analyst")
        add_user(db, TARGET, "analyst")
        client = add_user(db, "client@capdb.test", "analyst")
        token, control_token = tokens.create(db, client)[1], tokens.create(db, client)[1]
    database_url = app.extensions["capdb.config"].database_url
    app.extensions["capdb.db"].engine.dispose()
    store = redis.Redis.from_url(REDIS_URL)
    yield Setting(database_url, root, token, control_token)
    clean(store, token, control_token)
    store.delete(credentials.REDIS_LOCK + credentials._throttle_key(TARGET))
    store.close()


@pytest.fixture(scope="module")
def servers(setting: Setting) -> Iterator[Servers]:
    root = setting.root
    with app_processes(
        (setting.of_process("one", with_redis=True), root / "one.log"),
        (setting.of_process("two", with_redis=True), root / "two.log"),
    ) as (one, two):
        yield Servers(one, two, setting.token)


def password_step(browser: Browser, base: str, email: str, password: str) -> Answer:
    form = {"email": email, "password": password, "next": ""}
    return browser.post_form(f"{base}/auth/login", form)


def passed(answer: Answer) -> bool:
    """Whether the password step passed, on to the code step."""
    return answer.status == 302 and answer.headers["location"].endswith("/auth/mfa")


def sign_in(browser: Browser, base: str, email: str, password: str = TEST_PASSWORD) -> Answer:
    """The password step, then (when it passed) the code step, on one server."""
    answer = password_step(browser, base, email, password)
    if not passed(answer):
        return answer
    return browser.post_form(f"{base}/auth/mfa", {"code": pyotp.TOTP(TEST_TOTP_SECRET).now()})


def signed_in(browser: Browser, base: str) -> bool:
    answer = browser.get(f"{base}/incidents/")
    assert answer.status in {200, 302}
    return answer.status == 200


def test_a_session_started_on_one_works_on_the_other_and_logout_ends_it_on_both(
    servers: Servers,
) -> None:
    browser, store = Browser(), redis.Redis.from_url(REDIS_URL)
    assert not signed_in(browser, servers.two)
    assert sign_in(browser, servers.one, FOCAL).status == 302
    entry = session_entry(browser)
    assert store.exists(entry)
    assert signed_in(browser, servers.two)
    assert signed_in(browser, servers.one)
    kept = dict(browser.cookies)  # what a stolen or stale cookie would carry
    logout = browser.post_form(f"{servers.one}/auth/logout", {}, page=f"{servers.one}/incidents/")
    assert logout.status == 302
    replayed = Browser()
    replayed.cookies = kept
    assert not signed_in(replayed, servers.two)  # ended on the server, not just forgotten
    assert not signed_in(replayed, servers.one)
    assert not store.exists(entry)


def session_entry(browser: Browser) -> str:
    """The Redis key of the browser's session, from the token in its (signed) cookie."""
    reader = Flask("reader")
    reader.secret_key = SECRET_KEY
    serializer = reader.session_interface.get_signing_serializer(reader)  # type: ignore[attr-defined]
    token = serializer.loads(browser.cookies["session"])[sessions.SESSION_KEY]
    return sessions.REDIS_SESSION + sessions.token_hash(token)


def test_failed_logins_counted_on_both_lock_the_account_on_both(servers: Servers) -> None:
    browser, email = Browser(), TARGET
    for attempt in range(9):  # one short of the lockout, spread over both processes
        base = servers.one if attempt % 2 else servers.two
        answer = password_step(browser, base, email, "wrong password")
        assert answer.status == 200
        assert LOCKED not in answer.text
    # Nine is not ten: the right password still passes (a finished login would clear
    # the count, so the code step is not taken).
    assert passed(password_step(Browser(), servers.two, email, TEST_PASSWORD))
    tenth = password_step(browser, servers.one, email, "wrong password")
    assert tenth.status == 200
    assert LOCKED not in tenth.text  # refused as wrong; the name is locked from now on
    refused = password_step(Browser(), servers.two, email, TEST_PASSWORD)
    assert not passed(refused)
    assert LOCKED in refused.text  # locked by the count of both processes
    store = redis.Redis.from_url(REDIS_URL)
    assert store.exists(credentials.REDIS_LOCK + credentials._throttle_key(email))


def ask_api(base: str, token: str) -> int:
    return call(
        "GET", f"{base}/api/v1/vocabularies", headers={"Authorization": f"Bearer {token}"}
    ).status


def test_the_api_budget_counted_on_one_holds_on_the_other(servers: Servers) -> None:
    bases = [servers.one, servers.two]
    statuses = [ask_api(bases[n % 2], servers.token) for n in range(API_BUDGET)]
    assert statuses == [200] * API_BUDGET
    assert ask_api(servers.one, servers.token) == 429
    assert ask_api(servers.two, servers.token) == 429


def test_without_redis_each_process_counts_its_own_budget(setting: Setting) -> None:
    """Why several processes need CAPDB_REDIS_URL: each memory grants the whole budget,
    where with Redis the same requests meet 429 (the test above)."""
    root = setting.root
    with app_processes(
        (setting.of_process("three", with_redis=False), root / "three.log"),
        (setting.of_process("four", with_redis=False), root / "four.log"),
    ) as bases:
        statuses = [ask_api(bases[n % 2], setting.control_token) for n in range(2 * API_BUDGET)]
    assert statuses == [200] * (2 * API_BUDGET)  # twice the budget, none refused
