"""Restoring versions from the history page, in a real browser: content comes back, the
incident goes back through validation, and never comes back validated (issue 12).

The author and the validator work side by side in two tabs of their own, signed in once
each (a sign-in code is accepted once).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ACCOUNTS, LiveServer, screenshot
from tests.browser.pages import (
    IncidentEntry,
    IncidentFormPage,
    IncidentListPage,
    IncidentPage,
    LoginPage,
    VictimEntry,
    flash,
)

FIRST = IncidentEntry(
    occurred_on="2021-09-02",
    place="Anefis checkpoint",
    latitude="17.9",
    longitude="0.6",
    means_of_attack="Small arms fire",
    context="At a checkpoint",
    location_type="Checkpoint",
    perpetrator="Non-state armed group",
    narrative="Gunmen fired on the checkpoint at dawn.",
    sources="Sector North daily report.",
)
SECOND_NARRATIVE = "Gunmen on motorbikes fired on the checkpoint at dawn for twenty minutes."
THIRD_NARRATIVE = "Gunmen fired on the checkpoint; the injured soldier was evacuated to Gao."
KILLED = VictimEntry(
    category="Contingent military",
    nationality="Chad",
    contributing_country="Chad",
    outcome="Killed",
    sex="Male",
    date_of_death="2021-09-02",
)
INJURED = VictimEntry(
    category="Contingent military",
    nationality="Chad",
    contributing_country="Chad",
    outcome="Injured",
    sex="Male",
)


@dataclass
class HistoryPage:
    page: Page

    def restore(self, version: int, *, section: str = "Incident") -> None:
        """Open the confirmation of restoring ``version`` and confirm it."""
        link = f"Restore version {version}"
        # Each table of changes is named by the heading of its section.
        table = self.page.get_by_role("table", name=section, exact=True)
        table.get_by_role("link", name=link, exact=True).click()
        expect(self.page.get_by_role("heading", name=link)).to_be_visible()
        expect(self.page.get_by_role("table", name="What the restore changes")).to_be_visible()
        self.page.get_by_role("button", name="Restore these values").click()
        expect(
            flash(self.page, f"Version {version} was restored as a new version.")
        ).to_be_visible()


def history_of(incident: IncidentPage) -> HistoryPage:
    incident.page.get_by_role("link", name="History of changes").click()
    expect(incident.page.get_by_role("heading", name="History of", exact=False)).to_be_visible()
    return HistoryPage(incident.page)


def edit(incident: IncidentPage) -> IncidentFormPage:
    incident.verification().get_by_role("link", name="Edit").click()
    return IncidentFormPage(incident.page)


def save_edit(form: IncidentFormPage) -> IncidentPage:
    form.page.get_by_role("button", name="Save", exact=True).click()
    expect(flash(form.page, "was saved")).to_be_visible()
    return IncidentPage(form.page)


@pytest.fixture
def second_tab(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def third_tab(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def test_restores_bring_content_back_and_never_validation(
    page: Page, second_tab: Page, third_tab: Page, live_server: LiveServer
) -> None:
    LoginPage(page).sign_in(ACCOUNTS["officer"])
    LoginPage(second_tab).sign_in(ACCOUNTS["validator"])
    LoginPage(third_tab).sign_in(ACCOUNTS["mali_focal"])

    # The officer records a draft, corrects its narrative and submits it.
    form = IncidentListPage(page).open().record_an_incident()
    form.describe(FIRST)
    form.fill_victim(1, KILLED)
    authored = form.save()
    reference = authored.reference()
    form = edit(authored)
    form.field("Narrative").fill(SECOND_NARRATIVE)
    authored = save_edit(form)
    authored.submit_for_validation()

    # The validator validates it, then restores its first draft: a draft again.
    validating = IncidentListPage(second_tab).open().open_incident(reference)
    validating.validate()
    mali = IncidentListPage(third_tab).open()
    expect(mali.rows().filter(has_text=reference)).to_have_count(1)
    history_of(validating).restore(1)
    restored = IncidentPage(second_tab)
    restored.expect_status("Draft")
    expect(second_tab.get_by_text(FIRST.narrative)).to_be_visible()
    expect(mali.open().rows().filter(has_text=reference)).to_have_count(0)
    history_of(restored)
    expect(second_tab.get_by_text("Restore of version 1")).to_be_visible()
    screenshot(second_tab, "restore-1-draft-again")

    # Submitted and validated again, then returned; the author edits the victim.
    authored = IncidentListPage(page).open().open_incident(reference)
    authored.submit_for_validation()
    validating = IncidentListPage(second_tab).open().open_incident(reference)
    validating.validate()
    validated_version = int(
        second_tab.locator("form[action$='/return'] input[name=version]").input_value()
    )
    validating.verification().get_by_label("Reason for returning it to draft").fill(
        "The soldier survived: check the outcome."
    )
    validating.verification().get_by_role("button", name="Return to draft").click()
    expect(flash(second_tab, "was returned to draft")).to_be_visible()
    authored = IncidentListPage(page).open().open_incident(reference)
    form = edit(authored)
    form.fill_victim(1, INJURED)
    form.field("Narrative").fill(THIRD_NARRATIVE)
    authored = save_edit(form)

    # The author restores the validated version: its content, never its validation.
    history_of(authored).restore(validated_version)
    restored = IncidentPage(page)
    restored.expect_status("Draft")
    expect(restored.verification()).not_to_contain_text("Validated")
    expect(restored.victims()).to_contain_text("Injured")
    expect(mali.open().rows().filter(has_text=reference)).to_have_count(0)
    screenshot(page, "restore-2-never-validated")
    assert live_server.foreign_requests() == []
