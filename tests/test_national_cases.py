"""National cases: a Member State's focal point opens a case on an incident concerning its
State, adds defendants and stages; all wait, pending, until the mission validates them.

The incident is a validated MINUSMA incident in Mali with a Chadian contingent soldier
among its victims: it concerns Mali (host and country) and Chad (contributor). Chad's
focal point opens the case; a MINUSMA officer reviews it.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth import tokens
from auth.models import AuditEvent, User
from incidents.errors import NotAllowedError
from incidents.justice import review
from incidents.models import Defendant, Incident, JudicialCase
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory
from tests.test_cases import count, new_case, open_form, post_form, valid_case
from tests.test_i18n import csrf_token


@pytest.fixture
def incident(make_incident: IncidentFactory, make_victim: VictimFactory) -> Incident:
    incident = make_incident(occurred_on=date(2021, 3, 14))
    make_victim(incident, nationality_code="TCD", contributing_country_code="TCD")
    return incident


def audited(db: Session, target_type: str, target_id: int) -> list[AuditEvent]:
    return list(
        db.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.target_type == target_type, AuditEvent.target_id == str(target_id))
            .order_by(AuditEvent.id)
        )
    )


def test_a_focal_point_opens_a_case_its_state_prosecutes_pending_validation(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    chad = login_as("member_state", state="TCD")
    form = client.get(open_form(incident))
    assert form.status_code == 200
    # Its own State is the only choice, chosen already.
    assert '<option selected value="TCD">Chad</option>' in form.text
    assert 'value="MLI"' not in form.text
    assert "Your State prosecutes the cases you open." in form.text
    refused = post_form(client, open_form(incident), valid_case(prosecuting_state="MLI"))
    assert refused.status_code == 422
    assert 'id="prosecuting_state-error"' in refused.text
    assert count(db, JudicialCase) == 0

    response = post_form(client, open_form(incident), valid_case(prosecuting_state="TCD"))
    assert response.status_code == 302
    case = db.scalars(sa.select(JudicialCase)).one()
    assert (case.prosecuting_state_code, case.review_status) == ("TCD", "pending")
    assert case.created_by_id == chad.id
    (created,) = [e for e in audited(db, "judicial_cases", case.id) if e.action == "create"]
    assert created.user_id == chad.id
    assert created.detail["review_status"] == "pending"
    page = client.get(f"/cases/{case.id}").text
    assert '<strong class="review-mark">Pending validation</strong>' in page
    assert "Add a defendant" in page
    assert "Record a stage" in page
    assert "Validate" not in page  # Chad does not review its own entries
    panel = client.get(f"/incidents/{incident.id}").text
    assert 'class="review-mark">Pending validation<' in panel


@pytest.mark.parametrize(
    ("role", "bindings", "status"),
    [
        ("mission", {"missions": ("MINUSMA",)}, 200),
        ("admin", {}, 200),
        ("member_state", {"state": "TCD"}, 200),  # prosecutes it
        ("member_state", {"state": "MLI"}, 404),  # sees the incident, not the pending case
        ("analyst", {}, 404),
        ("mission", {"missions": ("MONUSCO",)}, 404),
    ],
)
def test_a_pending_case_is_seen_by_its_keepers_and_its_prosecutor_only(
    client: FlaskClient,
    db: Session,
    incident: Incident,
    login_as: LoginAs,
    role: str,
    bindings: dict[str, str],
    status: int,
) -> None:
    case = new_case(db, incident, state="TCD", review_status="pending")
    login_as(role, **bindings)
    assert client.get(f"/cases/{case.id}").status_code == status
    listed = f"/cases/{case.id}" in client.get(f"/incidents/{incident.id}").text
    assert listed == (status == 200)


def test_the_prosecuting_state_adds_a_pending_defendant(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    case = new_case(db, incident, state="TCD", review_status="pending")
    chad = login_as("member_state", state="TCD")
    response = post_form(client, f"/cases/{case.id}/defendants/new", {"alias": "Abou K"})
    assert response.status_code == 302
    defendant = db.scalars(sa.select(Defendant)).one()
    assert (defendant.review_status, defendant.created_by_id) == ("pending", chad.id)
    page = client.get(f"/cases/{case.id}").text
    assert "Abou K" in page
    assert page.count('class="review-mark">Pending validation<') == 2  # the case, the defendant
    (created,) = audited(db, "defendants", defendant.id)
    assert created.detail == {"case": case.id, "review_status": "pending"}


def test_a_mission_officer_validates_the_case_and_its_defendant(
    client: FlaskClient,
    db: Session,
    incident: Incident,
    login_as: LoginAs,
    make_user: UserFactory,
) -> None:
    case = new_case(db, incident, state="TCD", review_status="pending")
    defendant = Defendant(case_id=case.id, alias="Abou K", review_status="pending")
    db.add(defendant)
    db.flush()
    officer = login_as("mission", missions=("MINUSMA",))
    page = client.get(f"/cases/{case.id}").text
    assert f'action="/cases/{case.id}/validate"' in page
    assert f'action="/cases/{case.id}/defendants/{defendant.id}/validate"' in page
    token = csrf_token(page)
    for path in (
        f"/cases/{case.id}/validate",
        f"/cases/{case.id}/defendants/{defendant.id}/validate",
    ):
        assert client.post(path, data={"csrf_token": token}).status_code == 302
    db.refresh(case)
    db.refresh(defendant)
    assert (case.review_status, case.reviewed_by_id) == ("validated", officer.id)
    assert (defendant.review_status, defendant.reviewed_by_id) == ("validated", officer.id)
    assert audited(db, "judicial_cases", case.id)[-1].detail == {"review": "validated"}
    assert audited(db, "defendants", defendant.id)[-1].detail["review"] == "validated"
    # Validated twice: a reason, never a second change.
    again = client.post(f"/cases/{case.id}/validate", data={"csrf_token": token})
    assert again.status_code == 302
    assert "This was already reviewed." in client.get(f"/cases/{case.id}").text
    # Now everyone who sees the incident sees the case, unmarked.
    mali = make_user("member_state", state="MLI")
    login_as(user=mali)
    seen = client.get(f"/cases/{case.id}")
    assert seen.status_code == 200
    assert "review-mark" not in seen.text


def test_a_rejection_needs_a_reason_and_is_shown_to_the_prosecuting_state(
    client: FlaskClient,
    db: Session,
    incident: Incident,
    login_as: LoginAs,
    make_user: UserFactory,
) -> None:
    case = new_case(db, incident, state="TCD", review_status="pending")
    login_as("mission", missions=("MINUSMA",))
    token = csrf_token(client.get(f"/cases/{case.id}").text)
    empty = client.post(f"/cases/{case.id}/reject", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 422
    assert 'id="reason-case-error"' in empty.text
    db.refresh(case)
    assert case.review_status == "pending"
    reason = "The incident of 14 March is prosecuted in Mali already."
    rejected = client.post(f"/cases/{case.id}/reject", data={"csrf_token": token, "reason": reason})
    assert rejected.status_code == 302
    db.refresh(case)
    assert (case.review_status, case.review_reason) == ("rejected", reason)
    login_as(user=make_user("member_state", state="TCD"))
    page = client.get(f"/cases/{case.id}").text
    assert '<strong class="review-mark">Rejected</strong>' in page
    assert reason in page
    login_as(user=make_user("analyst"))
    assert client.get(f"/cases/{case.id}").status_code == 404


def test_who_reviews(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    case = new_case(db, incident, state="TCD", review_status="pending")
    login_as("member_state", state="TCD")
    token = csrf_token(client.get(f"/cases/{case.id}").text)
    # The prosecuting State sees its case but does not validate it.
    assert client.post(f"/cases/{case.id}/validate", data={"csrf_token": token}).status_code == 403
    login_as("member_state", state="MLI")
    token = csrf_token(client.get("/assistance/").text)
    assert client.post(f"/cases/{case.id}/validate", data={"csrf_token": token}).status_code == 404
    db.refresh(case)
    assert case.review_status == "pending"


def test_a_focal_point_opens_a_case_through_the_api_and_the_mission_validates_it(
    client: FlaskClient, db: Session, incident: Incident, make_user: UserFactory
) -> None:
    def bearer(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.create(db, user)[1]}"}

    chad = bearer(make_user("member_state", state="TCD"))
    body = {"incidents": [incident.id], "prosecuting_state": "TCD", "jurisdiction": "military"}
    opened = client.post("/api/v1/cases", json=body, headers=chad)
    assert opened.status_code == 201, opened.json
    assert opened.json is not None
    assert opened.json["review_status"] == "pending"
    case_id = opened.json["id"]
    added = client.post(f"/api/v1/cases/{case_id}/defendants", json={"alias": "K"}, headers=chad)
    assert added.status_code == 201
    assert added.json is not None
    assert added.json["review_status"] == "pending"
    officer = bearer(make_user("mission", missions=("MINUSMA",)))
    assert client.post(f"/api/v1/cases/{case_id}/validate", headers=chad).status_code == 403
    validated = client.post(f"/api/v1/cases/{case_id}/validate", headers=officer)
    assert validated.status_code == 200
    assert validated.json is not None
    assert validated.json["review_status"] == "validated"
    again = client.post(f"/api/v1/cases/{case_id}/validate", headers=officer)
    assert again.status_code == 409
    path = f"/api/v1/cases/{case_id}/defendants/{added.json['id']}/reject"
    assert client.post(path, json={"reason": ""}, headers=officer).status_code == 422
    rejected = client.post(path, json={"reason": "Not this one."}, headers=officer)
    assert rejected.status_code == 200
    assert rejected.json is not None
    assert rejected.json["review_status"] == "rejected"
    analyst = bearer(make_user("analyst"))
    listed = client.get(f"/api/v1/cases/{case_id}/defendants", headers=analyst)
    assert listed.json == {"items": []}


def test_the_review_verbs_refuse_what_the_policy_denies(
    db: Session, incident: Incident, make_user: UserFactory
) -> None:
    case = new_case(db, incident, state="TCD", review_status="pending")
    chad = make_user("member_state", state="TCD")
    with pytest.raises(NotAllowedError):
        review.validate(db, chad, case, at=case.created_at)
    assert case.review_status == "pending"
