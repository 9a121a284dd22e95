"""Page objects: what a person does on each capdb page, in their words."""

from __future__ import annotations

from dataclasses import dataclass

from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, Account


@dataclass
class LoginPage:
    page: Page

    def sign_in(self, account: Account, *, code_step: int = 0) -> None:
        self.page.goto("/auth/login")
        self.page.get_by_label("Email").fill(account.email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Continue").click()
        self.page.get_by_label("Six-digit code").fill(account.code(after=code_step))
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        expect(self.page.get_by_role("heading", name="Sign in")).to_be_visible()


@dataclass
class IncidentListPage:
    page: Page

    def open(self, **filters: str) -> IncidentListPage:
        query = "&".join(f"{name}={value}" for name, value in filters.items())
        self.page.goto(f"/incidents/?{query}")
        return self

    def open_incident(self, reference: str) -> None:
        self.page.get_by_role("link", name=reference).click()
        expect(self.page.get_by_role("heading", name=f"Incident {reference}")).to_be_visible()
