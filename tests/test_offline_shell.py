"""The offline app shell on capdb's side: the service worker's script and what it keeps,
the manifest, the outbox's pages and data, and who gets them."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from incidents.offline import shell
from tests.factories import LoginAs
from tests.test_i18n import csrf_token

PRECACHE = {"X-Capdb-Precache": "1"}


def worker_config(client: FlaskClient) -> dict[str, Any]:
    return config_of(client.get("/service-worker.js").text)


def config_of(script: str) -> dict[str, Any]:
    match = re.match(r"self\.CAPDB_OFFLINE = (\{.*\});\n", script)
    assert match, script[:200]
    config: dict[str, Any] = json.loads(match.group(1))
    return config


def assets_of(page: str) -> set[str]:
    """The scripts, styles and icons a page asks for from capdb."""
    found = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/(?:static|vendor)/[^"]+)"', page)
    return set(found)


def test_the_worker_and_the_manifest_are_public(client: FlaskClient) -> None:
    worker = client.get("/service-worker.js")
    assert worker.status_code == 200
    assert worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    assert 'addEventListener("fetch"' in worker.text
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.mimetype == "application/manifest+json"
    assert manifest.json is not None
    assert manifest.json["start_url"] == "/incidents/new"
    assert manifest.json["scope"] == "/"
    for icon in manifest.json["icons"]:
        with client.get(icon["src"]) as response:
            assert response.status_code == 200, icon


def test_the_worker_keeps_every_asset_of_the_pages_it_keeps(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    config = worker_config(client)
    pages = config["pages"]
    assert isinstance(pages, dict)
    needed: set[str] = set()
    for name in ("form", "outbox", "unavailable"):
        needed |= assets_of(client.get(pages[name]).text)
    assert needed <= set(config["assets"]), needed - set(config["assets"])
    for asset in config["assets"]:
        with client.get(asset) as response:
            assert response.status_code == 200, asset


def test_the_worker_keeps_no_case_data(client: FlaskClient, login_as: LoginAs) -> None:
    """Assets, the recording pages and reference data: no list, record, export or map data."""
    config = worker_config(client)
    kept = [*config["assets"], *config["pages"].values(), *config["data"]]
    allowed = re.compile(
        r"^(/static/|/vendor/|/incidents/new$|/incidents/0/edit$|/offline/(outbox|unavailable|"
        r"reference\.json)$|/api/v1/vocabularies$|/maps/data/boundaries\?level=admin0&zoom=3$)"
    )
    assert [url for url in kept if not allowed.match(url)] == []


def test_a_new_asset_is_a_new_worker(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    before = worker_config(client)
    # As a release adding a file, or changing one (a new digest), would.
    monkeypatch.setattr(shell, "STATIC_ASSETS", (*shell.STATIC_ASSETS, "css/map.css"))
    after = worker_config(client)
    assert after["version"] != before["version"]


@pytest.mark.parametrize(
    "path", ["/offline/outbox", "/offline/reference.json", "/offline/session.json"]
)
def test_the_outbox_needs_a_signed_in_user(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["analyst", "member_state"])
def test_only_who_records_incidents_gets_the_shell(
    client: FlaskClient, login_as: LoginAs, role: str
) -> None:
    login_as(role, state="TCD") if role == "member_state" else login_as(role)
    assert client.get("/offline/outbox").status_code == 403
    assert client.get("/offline/reference.json").status_code == 403
    page = client.get("/incidents/").text
    assert 'rel="manifest"' not in page
    assert 'data-offline-user=""' in page  # its script only makes a worker forget


def test_an_officer_gets_the_shell_and_its_reference_data(
    client: FlaskClient, login_as: LoginAs
) -> None:
    officer = login_as("mission", missions=("MINUSMA",))
    page = client.get("/incidents/").text
    assert 'rel="manifest"' in page
    assert f'data-offline-user="{officer.id}"' in page
    reference = client.get("/offline/reference.json").json
    assert reference is not None
    assert [m["code"] for m in reference["missions"]] == ["MINUSMA"]
    assert {"code": "MLI", "en": "Mali", "fr": "Mali"} in reference["countries"]
    state = client.get("/offline/session.json")
    assert state.headers["Cache-Control"] == "no-store"
    assert state.json is not None
    assert set(state.json) == {"user", "csrf_token"}
    assert state.json["user"] == officer.id
    # The session's token, as the page has it; each is signed with the second it was made
    # in, so only the signed payload (the first part) is the same when a second passed.
    assert state.json["csrf_token"].split(".")[0] == csrf_token(page).split(".")[0]


def test_keeping_a_page_leaves_the_messages_for_the_next(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    with client.session_transaction() as browser:
        browser["_flashes"] = [("info", "Incident MINUSMA-2021-0007 was recorded as a draft.")]
    kept = client.get("/incidents/new", headers=PRECACHE).text
    assert "MINUSMA-2021-0007" not in kept
    assert "MINUSMA-2021-0007" in client.get("/incidents/").text


def test_signing_out_clears_what_the_browser_kept(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("mission", missions=("MINUSMA",))
    token = csrf_token(client.get("/incidents/").text)
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_the_csp_lets_capdb_run_its_worker_and_manifest(client: FlaskClient) -> None:
    policy = client.get("/auth/login").headers["Content-Security-Policy"]
    assert "worker-src 'self'" in policy
    assert "manifest-src 'self'" in policy


def test_the_shell_speaks_french(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("mission", missions=("MINUSMA",))
    french = {"Accept-Language": "fr"}
    page = client.get("/incidents/new", headers=french).text
    assert 'data-lang="fr"' in page
    assert 'data-text-waiting-other="{n} en attente d\'envoi"' in page
    assert 'data-text-attention-other="{n} demandent votre attention"' in page
    assert "Reprendre le brouillon" in page
    outbox = client.get("/offline/outbox", headers=french).text
    assert "Vos brouillons et envois en attente" in outbox
    assert 'data-text-victim="Victime {n}"' in outbox
    assert (
        "Cette page nécessite la liaison" in client.get("/offline/unavailable", headers=french).text
    )
