"""Attaching documents in Chromium: the page's script sends each file on its own with its
progress, dropped on the form or chosen, under the strict CSP (no inline script), and says
why a file is refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import FilePayload, Page, expect

from incidents.models import Incident
from tests.attachments import samples
from tests.browser.conftest import ACCOUNTS, LiveServer, screenshot
from tests.browser.pages import LoginPage
from tests.factories import incident_values


@pytest.fixture
def incident_id(live_server: LiveServer) -> int:
    with live_server.app.extensions["capdb.db"].sessionmaker.begin() as session:
        incident = Incident(**incident_values(reference="MINUSMA-2021-7001"))
        session.add(incident)
        session.flush()
        found = incident.id
    return found


def test_files_dropped_or_chosen_are_sent_one_by_one(
    page: Page, live_server: LiveServer, incident_id: int
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    LoginPage(page).sign_in(ACCOUNTS["officer"])
    page.goto(f"/incidents/{incident_id}")
    page.get_by_role("link", name="Documents").click()
    expect(page.get_by_role("heading", name="Documents", exact=True)).to_be_visible()
    # The page's deferred script listens for drops once the page has loaded; a drop before
    # that would go to the browser, not to the form.
    page.wait_for_load_state("load")

    # A program renamed as a PDF, dropped on the form: refused, with the reason.
    dropped = page.evaluate_handle(
        """(bytes) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([new Uint8Array(bytes)], "judgment.pdf"));
            return transfer;
        }""",
        list(samples.windows_program()),
    )
    page.dispatch_event(".drop-zone", "drop", {"dataTransfer": dropped})
    queue = page.locator("#attachment-queue li")
    expect(queue).to_have_count(1)
    expect(queue.first).to_contain_text("judgment.pdf")
    expect(queue.first).to_contain_text("Refused: judgment.pdf")
    expect(queue.first).to_contain_text("is a program")

    # Two good files chosen and sent: each attached, then the list shows them.
    chosen: list[FilePayload] = [
        {"name": "report.pdf", "mimeType": "application/pdf", "buffer": samples.pdf()},
        {"name": "scene.jpg", "mimeType": "image/jpeg", "buffer": samples.photo()},
    ]
    page.set_input_files("#attachment-file", files=chosen)
    page.get_by_label("Kind").select_option(label="Photograph")
    page.get_by_role("button", name="Attach", exact=True).click()
    table = page.locator("table#attachments tbody tr")
    expect(table).to_have_count(2)
    expect(table.nth(0)).to_contain_text("report.pdf")
    expect(table.nth(1)).to_contain_text("scene.jpg")
    screenshot(page, "attachments-list")
    assert live_server.foreign_requests() == []
    # The refused file's 422 is the only error the browser reports: no script was blocked.
    assert [m for m in problems if "422" not in m] == []
