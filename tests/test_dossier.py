"""Case dossiers as PDF: the record's sections, in the viewer's scope and language, masked."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from auth import audit
from auth.models import AuditEvent, User
from incidents.models import Comment, Defendant, Incident, JudicialCase, StageEvent, Victim
from incidents.transfer import dossier
from tests.factories import IncidentFactory, LoginAs, UserFactory

VICTIM_NAME = "Aminata Secretname"
VICTIM_ID = "UN-7654321"
DEFENDANT = "Hyena Aliasname"


@pytest.fixture
def incident(db: Session, make_incident: IncidentFactory, make_user: UserFactory) -> Incident:
    incident = make_incident(narrative="A convoy hit an IED north of Aguelhok.")
    db.add_all([
        Victim(incident=incident, category="contingent_military", nationality_code="TCD",
               contributing_country_code="TCD", outcome="killed", name=VICTIM_NAME,
               identifier=VICTIM_ID, date_of_death=date(2021, 3, 14)),
        Victim(incident=incident, category="national_civilian", nationality_code="MLI",
               outcome="injured"),
    ])  # fmt: skip
    officer = make_user("mission", missions=("MINUSMA",), email="officer@capdb.test")
    note = "Convoy of the 2nd battalion."
    db.add(Comment(incident_id=incident.id, author_id=officer.id, body=note))
    db.flush()
    audit.record(db, "update", user=officer, target=incident, detail={"fields": ["narrative"]})
    return incident


@pytest.fixture
def case(db: Session, incident: Incident) -> JudicialCase:
    case = JudicialCase(prosecuting_state_code="MLI", jurisdiction="ordinary", incidents=[incident])
    db.add(case)
    db.flush()
    defendant = Defendant(case_id=case.id, alias=DEFENDANT, identifier="ID-99")
    db.add(defendant)
    db.flush()
    db.add_all([
        StageEvent(case_id=case.id, stage="investigation_opened", occurred_on=date(2021, 4, 1)),
        StageEvent(case_id=case.id, defendant_id=defendant.id, stage="charged",
                   occurred_on=date(2021, 6, 1), note="Charged in Bamako"),
    ])  # fmt: skip
    db.flush()
    return case


def pdf_text(client: FlaskClient, url: str, **headers: str) -> str:
    with client.get(url, headers=headers) as response:
        assert response.status_code == 200, response.status_code
        assert response.mimetype == "application/pdf"
        assert response.headers["Cache-Control"] == "no-store"
        data = response.data
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def test_the_incident_dossier_has_every_section(
    client: FlaskClient, login_as: LoginAs, incident: Incident, case: JudicialCase
) -> None:
    login_as("admin")
    text = pdf_text(client, f"/incidents/{incident.id}/dossier.pdf")
    for section in ("Incident", "Victims by category (2)", "Judicial cases", "Comments",
                    "Audit history"):  # fmt: skip
        assert section in text
    assert f"Dossier of incident {incident.reference}" in text
    assert "Contingent military (1)" in text
    assert "National civilian (1)" in text
    assert "A convoy hit an IED north of Aguelhok." in text
    assert "Investigation opened" in text
    assert "Charged in Bamako" in text
    assert "Convoy of the 2nd battalion." in text
    assert "officer@capdb.test" in text  # the audit trail names who did what for a keeper
    assert VICTIM_NAME in text
    assert VICTIM_ID in text
    assert DEFENDANT in text


def test_an_analyst_sees_no_identity(
    client: FlaskClient, login_as: LoginAs, incident: Incident, case: JudicialCase
) -> None:
    login_as("analyst")
    for url in (f"/incidents/{incident.id}/dossier.pdf", f"/cases/{case.id}/dossier.pdf"):
        text = pdf_text(client, url)
        assert "Victims by category (2)" in text
        assert "withheld" in text
        assert "Defendant 1" in text
        for secret in (VICTIM_NAME, VICTIM_ID, DEFENDANT, "ID-99"):
            assert secret not in text, secret
    # Others' audit entries are not shown, and the mission's comment is signed by role.
    text = pdf_text(client, f"/incidents/{incident.id}/dossier.pdf")
    assert "Mission MINUSMA" in text
    assert "officer@capdb.test" not in text
    assert "Update" not in text


def test_a_member_state_sees_its_nationals_but_not_defendants_it_does_not_prosecute(
    client: FlaskClient, login_as: LoginAs, incident: Incident, case: JudicialCase
) -> None:
    login_as("member_state", state="TCD")
    text = pdf_text(client, f"/incidents/{incident.id}/dossier.pdf")
    assert VICTIM_NAME in text
    assert DEFENDANT not in text
    login_as("member_state", state="MLI")  # prosecutes the case; its victim is Malian too
    text = pdf_text(client, f"/cases/{case.id}/dossier.pdf")
    assert DEFENDANT in text
    assert VICTIM_NAME not in text


def test_the_case_dossier_has_its_case_incidents_and_history(
    client: FlaskClient, login_as: LoginAs, incident: Incident, case: JudicialCase
) -> None:
    login_as("mission", missions=("MINUSMA",))
    text = pdf_text(client, f"/cases/{case.id}/dossier.pdf")
    sections = ("Judicial case", "Stages of the case as a whole", f"Incident {incident.reference}",
                "Victims by category (2)", "Comments", "Audit history")  # fmt: skip
    for section in sections:
        assert section in text
    assert "Prosecuting State Mali" in text
    assert DEFENDANT in text
    assert VICTIM_NAME in text


def test_the_dossier_is_in_the_viewers_language(
    client: FlaskClient, login_as: LoginAs, incident: Incident
) -> None:
    login_as("admin")
    text = pdf_text(client, f"/incidents/{incident.id}/dossier.pdf", **{"Accept-Language": "fr"})
    assert "Engin explosif improvisé" in text
    assert "Militaire de contingent" in text
    assert "Tchad" in text


@pytest.mark.parametrize(
    ("role", "bindings"),
    [("analyst", {}), ("member_state", {"state": "BRA"}), ("mission", {"missions": ("MONUSCO",)})],
)
def test_a_record_out_of_scope_answers_404(
    client: FlaskClient,
    login_as: LoginAs,
    make_incident: IncidentFactory,
    db: Session,
    role: str,
    bindings: dict[str, object],
) -> None:
    draft = make_incident(status="draft")
    case = JudicialCase(prosecuting_state_code="MLI", jurisdiction="ordinary", incidents=[draft])
    db.add(case)
    db.flush()
    login_as(role, **bindings)
    assert client.get(f"/incidents/{draft.id}/dossier.pdf").status_code == 404
    assert client.get(f"/cases/{case.id}/dossier.pdf").status_code == 404
    assert client.get("/incidents/99999999999/dossier.pdf").status_code == 404


def test_each_dossier_is_audited_as_an_export(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    incident: Incident,
    case: JudicialCase,
) -> None:
    user = login_as("member_state", state="TCD")
    pdf_text(client, f"/incidents/{incident.id}/dossier.pdf")
    pdf_text(client, f"/cases/{case.id}/dossier.pdf")
    events = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.target_type) for e in events] == [
        ("view", "incidents"), ("export", "incidents"),
        ("view", "judicial_cases"), ("export", "judicial_cases"),
    ]  # fmt: skip
    assert events[1].detail == {"format": "pdf"}


def test_others_see_only_their_own_audit_entries(
    app: Flask, db: Session, make_user: UserFactory, incident: Incident
) -> None:
    analyst: User = make_user("analyst", email="analyst@capdb.test")
    chad: User = make_user("member_state", state="TCD", email="chad@capdb.test")
    audit.record(db, "view", user=chad, target=incident)
    audit.record(db, "export", user=analyst, target=incident, detail={"format": "pdf"})
    with app.test_request_context():
        seen_by_analyst = dossier.audit_history(db, analyst, "incidents", incident.id, full=False)
        seen_by_chad = dossier.audit_history(db, chad, "incidents", incident.id, full=False)
        seen_by_admin = dossier.audit_history(
            db, make_user("admin"), "incidents", incident.id, full=True
        )
    assert [(line.action, line.actor, line.detail) for line in seen_by_analyst] == [
        ("Export", "analyst@capdb.test", "")
    ]
    assert [(line.action, line.actor) for line in seen_by_chad] == [("View", "chad@capdb.test")]
    assert [line.actor for line in seen_by_admin] == [
        "officer@capdb.test", "chad@capdb.test", "analyst@capdb.test"
    ]  # fmt: skip


def test_a_mission_officer_sees_the_trail_of_its_records_but_not_of_others(
    app: Flask, db: Session, make_user: UserFactory, incident: Incident
) -> None:
    chad: User = make_user("member_state", state="TCD", email="chad@capdb.test")
    audit.record(db, "view", user=chad, target=incident)
    keeper: User = make_user("mission", missions=("MINUSMA",))
    other: User = make_user("mission", missions=("MINUSCA",))
    with app.test_request_context():
        kept = dossier.audit_history(db, keeper, "incidents", incident.id, full=True)
        not_kept = dossier.audit_history(db, other, "incidents", incident.id, full=False)
    assert [line.actor for line in kept] == ["officer@capdb.test", "chad@capdb.test"]
    assert not_kept == []
