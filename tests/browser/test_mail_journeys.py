"""Mail in a real browser: a validation mails exactly the concerned focal points, each in
its language, and shows in the validator's queue and the focal point's notifications; a
forgotten password is reset end to end through the mail a real SMTP listener receives.

The job worker's work (writing and sending the mail) runs in this process here; the
worker itself is tested in tests/test_mail_worker.py.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import BaseWSGIServer, make_server

from auth.models import User
from capdb.app import create_app
from incidents.models import Incident, Victim
from notifications.delivery import deliver_and_send
from tests.browser.conftest import ACCOUNTS, PASSWORD, LiveServer, _prepare, screenshot
from tests.browser.pages import IncidentPage, LoginPage, flash
from tests.conftest import config_for
from tests.factories import incident_values
from tests.mailbox import Mailbox

NEW_PASSWORD = "a new passphrase after the reset"
VICTIM = "Adoum Mahamat"
NARRATIVE = "A logistics convoy struck an IED north of Gao."


@pytest.fixture(scope="module")
def mailbox_server() -> Iterator[Mailbox]:
    box = Mailbox()
    box.start()
    yield box
    box.stop()


@pytest.fixture(scope="module")
def live_server(
    make_database_url: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    mailbox_server: Mailbox,
) -> Iterator[LiveServer]:
    config = config_for(make_database_url("mailjourney"), tmp_path_factory.mktemp("mail-live"))
    app = create_app(config.replace(mail_url=mailbox_server.url))
    _prepare(app)
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        niger = User(email="focal@niger.test", role="member_state", state_code="NER")
        niger.password_hash = "x"
        session.add(niger)
        chad = session.query(User).filter_by(email=ACCOUNTS["focal_point"].email).one()
        chad.locale = "fr"
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.extensions["capdb.config"] = app.extensions["capdb.config"].replace(base_url=url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(url, app)
    server.shutdown()
    thread.join()
    server.server_close()
    app.extensions["capdb.db"].engine.dispose()


def run_the_worker(live_server: LiveServer) -> None:
    with live_server.app.app_context():
        deliver_and_send()


def submitted_incident(live_server: LiveServer) -> Incident:
    """An attack in Mali on a Chadian peacekeeper, recorded and submitted by the officer."""
    with live_server.app.extensions["capdb.db"].sessionmaker.begin() as session:
        officer = session.query(User).filter_by(email=ACCOUNTS["officer"].email).one()
        incident = Incident(**incident_values(
            status="submitted", created_by_id=officer.id, submitted_by_id=officer.id,
            narrative=NARRATIVE,
        ))  # fmt: skip
        session.add(incident)
        session.flush()
        session.add(Victim(incident_id=incident.id, category="contingent_military",
                           nationality_code="TCD", contributing_country_code="TCD",
                           outcome="killed", name=VICTIM))  # fmt: skip
    return incident


def to_validate(page: Page) -> int:
    page.goto("/")
    heading = page.get_by_role("heading", name=re.compile(r"^To validate"))
    found = re.search(r"\((\d+)\)", heading.inner_text())
    assert found
    return int(found.group(1))


def test_a_validation_mails_exactly_the_concerned_focal_points_in_their_language(
    page: Page, browser: Browser, live_server: LiveServer, mailbox_server: Mailbox
) -> None:
    incident = submitted_incident(live_server)
    LoginPage(page).sign_in(ACCOUNTS["validator"])
    waiting = to_validate(page)
    assert waiting >= 1
    page.goto(f"/incidents/{incident.id}")
    IncidentPage(page).validate()
    assert to_validate(page) == waiting - 1

    run_the_worker(live_server)
    received = {mail.envelope_to[0]: mail for mail in mailbox_server.received}
    assert set(received) == {ACCOUNTS["focal_point"].email, ACCOUNTS["mali_focal"].email}
    french = received[ACCOUNTS["focal_point"].email]
    english = received[ACCOUNTS["mali_focal"].email]
    assert french.subject == f"[capdb] {incident.reference} (MINUSMA) : validé"
    assert english.subject == f"[capdb] {incident.reference} (MINUSMA): validated"
    for mail in received.values():
        for body in (mail.text, mail.html):
            assert VICTIM not in body
            assert NARRATIVE not in body

    focal = browser.new_context(base_url=live_server.url, locale="fr-FR").new_page()
    _sign_in_fr(focal)
    badge = focal.get_by_role("navigation").locator(".badge")
    expect(badge).to_have_text("1")
    focal.get_by_role("link", name=re.compile("^Notifications")).click()
    row = focal.locator("table.notifications tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("validé")
    row.get_by_role("button", name=incident.reference).click()
    expect(focal.get_by_role("heading", level=1)).to_contain_text(incident.reference)
    expect(focal.get_by_role("navigation").locator(".badge")).to_have_count(0)
    screenshot(focal, "notification-opened")
    focal.context.close()


def _sign_in_fr(page: Page) -> None:
    """Chad's focal point, whose browser speaks French."""
    account = ACCOUNTS["focal_point"]
    page.goto("/auth/login")
    page.get_by_label("Adresse électronique").fill(account.email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Continuer").click()
    page.get_by_label("Code à six chiffres").fill(account.code())
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_a_forgotten_password_is_reset_through_the_mail_and_old_sessions_end(
    page: Page, browser: Browser, live_server: LiveServer, mailbox_server: Mailbox
) -> None:
    account = ACCOUNTS["mali_focal"]
    # Signed in elsewhere, before the reset.
    elsewhere = browser.new_context(base_url=live_server.url, locale="en-GB").new_page()
    LoginPage(elsewhere).sign_in(account)

    page.goto("/auth/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill(account.email)
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("If an account uses this address")
    before = len(mailbox_server.received)
    run_the_worker(live_server)
    (mail,) = mailbox_server.received[before:]
    assert mail.subject == "[capdb] Choose a new password"
    link = re.search(r"(http://127\.0\.0\.1:\d+/auth/reset/\S+)", mail.text)
    assert link

    page.goto(link.group(1))
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(flash(page, "Your password was changed")).to_be_visible()

    elsewhere.reload()
    expect(elsewhere.get_by_role("heading", name="Sign in")).to_be_visible()
    elsewhere.context.close()

    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Six-digit code").fill(account.code())
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    run_the_worker(live_server)
    subjects = [m.subject for m in mailbox_server.received[before:]]
    assert subjects == ["[capdb] Choose a new password", "[capdb] Your password was changed"]
