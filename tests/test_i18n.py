"""English and French: chosen from the browser, switchable, and complete."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from tests.factories import LoginAs

ROOT = Path(__file__).resolve().parent.parent


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the page has no CSRF token"
    return match.group(1)


def test_language_follows_the_browser(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    page = client.get("/incidents/", headers={"Accept-Language": "fr-CH, en;q=0.5"}).text
    assert '<html lang="fr">' in page
    assert "Tendances" in page
    page = client.get("/incidents/", headers={"Accept-Language": "de, en;q=0.5"}).text
    assert '<html lang="en">' in page
    assert ">Trends<" in page


def test_switch_is_remembered_and_returns_to_the_page(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("analyst")
    page = client.get("/maps/").text
    response = client.post(
        "/language", data={"language": "fr", "next": "/maps/", "csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/maps/"
    assert "Tendances" in client.get("/maps/").text


def test_switch_refuses_foreign_redirects_and_needs_csrf(client: FlaskClient) -> None:
    token = csrf_token(client.get("/auth/login").text)
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.post(
            "/language", data={"language": "fr", "next": target, "csrf_token": token}
        )
        assert response.headers["Location"] == "/"
    assert client.post("/language", data={"language": "fr"}).status_code == 400


def test_every_string_has_a_french_translation() -> None:
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    extracted = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=keywords
        )
    }
    with open(ROOT / "capdb/translations/fr/LC_MESSAGES/messages.po", "rb") as po:
        catalog = read_po(po, locale="fr")
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and m.string and "fuzzy" not in m.flags
    }
    assert extracted
    assert sorted(extracted - translated) == []
