"""The journeys of "Incidents and the justice pipeline", in a real browser.

An officer of MINUSMA records an attack that killed a Chadian peacekeeper and injured a
Malian civilian colleague, and opens the case that Mali prosecutes; a second officer
validates the incident; Chad's focal point follows the case and asks for clarification;
Mali's focal point reports progress, which waits for the mission's validation.

The journeys build on one another in the module's database, in order. Every page is
checked on the way for requests to other hosts and for errors in the browser's console,
where Content-Security-Policy violations are reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import ConsoleMessage, Error, Page, Response, expect

from tests.browser.conftest import ACCOUNTS, LiveServer, screenshot
from tests.browser.pages import (
    CaseEntry,
    IncidentEntry,
    IncidentListPage,
    LoginPage,
    StageEntry,
    VictimEntry,
)

UNPROCESSABLE = 422
FAILED_TO_LOAD = "Failed to load resource: the server responded with a status of 422"

ATTACK = IncidentEntry(
    occurred_on="2021-06-15",
    place="Tarkint road, north of Gao",
    latitude="16.9",
    longitude="0.1",
    means_of_attack="Improvised explosive device",
    context="Attack on a convoy",
    location_type="Road or supply route",
    perpetrator="Non-state armed group",
    narrative="A logistics convoy struck an IED 40 km north of Gao.",
    sources="Sector East flash report of 15 June 2021.",
)
CHADIAN_PEACEKEEPER = VictimEntry(
    category="Contingent military",
    nationality="Chad",
    contributing_country="Chad",
    outcome="Killed",
    sex="Male",
    unit="Chadian battalion, Tessalit",
    date_of_death="2021-06-15",
    name="Adoum Mahamat",
)
MALIAN_CIVILIAN = VictimEntry(
    category="National civilian",
    nationality="Mali",
    outcome="Injured",
    sex="Female",
    name="Awa Coulibaly",
)
CASE = CaseEntry(
    prosecuting_state="Mali",
    jurisdiction="Ordinary court",
    national_reference="PJ-GAO-2021-117",
    charges="Murder of a peacekeeper; attempted murder; criminal association.",
)
REPORTED = StageEntry(
    stage="Reported to authorities",
    occurred_on="2021-06-16",
    note="Complaint lodged by the mission with the Gao public prosecutor.",
    source_document="MINUSMA/LEG/2021/88",
)
INVESTIGATION = StageEntry(
    stage="Investigation opened",
    occurred_on="2021-07-01",
    note="The specialised judicial unit opened an investigation.",
    source_document="PJS/2021/0413",
)
CHAD_CASE = CaseEntry(
    prosecuting_state="Chad",
    jurisdiction="Military court",
    national_reference="TM-NDJ-2021-031",
    charges="Murder of a Chadian peacekeeper on mission.",
)
CHAD_DEFENDANT = ("Ag Intalla", "Armed group of the Gao region")
CHAD_COMPLAINT = StageEntry(
    stage="Reported to authorities",
    occurred_on="2021-06-20",
    note="The Chadian military prosecutor registered the complaint of the family.",
    source_document="TM/2021/031",
)


Journey = Callable[[Page, "Story"], None]


@dataclass
class Story:
    """What the journeys left for the next ones, in this module's database.

    The journeys run in order on one worker (pytest-xdist's ``--dist loadfile`` keeps a
    module together). Its default distribution may send a journey to another worker, with
    its own server and database, where the earlier ones did not run: that worker then
    takes them first (:meth:`catch_up`).
    """

    reference: str = ""
    case_title: str = ""
    national_case_title: str = ""
    started: set[Journey] = field(default_factory=set)
    completed: set[Journey] = field(default_factory=set)

    def take(self, journey: Journey, page: Page) -> None:
        self.started.add(journey)
        journey(page, self)
        self.completed.add(journey)

    def catch_up(self, page: Page, *earlier: Journey) -> None:
        for journey in earlier:
            if journey in self.completed:
                continue
            if journey in self.started:
                pytest.fail(f"{journey.__name__} failed; this journey builds on it", pytrace=False)
            self.take(journey, page)


@dataclass
class Console:
    """What a tab's console reported as errors (Content-Security-Policy violations among
    them), and the uncaught exceptions of its scripts.

    A form refused with its reasons answers 422, which the browser notes as a resource
    that failed to load: for such a page, and no other, that note is not an error.
    """

    messages: list[tuple[str, str]] = field(default_factory=list)
    refused_forms: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, page: Page) -> Console:
        console = cls()
        page.on("console", console.on_message)
        page.on("pageerror", console.on_exception)
        page.on("response", console.on_response)
        return console

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append((message.text, message.location.get("url", "")))

    def on_exception(self, error: Error) -> None:
        self.messages.append((f"uncaught: {error.message}", ""))

    def on_response(self, response: Response) -> None:
        if response.status == UNPROCESSABLE and response.request.resource_type == "document":
            self.refused_forms.add(response.url)

    @property
    def errors(self) -> list[str]:
        return [
            f"{text} ({url})"
            for text, url in self.messages
            if not (url in self.refused_forms and text.startswith(FAILED_TO_LOAD))
        ]


@pytest.fixture(scope="module")
def story() -> Story:
    return Story()


@pytest.fixture
def console(page: Page) -> Console:
    return Console.of(page)


def assert_offline_and_quiet(live_server: LiveServer, console: Console) -> None:
    assert live_server.foreign_requests() == []
    assert console.errors == []


# The journeys ------------------------------------------------------------------------------


def officer_records_incident_and_opens_case(page: Page, story: Story) -> None:
    login = LoginPage(page)
    login.sign_in(ACCOUNTS["officer"])
    form = IncidentListPage(page).open().record_an_incident()
    form.describe(ATTACK)
    form.place_at("123", ATTACK.longitude)
    form.fill_victim(1, CHADIAN_PEACEKEEPER)
    form.add_a_victim()
    form.fill_victim(2, MALIAN_CIVILIAN)

    form.save_expecting_refusal()
    expect(form.error_next_to("Latitude")).to_have_text("A latitude is between -90 and 90.")
    expect(form.field("Latitude")).to_have_attribute("aria-invalid", "true")
    expect(form.field("Longitude")).not_to_have_attribute("aria-invalid", "true")
    expect(form.victim(2).get_by_label("Name (optional)")).to_have_value(MALIAN_CIVILIAN.name)

    form.place_at(ATTACK.latitude, ATTACK.longitude)
    incident = form.save()
    incident.expect_status("Draft")
    story.reference = incident.reference()
    listed = IncidentListPage(page).open(q=ATTACK.place)
    expect(listed.rows()).to_have_count(1)  # the refused attempt saved nothing

    incident = listed.open_incident(story.reference)
    expect(incident.victims()).to_have_count(2)
    incident.submit_for_validation()
    incident.expect_status("Submitted")
    # Another officer validates: its author is not offered the step.
    expect(incident.verification().get_by_role("button", name="Validate")).to_have_count(0)

    case = incident.open_a_case().open_the_case(CASE)
    expect(case.current_stage()).to_have_text("No stage yet")
    story.case_title = case.title()
    case = case.record_a_stage().record(REPORTED, expect_message="The stage was recorded.")
    expect(case.current_stage()).to_have_text(REPORTED.stage)
    expect(case.fact("Prosecuting State")).to_have_text(CASE.prosecuting_state)
    expect(case.fact("Jurisdiction")).to_have_text(CASE.jurisdiction)
    expect(case.fact("Incidents")).to_contain_text(story.reference)
    expect(case.stages().filter(has_text=REPORTED.stage)).to_contain_text("Validated")
    screenshot(page, "journey-1-case")
    login.sign_out()


def validator_validates_incident(page: Page, story: Story) -> None:
    login = LoginPage(page)
    login.sign_in(ACCOUNTS["validator"])
    submitted = IncidentListPage(page).open(status="submitted")
    expect(submitted.rows().filter(has_text=story.reference)).to_have_count(1)
    incident = submitted.open_incident(story.reference)
    incident.expect_status("Submitted")
    incident.validate()
    incident.expect_status("Validated")
    expect(incident.case_row(story.case_title)).to_contain_text(REPORTED.stage)
    screenshot(page, "journey-2-validated")
    login.sign_out()


def chad_follows_case_and_asks_for_clarification(page: Page, story: Story) -> None:
    login = LoginPage(page)
    login.sign_in(ACCOUNTS["focal_point"])
    listed = IncidentListPage(page).open()
    expect(listed.rows().filter(has_text=story.reference)).to_have_count(1)
    incident = listed.open_incident(story.reference)
    # Chad sees its own national's name; the Malian colleague's is withheld.
    expect(incident.victims().filter(has_text=CHADIAN_PEACEKEEPER.name)).to_have_count(1)
    expect(incident.victims().filter(has_text="Mali")).to_contain_text("withheld")
    expect(incident.victims().filter(has_text=MALIAN_CIVILIAN.name)).to_have_count(0)
    row = incident.case_row(story.case_title)
    expect(row).to_contain_text(CASE.prosecuting_state)
    expect(row).to_contain_text(REPORTED.stage)

    case = incident.open_case(story.case_title)
    expect(case.current_stage()).to_have_text(REPORTED.stage)
    # Chad does not prosecute the case: it follows it, it does not report on it.
    expect(case.record_a_stage_link()).to_have_count(0)
    refused = page.request.get(page.url.rstrip("/") + "/events/new")
    assert refused.status == 403
    refused.dispose()
    question = "Has a suspect been identified? Chad asks to be kept informed of any arrest."
    case.post_message("Request for clarification", question)
    entry = case.comments().get_by_role("listitem").filter(has_text=question)
    expect(entry).to_contain_text(ACCOUNTS["focal_point"].email)
    expect(entry).to_contain_text("Request for clarification")
    expect(entry).to_contain_text("open")
    screenshot(page, "journey-3-focal-point")
    login.sign_out()


def mali_reports_progress_pending_validation(page: Page, story: Story) -> None:
    login = LoginPage(page)
    login.sign_in(ACCOUNTS["mali_focal"])
    incident = IncidentListPage(page).open().open_incident(story.reference)
    case = incident.open_case(story.case_title)
    event_form = case.record_a_stage()
    expect(event_form.says_it_stays_pending()).to_be_visible()
    case = event_form.record(
        INVESTIGATION,
        expect_message="Your update was recorded; it counts once the mission validates it.",
    )
    expect(case.stages().filter(has_text=INVESTIGATION.stage)).to_contain_text("Pending validation")
    expect(case.current_stage()).to_have_text(REPORTED.stage)
    login.sign_out()

    # The same validator signed in moments ago: a code is accepted once (Account.code).
    login.sign_in(ACCOUNTS["validator"])
    incident = IncidentListPage(page).open().open_incident(story.reference)
    expect(incident.case_row(story.case_title)).to_contain_text(REPORTED.stage)
    case = incident.open_case(story.case_title)
    pending = case.pending_updates()
    expect(pending).to_contain_text("Updates waiting for validation (1)")
    expect(pending.locator("tbody tr")).to_have_count(1)
    expect(pending).to_contain_text(INVESTIGATION.stage)
    expect(pending).to_contain_text(ACCOUNTS["mali_focal"].email)
    expect(pending.get_by_role("button", name="Validate")).to_be_visible()
    expect(case.current_stage()).to_have_text(REPORTED.stage)
    screenshot(page, "journey-4-pending")
    login.sign_out()


def chad_opens_a_national_case_pending_validation(page: Page, story: Story) -> None:
    login = LoginPage(page)
    login.sign_in(ACCOUNTS["focal_point"])
    incident = IncidentListPage(page).open().open_incident(story.reference)
    form = incident.open_a_national_case()
    assert form.prosecuting_state_choices() == [CHAD_CASE.prosecuting_state]
    case = form.open_the_case(CHAD_CASE)
    expect(page.get_by_role("status").filter(has_text="It stays pending")).to_be_visible()
    expect(case.review_notice()).to_contain_text("Pending validation")
    story.national_case_title = case.title()
    case = case.add_a_defendant(*CHAD_DEFENDANT)
    expect(case.defendants().filter(has_text=CHAD_DEFENDANT[0])).to_contain_text(
        "Pending validation"
    )
    case = case.record_a_stage().record(
        CHAD_COMPLAINT,
        expect_message="Your update was recorded; it counts once the mission validates it.",
    )
    expect(case.stages().filter(has_text=CHAD_COMPLAINT.stage)).to_contain_text(
        "Pending validation"
    )
    screenshot(page, "journey-5-national-case")
    login.sign_out()

    # Mali sees the incident but not Chad's case until the mission validates it.
    login.sign_in(ACCOUNTS["mali_focal"])
    incident = IncidentListPage(page).open().open_incident(story.reference)
    expect(incident.judicial_follow_up()).not_to_contain_text(story.national_case_title)
    login.sign_out()

    login.sign_in(ACCOUNTS["validator"])
    incident = IncidentListPage(page).open().open_incident(story.reference)
    expect(incident.case_row(story.national_case_title)).to_contain_text("Pending validation")
    case = incident.open_case(story.national_case_title)
    case.validate_the_case()
    expect(case.review_notice()).to_have_count(0)
    case.validate_defendant(CHAD_DEFENDANT[0])
    expect(case.defendants().filter(has_text=CHAD_DEFENDANT[0])).not_to_contain_text("Pending")
    case.pending_updates().get_by_role("button", name="Validate").click()
    expect(case.current_stage()).to_have_text(CHAD_COMPLAINT.stage)
    login.sign_out()

    login.sign_in(ACCOUNTS["mali_focal"])
    incident = IncidentListPage(page).open().open_incident(story.reference)
    expect(incident.case_row(story.national_case_title)).to_contain_text(CHAD_COMPLAINT.stage)
    expect(incident.case_row(story.national_case_title)).not_to_contain_text("Pending")
    login.sign_out()


# The tests, in order -----------------------------------------------------------------------


def test_officer_records_an_incident_with_two_victims_and_opens_a_case(
    page: Page, live_server: LiveServer, console: Console, story: Story
) -> None:
    story.take(officer_records_incident_and_opens_case, page)
    assert_offline_and_quiet(live_server, console)


def test_second_officer_finds_the_submitted_incident_and_validates_it(
    page: Page, live_server: LiveServer, console: Console, story: Story
) -> None:
    story.catch_up(page, officer_records_incident_and_opens_case)
    story.take(validator_validates_incident, page)
    assert_offline_and_quiet(live_server, console)


def test_chad_follows_the_case_without_reporting_on_it_and_asks_for_clarification(
    page: Page, live_server: LiveServer, console: Console, story: Story
) -> None:
    story.catch_up(page, officer_records_incident_and_opens_case, validator_validates_incident)
    story.take(chad_follows_case_and_asks_for_clarification, page)
    assert_offline_and_quiet(live_server, console)


def test_mali_reports_progress_that_waits_for_the_missions_validation(
    page: Page, live_server: LiveServer, console: Console, story: Story
) -> None:
    story.catch_up(page, officer_records_incident_and_opens_case, validator_validates_incident)
    story.take(mali_reports_progress_pending_validation, page)
    assert_offline_and_quiet(live_server, console)


def test_chad_opens_a_national_case_that_the_mission_validates(
    page: Page, live_server: LiveServer, console: Console, story: Story
) -> None:
    story.catch_up(
        page,
        officer_records_incident_and_opens_case,
        validator_validates_incident,
        mali_reports_progress_pending_validation,
    )
    story.take(chad_opens_a_national_case_pending_validation, page)
    assert_offline_and_quiet(live_server, console)
