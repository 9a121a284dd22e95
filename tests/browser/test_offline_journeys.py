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
from dataclasses import dataclass, replace
from datetime import date, time
from pathlib import Path
from time import monotonic, sleep

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import (
    BrowserContext,
    Dialog,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from werkzeug.serving import BaseWSGIServer, make_server

from auth import tokens
from auth.models import User
from capdb.app import create_app
from incidents.models import Incident
from incidents.offline import shell
from tests.browser.conftest import Account, _prepare, add_accounts
from tests.browser.link import Link
from tests.browser.offline_pages import (
    SLOW,
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
    for name in (
        "recorder",
        "corrector",
        "editor",
        "colleague",
        "retrier",
        "resender",
        "leaver",
        "signer",
        "forgetter",
        "updater",
    )
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


def incident_on(day: str, place: str) -> IncidentEntry:
    """Each journey's incident on a day of its own: no likely duplicate of another's."""
    return replace(BER, occurred_on=day, place=place)


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

    def edit_through_api(self, account: Account, place: str, changes: dict[str, str]) -> None:
        """Another officer's change, through the API, from a desk whose link is up."""
        with self.app.extensions["capdb.db"].sessionmaker.begin() as session:
            user = session.scalars(sa.select(User).where(User.email == account.email)).one()
            _token, value = tokens.create(session, user)
        [incident] = self.incidents(place)
        response = self.app.test_client().patch(
            f"/api/v1/incidents/{incident.id}",
            json={"version": incident.version, **changes},
            headers={"Authorization": f"Bearer {value}"},
        )
        assert response.status_code == 200, response.json


@pytest.fixture(scope="module")
def field_server(
    make_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FieldServer]:
    app = create_app(config_for(make_database_url("offline"), tmp_path_factory.mktemp("field")))
    _prepare(app)
    add_accounts(app, OFFICERS.values())
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
    field_server.link.lost.clear()
    yield machine
    field_server.link.up = True
    field_server.link.losing = None
    machine.close()


def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = monotonic() + seconds
    while not condition():
        assert monotonic() < deadline, "waited in vain"
        sleep(0.1)


def kept(page: Page) -> dict[str, object]:
    """What this browser keeps for capdb: caches, IndexedDB databases, service workers."""
    found: dict[str, object] = page.evaluate(
        """async () => ({
            caches: await caches.keys(),
            databases: (await indexedDB.databases()).map(d => d.name),
            workers: (await navigator.serviceWorker.getRegistrations()).length,
        })"""
    )
    return found


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
    LoginPage(page).sign_in(OFFICERS["recorder"])
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


def test_a_draft_refused_by_capdb_opens_with_its_fields_marked(laptop: Laptop) -> None:
    page = signed_in(laptop, "corrector")
    form = OfflineFormPage(page).open()
    Header(page).wait_until_kept_for_offline()
    place = "Goundam market"
    form.fill_everything(incident_on("2023-03-14", place), [BURKINABE_POLICE])
    form.place_at("123", "-3.66")  # no latitude is over 90: only capdb says so here

    laptop.link_down()
    form.save_without_link()
    laptop.link_up()
    Header(page).expect_outbox("1 needs your attention")
    outbox = OutboxPage(page).open()
    refused = outbox.item("Needs your attention", place)
    expect(refused).to_contain_text("Latitude: A latitude is between -90 and 90.")
    assert laptop.server.incidents(place) == []

    refused.get_by_role("link", name="Open it to correct it").click()
    expect(form.error_summary()).to_contain_text("Please correct the fields marked below.")
    expect(form.error_next_to("Latitude")).to_have_text("A latitude is between -90 and 90.")
    expect(form.field("Latitude")).to_have_attribute("aria-invalid", "true")
    expect(form.field("Longitude")).not_to_have_attribute("aria-invalid", "true")
    expect(form.victim(1).get_by_label("Unit")).to_have_value(BURKINABE_POLICE.unit)
    form.place_at("16.08", "-3.66")
    form.save()
    Header(page).expect_nothing_waiting()
    [incident] = laptop.server.incidents(place)
    assert incident.latitude == 16.08
    assert [v.unit for v in incident.victims] == [BURKINABE_POLICE.unit]


def test_a_conflict_keeps_both_versions_until_the_officer_chooses(laptop: Laptop) -> None:
    page = signed_in(laptop, "editor")
    form = OfflineFormPage(page).open()
    place, theirs = "Léré, near the camp", "Léré airstrip"
    form.fill_everything(incident_on("2022-05-03", place), [BURKINABE_POLICE])
    incident = form.save()
    reference = incident.reference()
    incident.verification().get_by_role("link", name="Edit").click()
    Header(page).wait_until_kept_for_offline()

    laptop.link_down()  # the link drops while the officer edits
    mine = "Corrected: the patrol was ambushed 5 km east of Léré."
    form.field("Narrative").fill(mine)
    form.save_without_link()
    Header(page).expect_outbox("1 waiting to send")
    # Meanwhile a colleague at headquarters corrects the place.
    laptop.server.edit_through_api(OFFICERS["colleague"], place, {"place": theirs})

    laptop.link_up()
    Header(page).expect_outbox("1 needs your attention")
    outbox = OutboxPage(page).open()
    conflict = outbox.item("Needs your attention", f"Changes to {reference}")
    expect(conflict).to_contain_text("changed on capdb meanwhile")
    expect(conflict.get_by_role("row", name=f"Place {place} {theirs}")).to_be_visible()
    expect(conflict.get_by_role("row", name=f"Narrative {mine}")).to_be_visible()
    page.reload()  # nothing is dropped until the officer chooses
    expect(conflict.get_by_role("row", name=f"Place {place} {theirs}")).to_be_visible()
    [record] = laptop.server.incidents(theirs)
    assert record.narrative.replace("\r\n", "\n") == BER.narrative  # as the form sent it

    conflict.get_by_role("button", name="Send mine in its place").click()
    expect(outbox.item("Sent from this browser", f"Recorded as {reference}")).to_be_visible()
    Header(page).expect_nothing_waiting()
    [record] = laptop.server.incidents(place)
    assert record.narrative == mine
    assert [v.unit for v in record.victims if v.deleted_at is None] == ["FPU 2"]


def throttle(page: Page) -> None:
    """A satellite link: 256 kbit/s each way, 600 ms of latency."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": 600,
            "downloadThroughput": 32_000,
            "uploadThroughput": 32_000,
        },
    )


def test_an_answer_lost_on_the_way_back_and_a_retry_record_one_incident(laptop: Laptop) -> None:
    page = signed_in(laptop, "retrier")
    form = OfflineFormPage(page).open()
    Header(page).wait_until_kept_for_offline()
    place = "Dire, river port"
    form.fill_everything(incident_on("2023-04-20", place), [BURKINABE_POLICE])
    laptop.link_down()
    form.save_without_link()

    # The link returns, slow, and drops again just as capdb answers.
    laptop.server.link.losing = "POST /api/v1/incidents"
    laptop.link_up()
    throttle(page)
    outbox = OutboxPage(page).open()
    waiting = outbox.item("Waiting to send", place)
    expect(waiting).to_contain_text("On its way: waiting for capdb’s answer.", timeout=SLOW)
    page.wait_for_timeout(100)
    lost = laptop.server.link.lost
    until(lambda: any(entry.endswith(" 201") for entry in lost))
    # The throttle comes on while the outbox may already be sending: a request cut on the
    # way reaches capdb incomplete and is refused (400, nothing recorded); the browser sends
    # it again. What matters: the first answer that recorded it is the one lost.
    first = next(n for n, entry in enumerate(lost) if entry.endswith(" 201"))
    assert set(lost[:first]) <= {"POST /api/v1/incidents 400"}
    assert len(laptop.server.incidents(place)) == 1  # recorded, but the browser cannot know
    page.reload()
    expect(waiting).to_contain_text("On its way: waiting for capdb’s answer.")

    laptop.server.link.losing = None
    outbox.send_now()
    expect(outbox.item("Sent from this browser", "Recorded as MINUSMA-2023-")).to_be_visible(
        timeout=SLOW
    )
    Header(page).expect_nothing_waiting()
    assert len(laptop.server.incidents(place)) == 1


def test_a_form_whose_answer_is_lost_is_recorded_once(laptop: Laptop) -> None:
    page = signed_in(laptop, "resender")
    form = OfflineFormPage(page).open()
    Header(page).wait_until_kept_for_offline()
    place = "Niafunké, south bank"
    form.fill_everything(incident_on("2023-05-25", place), [BURKINABE_POLICE])
    laptop.server.link.losing = "POST /incidents/new"
    page.get_by_role("button", name="Save", exact=True).click()

    # The service worker keeps the form in the outbox; the outbox sends it through the API
    # with the draft's key, which capdb knows from the form: the same incident comes back.
    outbox = OutboxPage(page)
    expect(page.get_by_role("heading", name="Your drafts and outbox")).to_be_visible(timeout=SLOW)
    expect(outbox.item("Sent from this browser", "Recorded as MINUSMA-2023-")).to_be_visible(
        timeout=SLOW
    )
    # Chromium sends a form again by itself when the connection drops: capdb knows the key.
    first, *again = laptop.server.link.lost
    assert first == "POST /incidents/new 302"
    assert set(again) <= {"POST /incidents/new 303"}
    assert len(laptop.server.incidents(place)) == 1


def test_leaving_with_changes_asks_first_and_the_form_offers_the_draft(laptop: Laptop) -> None:
    page = signed_in(laptop, "leaver")
    form = OfflineFormPage(page).open()
    form.field("Place").fill("Tonka, by the lake")
    form.field("Narrative").fill("Shots at the checkpoint at dusk.")
    asked: list[str] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.once("dialog", stay)
    page.get_by_role("link", name="Incidents", exact=True).click()
    expect(form.field("Place")).to_have_value("Tonka, by the lake")
    assert asked == ["beforeunload"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Incidents", exact=True).click()
    expect(page.get_by_role("heading", name="Incidents")).to_be_visible()
    form.open()
    expect(page.get_by_text("A draft of this form is kept in this browser")).to_be_visible()
    expect(form.field("Place")).to_have_value("")
    form.continue_the_draft()
    expect(form.field("Place")).to_have_value("Tonka, by the lake")
    expect(form.field("Narrative")).to_have_value("Shots at the checkpoint at dusk.")


def test_signing_out_clears_what_the_browser_kept(laptop: Laptop) -> None:
    page = signed_in(laptop, "signer")
    form = OfflineFormPage(page).open()
    Header(page).wait_until_kept_for_offline()
    form.field("Place").fill("Gossi")
    form.field("Narrative").fill("Not sent: a draft.")
    page.wait_for_function(
        "capdbOffline.allItems().then(items => items.some(i => i.fields.place === 'Gossi'))"
    )
    assert kept(page) != {"caches": [], "databases": [], "workers": 0}
    questions: list[str] = []

    def agree(dialog: Dialog) -> None:
        questions.append(dialog.message)
        dialog.accept()

    page.on("dialog", agree)
    LoginPage(page).sign_out()
    assert questions == [
        "Incidents recorded in this browser have not been sent yet; signing out deletes them. "
        "Sign out anyway?"
    ]
    assert kept(page) == {"caches": [], "databases": [], "workers": 0}


def test_the_answer_to_signing_out_clears_it_too(laptop: Laptop) -> None:
    """Should the page's script not run, capdb's answer (Clear-Site-Data) clears it."""
    page = signed_in(laptop, "forgetter")
    form = OfflineFormPage(page).open()
    Header(page).wait_until_kept_for_offline()
    form.field("Place").fill("Hombori")
    page.wait_for_function(
        "capdbOffline.allItems().then(items => items.some(i => i.fields.place === 'Hombori'))"
    )
    # form.submit() skips the page's own handler of the sign-out form.
    page.evaluate("document.querySelector('form[action=\"/auth/logout\"]').submit()")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert kept(page) == {"caches": [], "databases": [], "workers": 0}


def test_a_new_release_is_kept_before_the_old_one_goes(
    laptop: Laptop, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = signed_in(laptop, "updater")
    form = OfflineFormPage(page).open()
    Header(page).wait_until_kept_for_offline()
    caches = kept(page)["caches"]
    assert isinstance(caches, list)
    [before] = [name for name in caches if name.startswith("capdb-assets-")]

    # A release changes an asset: a new worker, which keeps the pages anew, then drops
    # the old assets.
    monkeypatch.setattr(shell, "STATIC_ASSETS", (*shell.STATIC_ASSETS, "css/map.css"))
    page.reload()
    page.wait_for_function(
        """before => caches.keys().then(names => {
            const assets = names.filter(name => name.startsWith("capdb-assets-"));
            return assets.length === 1 && assets[0] !== before;
        })""",
        arg=before,
        timeout=SLOW,
    )

    laptop.link_down()
    form.open()
    form.field("Place").fill("Boni, on the N16")
    form.save_without_link()
    Header(page).expect_outbox("1 waiting to send")
