"""Pages work with nothing but capdb: no request leaves for another host."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import ACCOUNTS, LiveServer, screenshot
from tests.browser.pages import IncidentListPage, LoginPage


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
