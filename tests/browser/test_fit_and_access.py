"""Every page of the three journeys, in English and French: it fits the window at 1280 px
and on a phone (375 px) without scrolling sideways, and axe-core finds no critical or
serious accessibility violation on it. Leaflet's controls speak the page's language.

axe-core comes from npm (package.json's devDependencies) and is put into the page by the
test alone, through the browser's developer protocol: capdb never serves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from incidents.models import Defendant, Incident, JudicialCase, StageEvent, Victim
from tests.browser.conftest import ACCOUNTS, Account, LiveServer, add_accounts, screenshot
from tests.browser.pages import LoginPage

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 375)
SERIOUS = ("critical", "serious")
# Who walks each journey: an officer records, a focal point reviews, an analyst maps.
WALKERS = {
    "officer": ACCOUNTS["officer"],
    "focal_point": ACCOUNTS["focal_point"],
    "analyst": Account("analyst@capdb.test", "analyst", pyotp.random_base32()),
}


@dataclass(frozen=True)
class World:
    incident: int
    draft: int
    case: int
    national_case: int


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> World:
    """An incident of each kind the journeys meet, written straight to the database, and
    the analyst who maps them."""
    add_accounts(live_server.app, [WALKERS["analyst"]])
    with live_server.app.extensions["capdb.db"].sessionmaker.begin() as db:
        common: dict[str, Any] = {
            "mission_code": "MINUSMA", "occurred_on": date(2021, 6, 15), "date_precision": "day",
            "country_code": "MLI", "place": "Tarkint road, north of Gao", "latitude": 16.9,
            "longitude": 0.1, "geo_precision": "exact", "means_of_attack": "ied",
            "attack_context": "convoy", "location_type": "road",
            "perpetrator_type": "armed_group",
            "narrative": "A logistics convoy struck an IED 40 km north of Gao.",
        }  # fmt: skip
        incident = Incident(reference="MINUSMA-2021-0042", status="validated", **common)
        draft = Incident(reference="MINUSMA-2021-0043", status="draft", **common)
        db.add_all([incident, draft])
        db.flush()
        db.add_all(
            [
                Victim(incident=incident, category="contingent_military", nationality_code="TCD",
                       contributing_country_code="TCD", unit="Chadian battalion, Tessalit",
                       outcome="killed", sex="male", date_of_death=date(2021, 6, 15),
                       name="Adoum Mahamat"),
                Victim(incident=incident, category="national_civilian", nationality_code="MLI",
                       outcome="injured", sex="female", name="Awa Coulibaly"),
            ]
        )  # fmt: skip
        case = JudicialCase(prosecuting_state_code="MLI", jurisdiction="ordinary",
                            national_reference="PJ-GAO-2021-117", charges="Murder of a peacekeeper",
                            incidents=[incident])  # fmt: skip
        national = JudicialCase(prosecuting_state_code="TCD", jurisdiction="military",
                                incidents=[incident], review_status="pending")  # fmt: skip
        db.add_all([case, national])
        db.flush()
        db.add_all(
            [
                Defendant(case_id=case.id, alias="Ag Intalla", affiliation="Armed group"),
                StageEvent(case_id=case.id, stage="reported", occurred_on=date(2021, 6, 16),
                           note="Complaint lodged with the Gao prosecutor."),
                StageEvent(case_id=case.id, stage="investigation_opened",
                           occurred_on=date(2021, 7, 1), review_status="pending"),
            ]
        )  # fmt: skip
        return World(incident.id, draft.id, case.id, national.id)


def pages_of(role: str, world: World) -> list[str]:
    """The pages each journey goes through, for its role."""
    incident, case = f"/incidents/{world.incident}", f"/cases/{world.case}"
    shared = ["/", "/incidents/", incident, case, "/maps/", "/trends/", "/help/", "/views/"]
    return {
        "officer": [
            *shared, "/incidents/new", f"/incidents/{world.draft}",
            f"/incidents/{world.draft}/edit",
            f"/cases/new?incident={world.incident}", f"{case}/events/new",
            f"{case}/defendants/new", f"/cases/{world.national_case}",
            "/incidents/?status=submitted",
        ],
        "focal_point": [
            *shared, f"/cases/new?incident={world.incident}", f"/cases/{world.national_case}",
            f"/cases/{world.national_case}/defendants/new",
            f"/cases/{world.national_case}/events/new", "/incidents/?q=convoy",
        ],
        "analyst": [*shared, "/incidents/?q=Gao&count=exact", "/help/member_state"],
    }[role]  # fmt: skip


def sideways_overflow(page: Page) -> int:
    """How many pixels the page would scroll sideways (0 when it fits)."""
    width: int = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


def serious_violations(page: Page) -> list[str]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    results = page.evaluate("async () => await window.axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in SERIOUS
    ]


def check(page: Page, path: str, language: str) -> list[str]:
    """What is wrong with the page at both widths: sideways scrolling, axe violations."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(path)
        page.wait_for_load_state("networkidle")
        overflow = sideways_overflow(page)
        if overflow > 0:
            screenshot(page, f"overflow-{language}-{width}-{path.strip('/').replace('/', '-')}")
            problems.append(f"{language} {path} at {width} px scrolls {overflow} px sideways")
    problems += [f"{language} {path}: {v}" for v in serious_violations(page)]
    return problems


@pytest.fixture
def tab(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    yield context.new_page()
    context.close()


def walk(page: Page, role: str, world: World) -> list[str]:
    problems: list[str] = []
    LoginPage(page).sign_in(WALKERS[role])
    for language, button in (("en", "Français"), ("fr", "English")):
        for path in pages_of(role, world):
            problems += check(page, path, language)
        page.goto("/")
        page.get_by_role("button", name=button).click()
    return problems


def test_the_sign_in_pages_fit_and_are_accessible(tab: Page, world: World) -> None:
    problems = check(tab, "/", "en")
    tab.get_by_role("button", name="Français").click()
    problems += check(tab, "/", "fr")
    problems += check(tab, "/auth/login", "fr")
    assert problems == []


@pytest.mark.parametrize("role", list(WALKERS))
def test_every_page_of_the_journeys_fits_and_is_accessible(
    tab: Page, world: World, role: str
) -> None:
    assert AXE.is_file(), "axe-core is installed by `npm ci` (make test does it)"
    assert walk(tab, role, world) == []


def test_leaflets_controls_speak_french_on_french_pages(
    page: Page, world: World, live_server: LiveServer
) -> None:
    LoginPage(page).sign_in(ACCOUNTS["validator"])
    page.goto("/maps/")
    zoom_in = page.locator(".leaflet-control-zoom-in")
    expect(zoom_in).to_have_attribute("title", "Zoom in")
    page.get_by_role("button", name="Français").click()
    expect(page.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "Zoom avant")
    expect(page.locator(".leaflet-control-zoom-out")).to_have_attribute(
        "aria-label", "Zoom arrière"
    )
    page.goto(f"/incidents/{world.draft}/edit")
    picker = page.locator(".point-picker")
    expect(picker.locator(".leaflet-control-zoom-in")).to_have_attribute("title", "Zoom avant")
    # axe-core is the tests' own: no page ever asks capdb for it.
    assert not any("axe" in url for url in live_server.requests)
