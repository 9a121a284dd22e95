"""What the kept vocabularies and countries change beyond the forms: terms an admin adds are
counted by the kept figures, the filters and the exports; a whole incident sent again keeps
its retired terms; nationalities that are no State concern no State."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from capdb import jobs, vocabulary_terms
from capdb.vocabularies import MEANS_OF_ATTACK, OUTCOME
from incidents.filters import IncidentFilters
from incidents.models import IncidentState
from incidents.reference import terms
from incidents.reference.terms import Labels
from maps.charts import Figures
from maps.figure_upkeep import check
from maps.stats import Period
from tests.api.conftest import ApiAs, errors_of, incident_body, json_of
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory


@pytest.fixture(autouse=True)
def shipped_terms_after() -> Iterator[None]:
    yield
    vocabulary_terms.reset()


def figures_hold(db: Session) -> bool:
    return all(not (d.missing or d.extra) for d in check(db).values())


def test_an_outcome_an_admin_adds_is_counted_by_figures_filters_and_exports(
    api_as: ApiAs,
    db: Session,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
    make_user: UserFactory,
) -> None:
    terms.add_term(db, OUTCOME, "missing", Labels("Missing", "Disparu"), by=None)
    incident = make_incident()
    make_victim(incident, outcome="missing")
    make_victim(make_incident(), outcome="injured")
    assert figures_hold(db)  # the kept sums took the victim in without a bit of its own

    analyst = api_as("analyst")
    figure = json_of(analyst.get("/stats/figures/victims-by-category"))
    assert "Missing" in figure["headers"]
    assert json_of(analyst.get("/stats/summary?outcome=missing"))["incidents"] == 1
    # The kept sums cannot answer that filter: counted from the incidents, the same way.
    filters, errors = IncidentFilters.parse(db, {"outcome": "missing"})
    assert not errors
    user = make_user("analyst")
    kept = Figures(db, user, filters, Period.YEAR, "en").all()
    counted = Figures(db, user, filters, Period.YEAR, "en", kept=False).all()
    assert [f.rows for f in kept] == [f.rows for f in counted]

    with analyst.get("/incidents/export.csv?outcome=missing") as response:
        assert response.status_code == 200
        lines = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    headers, row = lines[0], lines[1]
    assert headers[headers.index("Victims") + 1 : headers.index("Victims") + 6] == [
        "Killed", "Injured", "Abducted", "Detained", "Missing",
    ]  # fmt: skip
    assert row[headers.index("Missing")] == "1"


def test_a_whole_incident_sent_again_keeps_its_retired_terms(api_as: ApiAs, db: Session) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    old = json_of(officer.post("/incidents", json=incident_body(means_of_attack="arson")))
    other = json_of(officer.post("/incidents", json=incident_body()))
    term = terms.term_of(db, MEANS_OF_ATTACK, "arson")
    assert term is not None
    terms.change_term(
        db, MEANS_OF_ATTACK, term, Labels(term.label_en, term.label_fr), retired=True,
        by=None, expected_version=term.version,
    )  # fmt: skip

    def whole(incident: dict[str, object], **changes: object) -> dict[str, object]:
        victims = [
            {k: v for k, v in victim.items() if k != "identifier"}
            for victim in incident["victims"]  # type: ignore[attr-defined]
        ]
        return incident_body(version=incident["version"], victims=victims) | changes

    kept = officer.request(
        "PUT", f"/incidents/{old['id']}", json=whole(old, means_of_attack="arson", place="Gao")
    )
    assert kept.status_code == 200, kept.data
    assert json_of(kept)["means_of_attack"] == "arson"
    refused = officer.request(
        "PUT", f"/incidents/{other['id']}", json=whole(other, means_of_attack="arson")
    )
    assert refused.status_code == 422
    assert errors_of(refused)["means_of_attack"] == [
        "This value is no longer used; choose another."
    ]


def test_stateless_and_undetermined_are_nationalities_not_states(
    api_as: ApiAs, client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    victims = [
        {"category": "national_civilian", "nationality": code, "outcome": "killed"}
        for code in ("XXA", "XXX")
    ]
    recorded = api_as("admin").post("/incidents", json=incident_body(victims=victims))
    assert recorded.status_code == 201, recorded.data
    states = db.scalars(
        sa.select(IncidentState.state).where(IncidentState.incident_id == json_of(recorded)["id"])
    )
    assert set(states) == {"MLI"}  # its host and place; its victims' nationalities, none
    analyst = api_as("analyst")
    assert analyst.get("/incidents?state=XXA").status_code == 400
    assert analyst.get("/incidents?state=YUG").status_code == 200  # a former State
    login_as("analyst")
    page = client.get("/incidents/").text
    assert 'value="XXA"' not in page
    assert 'value="YUG"' in page


def test_the_trends_page_counts_former_states_under_todays_everywhere(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:  # fmt: skip
    incident = make_incident()
    make_victim(incident, nationality_code="YUG", contributing_country_code="YUG", outcome="killed")
    login_as("analyst")
    apart = client.get("/trends/victims-by-nationality.svg")
    together = client.get("/trends/victims-by-nationality.svg?today_states=1")
    assert "Yugoslavia" in apart.text
    assert "Yugoslavia" not in together.text
    assert "Serbia" in together.text
    page = client.get("/trends/?today_states=1").text
    assert "today_states=1" in page  # the charts' images and the saved view's query


def test_a_worker_task_has_the_terms_as_admins_keep_them_now(app: Flask, db: Session) -> None:
    seen: list[bool] = []

    def work() -> None:
        seen.append("drone" in MEANS_OF_ATTACK)

    task = jobs.register_task(app, work, name="tests.kept_terms")
    terms.add_term(db, MEANS_OF_ATTACK, "drone", Labels("Armed drone", "Drone armé"), by=None)
    vocabulary_terms.reset()  # a worker that loaded the terms before the admin's change
    assert "drone" not in MEANS_OF_ATTACK
    task.call_local()
    assert seen == [True]
