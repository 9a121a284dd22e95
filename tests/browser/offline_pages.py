"""Page objects of the offline shell: the outbox in the header, the drafts and outbox
page, and the incident form's offline side. With the accounts and the browsers of the
offline journeys: each journey has its own officer and its own browser profile, which
survives closing the browser as a field laptop's does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyotp
from playwright.sync_api import BrowserContext, Locator, Page, Playwright, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Account
from tests.browser.pages import IncidentEntry, IncidentFormPage, VictimEntry

# Saving, sending and keeping pages wait on the service worker and the store.
SLOW = 30_000


def field_officer(name: str) -> Account:
    return Account(f"{name}@minusma.test", "mission", pyotp.random_base32(), ("MINUSMA",))


def open_browser(
    playwright: Playwright, profile: Path, base_url: str, *, offline: bool = False
) -> BrowserContext:
    """Chromium on a profile of its own: cookies, the service worker, its caches and the
    offline store stay there when the browser is closed."""
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        base_url=base_url,
        locale="en-GB",
        offline=offline,
    )


@dataclass
class Header:
    """The outbox as the header shows it, on every page of an officer."""

    page: Page

    def outbox(self) -> Locator:
        return self.page.locator(".offline-status .outbox-link")

    def wait_until_kept_for_offline(self) -> None:
        """Until the service worker keeps this user's pages and reference data."""
        shell = self.page.locator("[data-offline-shell]")
        expect(shell).to_have_attribute("data-offline-ready", "true", timeout=SLOW)

    def expect_outbox(self, text: str) -> None:
        expect(self.outbox()).to_have_text(text, timeout=SLOW)

    def expect_nothing_waiting(self) -> None:
        expect(self.outbox()).to_be_hidden(timeout=SLOW)


@dataclass
class OfflineFormPage(IncidentFormPage):
    """The incident form with its drafts and outbox."""

    def open(self) -> OfflineFormPage:
        self.page.goto("/incidents/new")
        expect(self.page.get_by_role("heading", name="Record an incident")).to_be_visible()
        return self

    def fill_everything(self, incident: IncidentEntry, victims: list[VictimEntry]) -> None:
        self.describe(incident)
        for number, victim in enumerate(victims, start=1):
            if number > 1:
                self.add_a_victim()
            self.fill_victim(number, victim)

    def save_without_link(self) -> None:
        self.page.get_by_role("button", name="Save", exact=True).click()
        expect(self.page.get_by_text("Saved in this browser.")).to_be_visible(timeout=SLOW)

    def continue_the_draft(self) -> None:
        self.page.get_by_role("button", name="Continue the draft").click()

    def error_summary(self) -> Locator:
        return self.page.get_by_role("alert")


@dataclass
class OutboxPage:
    page: Page

    def open(self) -> OutboxPage:
        self.page.goto("/offline/outbox")
        expect(self.page.get_by_role("heading", name="Your drafts and outbox")).to_be_visible()
        return self

    def group(self, name: str) -> Locator:
        return self.page.get_by_role("region", name=name)

    def item(self, group: str, text: str) -> Locator:
        return self.group(group).locator(".outbox-item", has_text=text)

    def send_now(self) -> None:
        self.page.get_by_role("button", name="Send now").click()
