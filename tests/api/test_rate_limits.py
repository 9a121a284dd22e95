"""Requests to the API without a valid token are limited per client address, in the same
store as the per-token limit: each worker's memory, or the Redis they share."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth import tokens
from auth.sessions import token_hash
from capdb.app import create_app
from capdb.config import Config, ConfigError
from incidents.api import limits
from tests.api.conftest import API
from tests.conftest import config_for
from tests.factories import UserFactory

ADDRESS = "192.0.2.10"
OTHER_ADDRESS = "198.51.100.7"
DEFAULT = 100  # the default of CAPDB_API_ANONYMOUS_RATE_LIMIT, per minute
REDIS = "redis://127.0.0.1:6379"
# Redis databases of their own, one per test, emptied of capdb's counters afterwards.
REDIS_DB_ANONYMOUS = 13
REDIS_DB_PER_TOKEN = 14

# Ways of asking without a valid token: none, forged ones (each different, so that a
# fresh token gives no fresh budget), another scheme.
ANONYMOUS_HEADERS: list[Callable[[int], dict[str, str]]] = [
    lambda _: {},
    lambda n: {"Authorization": f"Bearer {tokens.PREFIX}forged{n}"},
    lambda n: {"Authorization": f"Bearer guess-{n}"},
    lambda _: {"Authorization": "Basic dXNlcjpwYXNz"},
]


def ask(client: FlaskClient, n: int, address: str = ADDRESS, path: str = "/incidents") -> int:
    headers = ANONYMOUS_HEADERS[n % len(ANONYMOUS_HEADERS)](n)
    response = client.get(API + path, headers=headers, environ_base={"REMOTE_ADDR": address})
    return response.status_code


def with_token(client: FlaskClient, value: str, address: str = ADDRESS) -> TestResponse:
    return client.get(
        API + "/vocabularies",
        headers={"Authorization": f"Bearer {value}"},
        environ_base={"REMOTE_ADDR": address},
    )


def assert_json_429(response: TestResponse) -> None:
    assert response.status_code == 429
    assert response.json is not None
    assert response.json["error"]
    assert "Retry-After" in response.headers


def test_two_hundred_anonymous_requests_meet_429(client: FlaskClient) -> None:
    statuses = [ask(client, n) for n in range(200)]
    assert statuses == [401] * DEFAULT + [429] * (200 - DEFAULT)
    limited = client.get(API + "/cases", environ_base={"REMOTE_ADDR": ADDRESS})
    assert_json_429(limited)
    assert ask(client, 0, address=OTHER_ADDRESS) == 401  # another address has its own budget


@pytest.mark.parametrize("app_config", [{"api_rate_limit": "3/minute"}], indirect=True)
def test_signed_in_clients_are_counted_per_token_not_per_address(
    client: FlaskClient, db: Session, make_user: UserFactory
) -> None:
    first, second = (
        tokens.create(db, make_user("analyst"))[1],
        tokens.create(db, make_user("analyst"))[1],
    )
    for n in range(DEFAULT):
        assert ask(client, n) == 401
    assert ask(client, DEFAULT) == 429
    for _ in range(3):
        assert with_token(client, first).status_code == 200  # the address is spent: no matter
    assert_json_429(with_token(client, first))
    assert with_token(client, second).status_code == 200  # another token, the same address


def test_signed_in_requests_do_not_spend_the_anonymous_budget(
    client: FlaskClient, db: Session, make_user: UserFactory
) -> None:
    value = tokens.create(db, make_user("analyst"))[1]
    for _ in range(5):
        assert with_token(client, value).status_code == 200
    statuses = [ask(client, n) for n in range(DEFAULT + 1)]
    assert statuses == [401] * DEFAULT + [429]


def test_pages_sign_in_and_assets_are_not_limited(client: FlaskClient) -> None:
    for n in range(DEFAULT + 1):
        ask(client, n)
    assert ask(client, 0) == 429
    on_address = {"REMOTE_ADDR": ADDRESS}
    assert client.get("/auth/login", environ_base=on_address).status_code == 200
    assert client.get("/incidents/", environ_base=on_address).status_code == 302  # to sign in
    with client.get("/vendor/leaflet/leaflet.css", environ_base=on_address) as asset:
        assert asset.status_code == 200
    with client.get("/static/css/capdb.css", environ_base=on_address) as asset:
        assert asset.status_code == 200


def test_the_budget_is_a_setting(tmp_path: Path, database_url: str) -> None:
    base = config_for(database_url, tmp_path)
    assert base.api_anonymous_rate_limit == "100/minute"
    environ = {"CAPDB_API_ANONYMOUS_RATE_LIMIT": "5/minute"}
    assert Config.from_env(environ).api_anonymous_rate_limit == "5/minute"
    for wrong in ("", "lots", "-1/minute", "100/fortnight"):
        with pytest.raises(ConfigError, match="CAPDB_API_ANONYMOUS_RATE_LIMIT"):
            Config.from_env({"CAPDB_API_ANONYMOUS_RATE_LIMIT": wrong})


def test_the_per_token_budget_is_a_setting(tmp_path: Path, database_url: str) -> None:
    assert config_for(database_url, tmp_path).api_rate_limit == "300/minute"
    assert Config.from_env({"CAPDB_API_RATE_LIMIT": "5/minute"}).api_rate_limit == "5/minute"
    for wrong in ("", "lots", "-1/minute", "100/fortnight"):
        with pytest.raises(ConfigError, match="CAPDB_API_RATE_LIMIT"):
            Config.from_env({"CAPDB_API_RATE_LIMIT": wrong})


def test_a_configured_per_token_budget_is_the_one_applied(
    connection: sa.Connection,
    database_url: str,
    tmp_path: Path,
    db: Session,
    make_user: UserFactory,
) -> None:
    value = tokens.create(db, make_user("analyst"))[1]
    db.flush()
    config = config_for(database_url, tmp_path).replace(api_rate_limit="2/minute")
    with app_on(connection, config) as app:
        client = app.test_client()
        assert [with_token(client, value).status_code for _ in range(3)] == [200, 200, 429]


def test_a_configured_budget_is_the_one_applied(
    connection: sa.Connection, database_url: str, tmp_path: Path
) -> None:
    config = config_for(database_url, tmp_path).replace(api_anonymous_rate_limit="5/minute")
    with app_on(connection, config) as app:
        client = app.test_client()
        assert [ask(client, n) for n in range(7)] == [401] * 5 + [429] * 2


class app_on:  # noqa: N801 (used as a context manager, like open)
    """An application on the test's connection, as the ``app`` fixture makes one."""

    def __init__(self, connection: sa.Connection, config: Config) -> None:
        self.app = create_app(config)
        self.app.extensions["capdb.db"].sessionmaker.configure(
            bind=connection, join_transaction_mode="create_savepoint"
        )

    def __enter__(self) -> Flask:
        return self.app

    def __exit__(self, *_: object) -> None:
        self.app.extensions["capdb.db"].engine.dispose()


