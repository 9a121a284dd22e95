"""Vocabularies and countries that admins keep: labels changed, terms added without a
release and retired rather than deleted; nationalities that are no State, and former States
counted under today's on request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth import accounts
from auth.models import AuditEvent
from capdb import vocabulary_terms
from capdb.reference import Country
from capdb.vocabularies import MEANS_OF_ATTACK, OUTCOME, PERSONNEL_CATEGORY
from incidents.models import Incident
from incidents.recording import rules
from incidents.reference import terms
from incidents.reference.terms import Labels
from incidents.transfer.columns import vocabulary_lookup
from tests.api.conftest import ApiAs, errors_of, json_of
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory
from tests.test_admin_users import post_form
from tests.test_i18n import csrf_token


@pytest.fixture(autouse=True)
def shipped_terms_after() -> Iterator[None]:
    """The process's vocabularies go back to the shipped terms once the test's are rolled
    back."""
    yield
    vocabulary_terms.reset()


def incident_body(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "mission": "MINUSMA",
        "occurred_on": "2021-03-14",
        "place": "Aguelhok",
        "means_of_attack": "ied",
        "attack_context": "convoy",
        "location_type": "road",
        "perpetrator_type": "armed_group",
        "victims": [],
    }
    return body | changes


def test_an_admin_adds_a_term_used_at_once_without_a_release(api_as: ApiAs, db: Session) -> None:
    officer = api_as("mission", missions=("MINUSMA",))
    refused = officer.post("/incidents", json=incident_body(means_of_attack="drone"))
    assert refused.status_code == 422
    assert "means_of_attack" in errors_of(refused)
    admin = api_as("admin")
    added = admin.post(
        "/vocabularies/means_of_attack/terms",
        json={"code": "drone", "label_en": "Armed drone", "label_fr": "Drone armé"},
    )
    assert added.status_code == 201, added.data
    listed = json_of(officer.get("/vocabularies"))["vocabularies"]["means_of_attack"]
    assert listed["kept"] is True
    assert {"code": "drone", "en": "Armed drone", "fr": "Drone armé", "retired": False} | {
        "version": json_of(added)["version"]
    } in listed["terms"]
    recorded = officer.post("/incidents", json=incident_body(means_of_attack="drone"))
    assert recorded.status_code == 201, recorded.data
    assert db.get_one(Incident, json_of(recorded)["id"]).means_of_attack == "drone"
    # A spreadsheet names it by its label too.
    assert vocabulary_lookup(MEANS_OF_ATTACK)["armed drone"] == "drone"
    entry = db.scalar(sa.select(AuditEvent).where(AuditEvent.target_type == "vocabulary_terms"))
    assert entry is not None
    assert (entry.action, entry.target_id) == ("create", "means_of_attack:drone")


def test_a_retired_term_stays_on_old_records_only(
    api_as: ApiAs, db: Session, make_incident: IncidentFactory
) -> None:
    old = make_incident(means_of_attack="arson", status="draft")
    admin = api_as("admin")
    term = terms.term_of(db, MEANS_OF_ATTACK, "arson")
    assert term is not None
    retired = admin.patch(
        "/vocabularies/means_of_attack/terms/arson", json={"version": term.version, "retired": True}
    )
    assert retired.status_code == 200, retired.data
    assert MEANS_OF_ATTACK.is_retired("arson")
    assert "arson" not in {t.code for t in MEANS_OF_ATTACK.active()}
    refused = admin.post("/incidents", json=incident_body(means_of_attack="arson"))
    assert errors_of(refused)["means_of_attack"] == [
        "This value is no longer used; choose another."
    ]
    kept = admin.patch(f"/incidents/{old.id}", json={"version": old.version, "place": "Gao"})
    assert kept.status_code == 200, kept.data
    assert json_of(kept)["means_of_attack"] == "arson"


def test_the_form_keeps_a_retired_term_on_its_record(
    client: FlaskClient, db: Session, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    incident = make_incident(means_of_attack="arson", status="draft")
    term = terms.term_of(db, MEANS_OF_ATTACK, "arson")
    assert term is not None
    terms.change_term(
        db, MEANS_OF_ATTACK, term, Labels(term.label_en, term.label_fr), retired=True, by=None,
        expected_version=term.version,
    )  # fmt: skip
    login_as("mission", missions=("MINUSMA",))
    edit = client.get(f"/incidents/{incident.id}/edit").text
    assert "Arson (retired)" in edit
    new = client.get("/incidents/new").text
    assert 'value="arson"' not in new


def test_terms_the_figures_count_are_never_retired(api_as: ApiAs, db: Session) -> None:
    term = terms.term_of(db, OUTCOME, "killed")
    assert term is not None
    refused = api_as("admin").patch(
        "/vocabularies/outcome/terms/killed", json={"version": term.version, "retired": True}
    )
    assert refused.status_code == 422
    assert "retired" in errors_of(refused)


def test_labels_change_and_a_stale_change_is_refused(api_as: ApiAs, db: Session) -> None:
    admin = api_as("admin")
    term = terms.term_of(db, MEANS_OF_ATTACK, "rpg")
    assert term is not None
    version = term.version
    changed = admin.patch(
        "/vocabularies/means_of_attack/terms/rpg",
        json={"version": version, "label_en": "RPG", "label_fr": "Lance-roquettes (RPG)"},
    )
    assert changed.status_code == 200, changed.data
    assert MEANS_OF_ATTACK.label("rpg", "fr") == "Lance-roquettes (RPG)"
    stale = admin.patch(
        "/vocabularies/means_of_attack/terms/rpg", json={"version": version, "label_en": "Again"}
    )
    assert stale.status_code == 409
    duplicate = admin.patch(
        "/vocabularies/means_of_attack/terms/rpg",
        json={"version": json_of(changed)["version"], "label_en": "Hand grenade"},
    )
    assert "label_en" in errors_of(duplicate)


@pytest.mark.parametrize("role", ["mission", "analyst", "member_state"])
def test_only_admins_keep_vocabularies_and_countries(api_as: ApiAs, role: str) -> None:
    client = api_as(role)
    body = {"code": "drone", "label_en": "Drone", "label_fr": "Drone"}
    assert client.post("/vocabularies/means_of_attack/terms", json=body).status_code == 403
    assert client.patch("/countries/FRA", json={"version": 1, "name_en": "X"}).status_code == 403
    assert client.get("/countries").status_code == 200


def test_fixed_vocabularies_are_not_kept(api_as: ApiAs) -> None:
    body = {"code": "approved", "label_en": "Approved", "label_fr": "Approuvé"}
    assert (
        api_as("admin").post("/vocabularies/verification_status/terms", json=body).status_code
        == 404
    )


def test_a_new_uniformed_category_needs_a_contributing_country(db: Session) -> None:
    terms.add_term(
        db, PERSONNEL_CATEGORY, "corrections_officer",
        Labels("Government-provided corrections officer", "Agent pénitentiaire fourni"),
        uniformed=True, by=None,
    )  # fmt: skip
    assert "corrections_officer" in PERSONNEL_CATEGORY.uniformed
    problem = rules.contributing_country_problem("corrections_officer", None)
    assert problem is not None


def test_nationality_takes_stateless_and_undetermined_counted_as_such(
    api_as: ApiAs, make_incident: IncidentFactory, make_victim: VictimFactory
) -> None:
    admin = api_as("admin")
    victims = [
        {"category": "national_civilian", "nationality": "XXX", "outcome": "killed"},
        {"category": "national_civilian", "nationality": "XXA", "outcome": "killed"},
    ]
    recorded = admin.post("/incidents", json=incident_body(victims=victims))
    assert recorded.status_code == 201, recorded.data
    nowhere = admin.post("/incidents", json=incident_body(country="XXA"))
    assert "country" in errors_of(nowhere)
    figure = json_of(admin.get("/stats/figures/victims-by-nationality"))
    labels = [row[0] for row in figure["rows"]]
    assert "Nationality undetermined" in labels
    assert "Stateless" in labels


def test_former_states_count_under_todays_on_request(
    api_as: ApiAs, make_incident: IncidentFactory, make_victim: VictimFactory
) -> None:
    old = make_incident(occurred_on=date(2021, 3, 14))
    make_victim(old, nationality_code="YUG", contributing_country_code="YUG", outcome="killed")
    make_victim(old, nationality_code="SRB", contributing_country_code="SRB", outcome="killed")
    admin = api_as("admin")
    apart = json_of(admin.get("/stats/figures/victims-by-nationality"))
    assert {row[0] for row in apart["rows"]} >= {"Yugoslavia", "Serbia"}
    together = json_of(admin.get("/stats/figures/victims-by-nationality?today_states=true"))
    names = [row[0] for row in together["rows"]]
    assert "Yugoslavia" not in names
    serbia = next(row for row in together["rows"] if row[0] == "Serbia")
    assert 2 in serbia


def test_each_field_takes_its_kinds_of_country(db: Session, api_as: ApiAs) -> None:
    admin = api_as("admin")
    case = admin.post(
        "/cases", json={"prosecuting_state": "YUG", "jurisdiction": "ordinary", "incidents": []}
    )
    assert "prosecuting_state" in errors_of(case)
    with pytest.raises(accounts.AccountError) as refused:
        accounts.create_user(
            db, email="zaire@capdb.test", role="member_state", missions=[], state="ZAR",
            password="a long enough passphrase 42",
        )  # fmt: skip
    assert "state" in refused.value.problems
    assert db.get_one(Country, "ZAR").successor_code == "COD"


def test_the_admin_pages_keep_terms_and_countries(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("admin")
    assert client.get("/admin/vocabularies").status_code == 200
    page = client.get("/admin/vocabularies/means_of_attack").text
    added = client.post(
        "/admin/vocabularies/means_of_attack/new",
        data={"csrf_token": csrf_token(page), "code": "drone", "label_en": "Armed drone",
              "label_fr": "Drone armé"},
    )  # fmt: skip
    assert added.status_code == 302, added.text
    assert "drone" in MEANS_OF_ATTACK
    country = db.get_one(Country, "CIV")
    saved = post_form(
        client, "/admin/countries/CIV",
        {"name_en": "Côte d'Ivoire", "name_fr": "Côte d’Ivoire", "version": str(country.version)},
    )  # fmt: skip
    assert saved.status_code == 302, saved.text
    db.expire_all()
    assert db.get_one(Country, "CIV").name_fr == "Côte d’Ivoire"
    assert db.get_one(Country, "CIV").curated
    login_as("analyst")
    assert client.get("/admin/vocabularies/means_of_attack").status_code == 403
