"""Forwarding headers are believed from the named proxies only (CAPDB_TRUSTED_PROXIES)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from capdb.app import create_app
from capdb.config import Config, ConfigError
from capdb.proxies import TrustedProxies, client_address, parse_proxies
from tests.conftest import config_for
from tests.factories import UserFactory
from tests.test_login import sign_in

PROXY = "10.0.0.5"
CLIENT = "203.0.113.7"
OUTSIDER = "192.0.2.10"


@pytest.fixture
def proxied_app(connection: sa.Connection, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The application behind one trusted proxy, allowing two anonymous API calls a minute."""
    config = config_for(database_url, tmp_path).replace(
        trusted_proxies=f"{PROXY}, 10.1.0.0/16", api_anonymous_rate_limit="2/minute"
    )
    app = create_app(config)
    app.extensions["capdb.db"].sessionmaker.configure(
        bind=connection, join_transaction_mode="create_savepoint"
    )
    yield app
    app.extensions["capdb.db"].engine.dispose()


def client_from(app: Flask, peer: str, forwarded_for: str | None = None) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = peer
    if forwarded_for is not None:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client


def anonymous_api_answers(app: Flask, peer: str, forwarded: list[str]) -> list[int]:
    return [
        client_from(app, peer, address).get("/api/v1/incidents").status_code
        for address in forwarded
    ]


def test_a_forged_address_from_an_untrusted_peer_is_ignored_by_the_rate_limit(
    proxied_app: Flask,
) -> None:
    # Each request claims another address; all are counted against the peer.
    answers = anonymous_api_answers(proxied_app, OUTSIDER, ["1.1.1.1", "2.2.2.2", "3.3.3.3"])
    assert answers == [401, 401, 429]


def test_the_rate_limit_counts_each_client_behind_the_proxy(proxied_app: Flask) -> None:
    answers = anonymous_api_answers(proxied_app, PROXY, ["1.1.1.1", "2.2.2.2", "3.3.3.3"])
    assert answers == [401, 401, 401]
    assert anonymous_api_answers(proxied_app, PROXY, ["1.1.1.1", "1.1.1.1"]) == [401, 429]


def login_address(app: Flask, db: Session, user: User, peer: str, forwarded: str) -> str | None:
    response = sign_in(client_from(app, peer, forwarded), user.email)
    assert response.status_code == 302
    return db.scalar(
        sa.select(AuditEvent.remote_addr)
        .where(AuditEvent.user_id == user.id, AuditEvent.action == "login")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )


def test_the_audit_trail_records_the_client_behind_the_proxy(
    proxied_app: Flask, db: Session, make_user: UserFactory
) -> None:
    # The client's own claim, left of what the proxy appended, is not believed either.
    behind_proxy = login_address(proxied_app, db, make_user("analyst"), PROXY, f"6.6.6.6, {CLIENT}")
    assert behind_proxy == CLIENT
    # Each login uses its own user: a TOTP code is accepted once.
    direct = login_address(proxied_app, db, make_user("analyst"), OUTSIDER, CLIENT)
    assert direct == OUTSIDER


def test_no_proxy_is_trusted_by_default(app: Flask, db: Session, make_user: UserFactory) -> None:
    assert login_address(app, db, make_user("analyst"), "127.0.0.1", CLIENT) == "127.0.0.1"


def run(environ: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def inner(env: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(env)
        return []

    TrustedProxies(inner, parse_proxies(f"{PROXY},10.1.0.0/16"))(environ, lambda *a: None)  # type: ignore[arg-type]
    return seen


def test_the_scheme_is_believed_from_a_trusted_proxy_only() -> None:
    trusted = run(
        {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_PROTO": "https", "wsgi.url_scheme": "http"}
    )
    assert trusted["wsgi.url_scheme"] == "https"
    forged = run(
        {"REMOTE_ADDR": OUTSIDER, "HTTP_X_FORWARDED_PROTO": "https", "wsgi.url_scheme": "http"}
    )
    assert forged["wsgi.url_scheme"] == "http"


def test_a_garbage_forwarded_address_keeps_the_peer() -> None:
    seen = run(
        {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "<script>", "wsgi.url_scheme": "http"}
    )
    assert seen["REMOTE_ADDR"] == PROXY


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        (PROXY, CLIENT, CLIENT),
        (PROXY, "", PROXY),
        (PROXY, f"{CLIENT}, 10.1.2.3", CLIENT),  # two proxies of ours in a row
        (PROXY, f"9.9.9.9, {CLIENT}, 10.1.2.3", CLIENT),
        (OUTSIDER, CLIENT, OUTSIDER),
        ("10.2.0.1", CLIENT, "10.2.0.1"),
    ],
)
def test_the_client_is_the_first_untrusted_hop_from_the_right(
    peer: str, forwarded: str, client: str
) -> None:
    assert client_address(peer, forwarded, parse_proxies(f"{PROXY},10.1.0.0/16")) == client


@pytest.mark.parametrize("setting", ["proxy.example.org", "10.0.0.1/8", "10.0.0.300"])
def test_trusted_proxies_must_be_addresses(setting: str) -> None:
    with pytest.raises(ConfigError, match="CAPDB_TRUSTED_PROXIES"):
        Config.from_env({"CAPDB_TRUSTED_PROXIES": setting})
