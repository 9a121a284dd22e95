"""Styles and scripts are named by their content and kept for good by browsers; pages with
case data are never stored."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.factories import LoginAs

FOR_GOOD = "public, max-age=31536000, immutable"


def asset_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/(?:static|vendor)/[^"]+)"', page)


def test_every_asset_of_the_pages_is_named_by_its_content_and_kept_for_good(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    urls: set[str] = set()
    for path in ("/", "/incidents/", "/incidents/new", "/maps/", "/trends/", "/help/"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.headers["Cache-Control"] == "no-store", path
        urls |= set(asset_urls(page.text))
    assert any("/static/css/capdb.css" in url for url in urls)
    assert any("/vendor/leaflet/leaflet.js" in url for url in urls)
    for url in sorted(urls):
        assert re.search(r"[?&]v=[0-9a-f]{12}(&|$)", url.replace("&amp;", "&")), url
        with client.get(url.replace("&amp;", "&")) as asset:
            assert asset.status_code == 200, url
            assert asset.headers["Cache-Control"] == FOR_GOOD, url


def test_an_asset_asked_without_its_digest_is_revalidated(client: FlaskClient) -> None:
    with client.get("/static/css/capdb.css") as plain:
        assert plain.headers["Cache-Control"] == "no-cache"
    with client.get("/static/css/capdb.css?v=000000000000") as stale:
        assert stale.headers["Cache-Control"] == "no-cache"
    with client.get("/vendor/leaflet/leaflet.js") as vendored:
        assert "immutable" not in vendored.headers["Cache-Control"]