def redis_counters(number: int) -> Iterator[redis.Redis]:
    store = redis.Redis.from_url(f"{REDIS}/{number}")
    pattern = f"*{limits.KEY_PREFIX}/*"

    def clean() -> None:
        for key in store.scan_iter(pattern):
            store.delete(key)

    clean()
    try:
        yield store
    finally:
        clean()
        store.close()


@pytest.fixture
def anonymous_store() -> Iterator[redis.Redis]:
    yield from redis_counters(REDIS_DB_ANONYMOUS)


@pytest.fixture
def per_token_store() -> Iterator[redis.Redis]:
    yield from redis_counters(REDIS_DB_PER_TOKEN)


def test_in_redis_the_budget_is_shared_by_all_workers(
    connection: sa.Connection, database_url: str, tmp_path: Path, anonymous_store: redis.Redis
) -> None:
    config = config_for(database_url, tmp_path).replace(redis_url=f"{REDIS}/{REDIS_DB_ANONYMOUS}")
    with app_on(connection, config) as one, app_on(connection, config) as two:
        workers = [one.test_client(), two.test_client()]
        statuses = [ask(workers[n % 2], n) for n in range(200)]
        assert statuses == [401] * DEFAULT + [429] * (200 - DEFAULT)
        assert_json_429(workers[0].get(API + "/incidents", environ_base={"REMOTE_ADDR": ADDRESS}))
        assert ask(workers[1], 0, address=OTHER_ADDRESS) == 401
        assert client_of_pages_is_free(workers[1])
    keys = [key.decode() for key in anonymous_store.scan_iter(f"*{limits.KEY_PREFIX}/*")]
    assert any(f"address:{ADDRESS}" in key and limits.ANONYMOUS_SCOPE in key for key in keys)
    assert not any("token:" in key for key in keys)  # forged tokens get no budget of their own


def client_of_pages_is_free(client: FlaskClient) -> bool:
    response = client.get("/auth/login", environ_base={"REMOTE_ADDR": ADDRESS})
    return response.status_code == 200


def test_in_redis_signed_in_clients_are_counted_per_token(
    connection: sa.Connection,
    database_url: str,
    tmp_path: Path,
    per_token_store: redis.Redis,
    db: Session,
    make_user: UserFactory,
) -> None:
    config = config_for(database_url, tmp_path).replace(
        redis_url=f"{REDIS}/{REDIS_DB_PER_TOKEN}", api_rate_limit="3/minute"
    )
    first, second = (
        tokens.create(db, make_user("analyst"))[1],
        tokens.create(db, make_user("analyst"))[1],
    )
    db.flush()
    with app_on(connection, config) as one, app_on(connection, config) as two:
        workers = [one.test_client(), two.test_client()]
        assert [with_token(workers[n % 2], first).status_code for n in range(4)] == [200] * 3 + [
            429
        ]
        assert with_token(workers[1], second).status_code == 200
        assert ask(workers[0], 0) == 401  # the address's anonymous budget is untouched
    keys = [key.decode() for key in per_token_store.scan_iter(f"*{limits.KEY_PREFIX}/*")]
    assert sum(f"token:{token_hash(first)}" in key for key in keys) == 1
    assert not any(first in key for key in keys)  # the token itself is never a key
