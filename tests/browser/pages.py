"""Page objects: what a person does on each capdb page, in their words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PASSWORD, Account

REFERENCE_HEADING = re.compile(r"^Incident [A-Z]+-\d{4}-\d+$")


def flash(page: Page, message: str) -> Locator:
    """The message a page shows after an action (a ``role="status"`` paragraph)."""
    return page.get_by_role("status").filter(has_text=message)


def facts_entry(page: Page, term: str) -> Locator:
    """The value of a ``<dt>term</dt><dd>value</dd>`` pair of the page's facts."""
    return page.locator(f'dl.facts dt:text-is("{term}") + dd')


@dataclass
class LoginPage:
    page: Page

    def sign_in(self, account: Account) -> None:
        self.page.goto("/auth/login")
        self.page.get_by_label("Email").fill(account.email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Continue").click()
        self.page.get_by_label("Six-digit code").fill(account.code())
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def sign_out(self) -> None:
        self.page.get_by_role("button", name="Sign out").click()
        expect(self.page.get_by_role("heading", name="Sign in")).to_be_visible()


@dataclass
class IncidentListPage:
    page: Page

    def open(self, **filters: str) -> IncidentListPage:
        self.page.goto(f"/incidents/?{urlencode(filters)}")
        return self

    def rows(self) -> Locator:
        """The incidents listed, one table row each (the header row left out)."""
        return self.page.locator("table.incidents tbody tr")

    def open_incident(self, reference: str) -> IncidentPage:
        self.page.get_by_role("link", name=reference).click()
        expect(self.page.get_by_role("heading", name=f"Incident {reference}")).to_be_visible()
        return IncidentPage(self.page)

    def record_an_incident(self) -> IncidentFormPage:
        self.page.get_by_role("link", name="Record an incident").click()
        expect(self.page.get_by_role("heading", name="Record an incident")).to_be_visible()
        return IncidentFormPage(self.page)


@dataclass(frozen=True)
class VictimEntry:
    """One victim as an officer describes it; choices by their English labels."""

    category: str
    nationality: str
    outcome: str
    contributing_country: str = "None"
    sex: str = "Not recorded"
    unit: str = ""
    date_of_death: str = ""
    name: str = ""


@dataclass(frozen=True)
class IncidentEntry:
    """What happened, as an officer describes it; choices by their English labels."""

    occurred_on: str
    place: str
    latitude: str
    longitude: str
    means_of_attack: str
    context: str
    location_type: str
    perpetrator: str
    narrative: str = ""
    sources: str = ""


@dataclass
class IncidentFormPage:
    """Recording an incident (or editing a draft) with its victims, on one page."""

    page: Page

    def field(self, label: str) -> Locator:
        return self.page.get_by_label(label, exact=True)

    def describe(self, incident: IncidentEntry) -> None:
        self.field("Date").fill(incident.occurred_on)
        self.field("Place").fill(incident.place)
        self.place_at(incident.latitude, incident.longitude)
        self.field("Means of attack").select_option(label=incident.means_of_attack)
        self.field("Context of the attack").select_option(label=incident.context)
        self.field("Location type").select_option(label=incident.location_type)
        self.field("Perpetrator").select_option(label=incident.perpetrator)
        self.field("Narrative").fill(incident.narrative)
        self.field("Sources").fill(incident.sources)

    def place_at(self, latitude: str, longitude: str) -> None:
        self.field("Latitude").fill(latitude)
        self.field("Longitude").fill(longitude)

    def victim(self, number: int) -> Locator:
        return self.page.get_by_role("group", name=f"Victim {number}", exact=True)

    def add_a_victim(self) -> None:
        """Ask for one more victim row; the page comes back with what was typed kept."""
        rows = self.page.get_by_role("group", name="Victims", exact=True).get_by_role("group")
        count = rows.count()
        self.page.get_by_role("button", name="Add a victim").click()
        expect(self.victim(count + 1)).to_be_visible()

    def fill_victim(self, number: int, victim: VictimEntry) -> None:
        row = self.victim(number)
        row.get_by_label("Personnel category").select_option(label=victim.category)
        row.get_by_label("Nationality").select_option(label=victim.nationality)
        row.get_by_label("Contributing country").select_option(label=victim.contributing_country)
        row.get_by_label("Unit").fill(victim.unit)
        row.get_by_label("Sex").select_option(label=victim.sex)
        row.get_by_label("Outcome").select_option(label=victim.outcome)
        row.get_by_label("Date of death").fill(victim.date_of_death)
        row.get_by_label("Name (optional)").fill(victim.name)

    def save(self) -> IncidentPage:
        self.page.get_by_role("button", name="Save", exact=True).click()
        expect(flash(self.page, "was recorded as a draft")).to_be_visible()
        return IncidentPage(self.page)

    def save_expecting_refusal(self) -> None:
        self.page.get_by_role("button", name="Save", exact=True).click()
        expect(self.page.get_by_role("alert")).to_contain_text(
            "Please correct the fields marked below."
        )

    def error_next_to(self, label: str) -> Locator:
        """The reason shown beside a field the server refused."""
        return self.page.locator(".field", has=self.field(label)).locator(".error")


@dataclass
class IncidentPage:
    page: Page

    def reference(self) -> str:
        heading = self.page.get_by_role("heading", level=1)
        expect(heading).to_have_text(REFERENCE_HEADING)
        return heading.inner_text().removeprefix("Incident ").strip()

    def verification(self) -> Locator:
        return self.page.get_by_role("region", name="Verification")

    def expect_status(self, status: str) -> None:
        expect(self.verification()).to_contain_text(f"Status: {status}")

    def submit_for_validation(self) -> None:
        self.page.get_by_role("button", name="Submit for validation").click()
        expect(flash(self.page, "was submitted for validation")).to_be_visible()

    def validate(self) -> None:
        self.verification().get_by_role("button", name="Validate").click()
        expect(flash(self.page, "was validated")).to_be_visible()

    def victims(self) -> Locator:
        """The victims' table rows, header left out."""
        return self.page.get_by_role("region", name="Victims").locator("tbody tr")

    def judicial_follow_up(self) -> Locator:
        return self.page.get_by_role("region", name="Judicial follow-up")

    def case_row(self, title: str) -> Locator:
        return (
            self.judicial_follow_up()
            .get_by_role("row")
            .filter(has=self.page.get_by_role("link", name=title, exact=True))
        )

    def open_a_case(self) -> CaseFormPage:
        self.judicial_follow_up().get_by_role("link", name="Open a case").click()
        expect(self.page.get_by_role("heading", name="Open a case")).to_be_visible()
        return CaseFormPage(self.page)

    def open_a_national_case(self) -> CaseFormPage:
        """A focal point's "Open a case": its own State prosecutes, pending validation."""
        self.judicial_follow_up().get_by_role("link", name="Open a case").click()
        expect(self.page.get_by_role("heading", name="Open a case")).to_be_visible()
        expect(self.page.get_by_text("Your State prosecutes the cases you open.")).to_be_visible()
        return CaseFormPage(self.page)

    def open_case(self, title: str) -> CasePage:
        self.judicial_follow_up().get_by_role("link", name=title, exact=True).click()
        expect(self.page.get_by_role("heading", name=title, exact=True)).to_be_visible()
        return CasePage(self.page)


@dataclass(frozen=True)
class CaseEntry:
    prosecuting_state: str
    jurisdiction: str
    national_reference: str
    charges: str


@dataclass
class CaseFormPage:
    page: Page

    def open_the_case(self, case: CaseEntry) -> CasePage:
        self.page.get_by_label("Prosecuting State").select_option(label=case.prosecuting_state)
        self.page.get_by_label("Jurisdiction").select_option(label=case.jurisdiction)
        self.page.get_by_label("National case reference").fill(case.national_reference)
        self.page.get_by_label("Charges").fill(case.charges)
        self.page.get_by_role("button", name="Open the case").click()
        expect(flash(self.page, "The case was opened.")).to_be_visible()
        return CasePage(self.page)

    def prosecuting_state_choices(self) -> list[str]:
        options = self.page.get_by_label("Prosecuting State").locator("option")
        return [text.strip() for text in options.all_inner_texts()]


@dataclass(frozen=True)
class StageEntry:
    stage: str
    occurred_on: str
    note: str
    source_document: str = ""


@dataclass
class CasePage:
    page: Page

    def title(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text().strip()

    def current_stage(self) -> Locator:
        return facts_entry(self.page, "Current stage")

    def fact(self, term: str) -> Locator:
        return facts_entry(self.page, term)

    def record_a_stage_link(self) -> Locator:
        return self.page.get_by_role("link", name="Record a stage")

    def record_a_stage(self) -> StageFormPage:
        self.record_a_stage_link().click()
        expect(self.page.get_by_role("heading", name="Record a stage")).to_be_visible()
        return StageFormPage(self.page)

    def stages(self) -> Locator:
        """The rows of the case's stage history (the case as a whole)."""
        return self.page.get_by_role("region", name="Stages").locator("tbody tr")

    def pending_updates(self) -> Locator:
        """The updates waiting for the mission's validation (shown to the mission)."""
        return self.page.get_by_role("region", name="Updates waiting for validation")

    def comments(self) -> Locator:
        return self.page.get_by_role("region", name="Comments and requests for clarification")

    def review_notice(self) -> Locator:
        """The mark of a case that waits for the mission's validation (or was rejected)."""
        return self.page.locator("section.review-notice")

    def validate_the_case(self) -> None:
        self.review_notice().get_by_role("button", name="Validate").click()
        expect(flash(self.page, "It was validated")).to_be_visible()

    def defendants(self) -> Locator:
        return self.page.get_by_role("region", name=re.compile(r"^Defendants")).locator("tbody tr")

    def add_a_defendant(self, alias: str, affiliation: str) -> CasePage:
        self.page.get_by_role("link", name="Add a defendant").click()
        expect(self.page.get_by_role("heading", name="Add a defendant")).to_be_visible()
        self.page.get_by_label("Alias or name").fill(alias)
        self.page.get_by_label("Affiliation").fill(affiliation)
        self.page.get_by_role("button", name="Save", exact=True).click()
        expect(flash(self.page, "The defendant was added.")).to_be_visible()
        return self

    def validate_defendant(self, alias: str) -> None:
        self.defendants().filter(has_text=alias).get_by_role("button", name="Validate").click()
        expect(flash(self.page, "It was validated")).to_be_visible()

    def post_message(self, kind: str, message: str) -> None:
        comments = self.comments()
        comments.get_by_label("Kind").select_option(label=kind)
        comments.get_by_label("Message").fill(message)
        comments.get_by_role("button", name="Post", exact=True).click()
        expect(flash(self.page, "Your message was posted.")).to_be_visible()


@dataclass
class StageFormPage:
    page: Page

    def says_it_stays_pending(self) -> Locator:
        return self.page.get_by_text(
            "Your update will be shown as pending until the mission validates it."
        )

    def record(self, event: StageEntry, *, expect_message: str) -> CasePage:
        self.page.get_by_label("Concerns").select_option(label="The case as a whole")
        self.page.get_by_label("Stage", exact=True).select_option(label=event.stage)
        self.page.get_by_label("Date", exact=True).fill(event.occurred_on)
        self.page.get_by_label("Note").fill(event.note)
        self.page.get_by_label("Source document reference").fill(event.source_document)
        self.page.get_by_role("button", name="Record", exact=True).click()
        expect(flash(self.page, expect_message)).to_be_visible()
        return CasePage(self.page)
