"""A mission officer signs in and records an incident with the keyboard alone: every field
is reached with Tab, filled by typing, and the form is sent with Enter. No click, no
pointer: what a person who cannot use a mouse does."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import ACCOUNTS, PASSWORD, LiveServer, screenshot

MAX_TABS = 250


class Keyboard:
    """A person at the keyboard: Tab to a control, then type."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def tab_to(self, control: Locator) -> None:
        """Press Tab until the control has the focus; fail if it never gets it."""
        for _ in range(MAX_TABS):
            if control.evaluate("element => element === document.activeElement"):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"{control} cannot be reached with the Tab key")

    def fill(self, control: Locator, text: str) -> None:
        self.tab_to(control)
        self.page.keyboard.type(text)

    def choose(self, control: Locator, option: str) -> None:
        """Pick an option of a closed select by typing its first letters, or, should the
        browser's type-ahead have timed out between two keys, with the arrow keys."""
        self.tab_to(control)
        self.page.keyboard.type(option)
        checked = control.locator("option:checked")
        if checked.inner_text().strip() == option:
            return
        self.press("Home")
        for _ in range(control.locator("option").count()):
            if checked.inner_text().strip() == option:
                return
            self.press("ArrowDown")
        raise AssertionError(f"{option} cannot be chosen with the keyboard")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)


def sign_in(keys: Keyboard, page: Page) -> None:
    page.goto("/")
    account = ACCOUNTS["officer"]
    keys.fill(page.get_by_label("Email"), account.email)
    keys.fill(page.get_by_label("Password"), PASSWORD)
    keys.press("Enter")
    code = page.get_by_label("Six-digit code")
    expect(code).to_be_visible()
    keys.fill(code, account.code())
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()


def test_an_officer_records_an_incident_with_the_keyboard_alone(
    page: Page, live_server: LiveServer
) -> None:
    keys = Keyboard(page)
    sign_in(keys, page)
    keys.tab_to(page.get_by_role("link", name="Record an incident"))
    keys.press("Enter")
    expect(page.get_by_role("heading", name="Record an incident")).to_be_visible()

    def field(label: str) -> Locator:
        # Exact: other labels hold these words ("Perpetrator's name", the point picker's
        # map that fills in the latitude and longitude).
        return page.get_by_label(label, exact=True)

    keys.tab_to(field("Date"))
    page.keyboard.type("06152021")  # the date input's month, day and year (en-US, the default)
    expect(field("Date")).to_have_value("2021-06-15")
    keys.choose(field("Country where it happened"), "Mali")
    keys.fill(field("Place"), "Anefis checkpoint")
    keys.fill(field("Latitude"), "17.95")
    keys.fill(field("Longitude"), "0.52")
    keys.choose(field("Means of attack"), "Small arms fire")
    keys.choose(field("Context of the attack"), "At a checkpoint")
    keys.choose(field("Location type"), "Checkpoint")
    keys.choose(field("Perpetrator"), "Unknown")
    keys.fill(field("Narrative"), "Shots fired at the checkpoint at dawn; one soldier hurt.")
    victim = page.get_by_role("group", name="Victim 1", exact=True)
    keys.choose(victim.get_by_label("Personnel category"), "Contingent military")
    keys.choose(victim.get_by_label("Nationality"), "Niger")
    keys.choose(victim.get_by_label("Contributing country"), "Niger")
    keys.choose(victim.get_by_label("Outcome"), "Injured")
    keys.tab_to(page.get_by_role("button", name="Save", exact=True))
    keys.press("Enter")

    expect(page.get_by_role("status").filter(has_text="was recorded as a draft")).to_be_visible()
    expect(page.get_by_role("region", name="Victims").locator("tbody tr")).to_have_count(1)
    screenshot(page, "keyboard-journey")
    assert live_server.foreign_requests() == []
