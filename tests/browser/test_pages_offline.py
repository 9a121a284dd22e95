"""Pages work with nothing but capdb: no request leaves for another host."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from maps.boundaries import load_file
from tests.browser.conftest import ACCOUNTS, LiveServer, screenshot
from tests.browser.pages import IncidentListPage, LoginPage
from tests.test_boundaries import GAO, feature, polygon, write_geojson

BORDER_COLOUR = "#52606d"  # point-picker.js


def test_sign_in_and_browse_without_any_foreign_request(
    page: Page, live_server: LiveServer
) -> None:
    login = LoginPage(page)
    login.sign_in(ACCOUNTS["focal_point"])
    IncidentListPage(page).open()
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
    page.get_by_role("button", name="Français").click()
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    screenshot(page, "incident-list-fr")
    page.get_by_role("button", name="English").click()
    login.sign_out()
    assert live_server.requests
    assert live_server.foreign_requests() == []


def test_the_map_and_trends_ask_no_other_host(page: Page, live_server: LiveServer) -> None:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    LoginPage(page).sign_in(ACCOUNTS["validator"])
    page.goto("/maps/")
    page.wait_for_load_state("networkidle")
    expect(page.locator(".leaflet-container")).to_be_visible()
    screenshot(page, "map")
    page.goto("/trends/")
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="Trends")).to_be_visible()
    screenshot(page, "trends")
    assert live_server.foreign_requests() == []
    assert errors == []


def test_the_point_picker_draws_country_borders_from_capdb(
    page: Page, live_server: LiveServer, tmp_path: Path
) -> None:
    mali = {"GID_0": "MLI", "NAME_0": "Mali"}
    path = write_geojson(tmp_path / "mali.geojson", [feature(mali, polygon(GAO))])
    with live_server.app.extensions["capdb.db"].sessionmaker.begin() as session:
        load_file(session, path, "admin0")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    LoginPage(page).sign_in(ACCOUNTS["officer"])
    IncidentListPage(page).open().record_an_incident()
    page.wait_for_load_state("networkidle")
    # Grey borders, drawn over the grid; no tile server is set.
    borders = page.locator(f'.point-picker path[stroke="{BORDER_COLOUR}"]')
    expect(borders).to_have_count(1)
    screenshot(page, "point-picker")
    assert any("/maps/data/boundaries?" in url for url in live_server.requests)
    assert live_server.foreign_requests() == []
    assert errors == []
