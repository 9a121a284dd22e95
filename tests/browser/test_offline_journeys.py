"""Recording without a link, in Chromium: an officer on a field laptop records incidents
while the satellite link is down, reloads, closes the browser, and finds everything again;
when the link returns, the outbox sends each incident once.

The link is cut twice over: Chromium's offline mode (the pages know they are offline) and
a cut in front of capdb (tests/browser/link.py), which makes every request of the
browser, its service worker's included, fail as a dropped link does. Each journey has its
own officer, signed in on a browser profile of its own that survives closing the browser.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from auth.models import User
from auth.passwords import hash_password
from capdb.app import create_app
from capdb.reference import Mission
from incidents.models import Incident
from tests.browser.conftest import PASSWORD, Account, _prepare
from tests.browser.link import Link
from tests.browser.offline_pages import (
    Header,
    OfflineFormPage,
    OutboxPage,
    field_officer,
    open_browser,
)
from tests.browser.pages import IncidentEntry, LoginPage, VictimEntry
from tests.conftest import config_for

OFFICERS = {
    name: field_officer(name)
    for name in ("recorder", "corrector", "editor", "colleague", "retrier", "leaver", "signer")
}
BER = IncidentEntry(
    occurred_on="2023-02-10",
    place="Ber, east of Timbuktu",
    latitude="16,23",  # a French keyboard's decimal comma
    longitude="-2.71",
    means_of_attack="Small arms fire",
    context="During a patrol",
    location_type="Rural area",
    perpetrator="Non-state armed group",
    narrative="A foot patrol came under fire 3 km east of Ber.\nTwo peacekeepers were hit.",
    sources="Sector West flash report, 10 February 2023.",
)
SENEGALESE_SOLDIER = VictimEntry(
    category="Contingent military",
    nationality="Senegal",
    contributing_country="Senegal",
    outcome="Killed",
    sex="Male",
    unit="Senegalese battalion, Ber",
    date_of_death="2023-02-10",
    name="Moussa Diallo",
)
BURKINABE_POLICE = VictimEntry(
    category="Formed police unit",
    nationality="Burkina Faso",
    contributing_country="Burkina Faso",
    outcome="Injured",
    sex="Female",
    unit="FPU 2",
)


@dataclass
class FieldServer:
    url: str
    app: Flask
    link: Link

    def incidents(self, place: str) -> list[Incident]:
        with self.app.extensions["capdb.db"].sessionmaker() as session:
            found = list(session.scalars(sa.select(Incident).where(Incident.place == place)))
            for incident in found:
                _ = incident.victims  # loaded while the session is open
            return found

    def session(self) -> Session:
        sessionmaker: Callable[[], Session] = self.app.extensions["capdb.db"].sessionmaker
        return sessionmaker()


def _add_officers(app: Flask, officers: dict[str, Account]) -> None:
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        password_hash = hash_password(PASSWORD)
        for account in officers.values():
            session.add(
                User(
                    email=account.email,
                    role=account.role,
                    password_hash=password_hash,
                    totp_secret=account.totp_secret,
                    missions=[session.get_one(Mission, code) for code in account.missions],
                )
            )


@pytest.fixture(scope="module")
def field_server(
    make_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldServer]:
    app = create_app(config_for(make_database_url("offline"), tmp_path_factory.mktemp("field")))
    _prepare(app)
    _add_officers(app, OFFICERS)
    link = Link(app)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, link, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield FieldServer(f"http://127.0.0.1:{server.server_port}", app, link)
    server.shutdown()
    thread.join()
    server.server_close()
    app.extensions["capdb.db"].engine.dispose()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@dataclass
class Laptop:
    """A field laptop: a browser profile that outlives the browser, and the link."""

    playwright: Playwright
    profile: Path
    server: FieldServer
    context: BrowserContext | None = None

    def start(self, *, offline: bool = False) -> Page:
        self.context = open_browser(self.playwright, self.profile, self.server.url, offline=offline)
        return self.context.pages[0] if self.context.pages else self.context.new_page()

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None

    def link_down(self) -> None:
        self.server.link.up = False
        assert self.context is not None
        self.context.set_offline(True)

    def link_up(self) -> None:
        self.server.link.up = True
        assert self.context is not None
        self.context.set_offline(False)


@pytest.fixture
def laptop(playwright: Playwright, field_server: FieldServer, tmp_path: Path) -> Iterator[Laptop]:
    machine = Laptop(playwright, tmp_path / "profile", field_server)
    yield machine
    field_server.link.up = True
    field_server.link.losing = None
    machine.close()


def signed_in(laptop: Laptop, officer: str) -> Page:
    page = laptop.start()
    LoginPage(page).sign_in(OFFICERS[officer])
    return page


# The journeys ------------------------------------------------------------------------------


def test_recorded_without_a_link_survives_everything_and_is_sent_once(laptop: Laptop) -> None:
    page = signed_in(laptop, "recorder")
    form = OfflineFormPage(page).open()
    Header(page).wait_until_kept_for_offline()
    form.fill_everything(BER, [SENEGALESE_SOLDIER, BURKINABE_POLICE])
    form.field("Time (optional)").fill("06:40")
    form.field("Date precision").select_option(label="Exact date and time")
    form.field("Perpetrator's name (optional)").fill("Katiba Macina")
    form.field("Location precision").select_option(label="Nearby town")

    laptop.link_down()
    form.save_without_link()
    Header(page).expect_outbox("1 waiting to send")

    page.reload()  # without a link: the form comes from the service worker
    expect(page.get_by_role("heading", name="Record an incident")).to_be_visible()
    Header(page).expect_outbox("1 waiting to send")
    outbox = OutboxPage(page).open()
    expect(outbox.item("Waiting to send", BER.place)).to_be_visible()
    page.goto("/incidents/")
    expect(page.get_by_role("heading", name="This page needs the link")).to_be_visible()

    laptop.close()  # the laptop is shut, and opened again still without a link
    page = laptop.start(offline=True)
    outbox = OutboxPage(page).open()
    expect(outbox.item("Waiting to send", BER.place)).to_be_visible()
    Header(page).expect_outbox("1 waiting to send")
    assert laptop.server.incidents(BER.place) == []

    # The link returns; closing the browser ended the session: signed in again, it sends.
    laptop.link_up()
    Header(page).expect_outbox("1 waiting to send · Sign in again to send them.")
    LoginPage(page).sign_in(OFFICERS["recorder"], code_step=1)
    Header(page).expect_nothing_waiting()
    outbox = OutboxPage(page).open()
    expect(outbox.item("Sent from this browser", "Recorded as MINUSMA-2023-")).to_be_visible()
    [incident] = laptop.server.incidents(BER.place)
    assert incident.mission_code == "MINUSMA"
    assert incident.occurred_on == date(2023, 2, 10)
    assert incident.occurred_time == time(6, 40)
    assert incident.date_precision == "exact"
    assert incident.country_code == "MLI"
    assert (incident.latitude, incident.longitude) == (16.23, -2.71)
    assert incident.geo_precision == "nearby_town"
    assert incident.means_of_attack == "small_arms"
    assert incident.attack_context == "patrol"
    assert incident.location_type == "rural"
    assert incident.perpetrator_type == "armed_group"
    assert incident.perpetrator_name == "Katiba Macina"
    assert incident.narrative == BER.narrative
    assert incident.sources == BER.sources
    victims = sorted(incident.victims, key=lambda v: v.id)
    assert [
        (v.category, v.nationality_code, v.contributing_country_code, v.unit, v.sex, v.outcome,
         v.date_of_death, v.name)
        for v in victims
    ] == [
        ("contingent_military", "SEN", "SEN", "Senegalese battalion, Ber", "male", "killed",
         date(2023, 2, 10), "Moussa Diallo"),
        ("formed_police_unit", "BFA", "BFA", "FPU 2", "female", "injured", None, None),
    ]  # fmt: skip
