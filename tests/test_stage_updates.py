"""Progress updates from the prosecuting State: pending until the mission reviews them.

The case is on a MINUSMA incident in Mali and is prosecuted by Niger; Niger's focal
point reports progress, a MINUSMA officer (or an admin) validates or rejects it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth.models import AuditEvent, User
from incidents.errors import InputError, NotAllowedError
from incidents.justice import stages
from incidents.models import Incident, JudicialCase, StageEvent
from tests.factories import IncidentFactory, LoginAs, UserFactory
from tests.test_cases import new_case, new_defendant, new_event, post_form
from tests.test_i18n import csrf_token


@pytest.fixture
def incident(make_incident: IncidentFactory) -> Incident:
    return make_incident(occurred_on=date(2021, 3, 14))


@pytest.fixture
def case(db: Session, incident: Incident) -> JudicialCase:
    case = new_case(db, incident, state="NER")
    new_event(db, case, "investigation_opened", date(2021, 4, 1))
    stages.recompute_stages(db, case)
    return case


def report(client: FlaskClient, case: JudicialCase, **values: str) -> TestResponse:
    data = {"stage": "charged", "occurred_on": "2021-09-01", "note": "Indictment filed"} | values
    return post_form(client, f"/cases/{case.id}/events/new", data)


def review(
    client: FlaskClient, case: JudicialCase, event: StageEvent, action: str, **data: str
) -> TestResponse:
    token = csrf_token(client.get(f"/cases/{case.id}").text)
    return client.post(
        f"/cases/{case.id}/events/{event.id}/{action}", data={**data, "csrf_token": token}
    )


def only_event(db: Session, stage: str) -> StageEvent:
    return db.scalars(sa.select(StageEvent).where(StageEvent.stage == stage)).one()


def test_the_prosecuting_state_posts_a_pending_update_that_changes_no_stage(
    client: FlaskClient, db: Session, case: JudicialCase, login_as: LoginAs
) -> None:
    focal = login_as("member_state", state="NER")
    form = client.get(f"/cases/{case.id}/events/new")
    assert form.status_code == 200
    assert "pending until the mission validates it" in form.text
    # A posted review status is not a field of the form: it changes nothing.
    response = report(client, case, review_status="validated", entered_by_id="1")
    assert response.status_code == 302
    event = only_event(db, "charged")
    assert (event.review_status, event.entered_by_id) == ("pending", focal.id)
    db.refresh(case)
    assert case.current_stage == "investigation_opened"
    page = client.get(f"/cases/{case.id}").text
    assert "Indictment filed" in page
    assert "<strong>Pending validation</strong>" in page


def test_pending_updates_show_only_to_reviewers_and_the_reporting_state(
    client: FlaskClient, db: Session, case: JudicialCase, login_as: LoginAs
) -> None:
    new_event(db, case, "charged", date(2021, 9, 1), status="pending", note="Not yet checked")
    login_as("analyst")
    assert "Not yet checked" not in client.get(f"/cases/{case.id}").text
    login_as("member_state", state="MLI")  # sees the case through its incident
    assert "Not yet checked" not in client.get(f"/cases/{case.id}").text
    login_as("mission", missions=("MINUSMA",))
    page = client.get(f"/cases/{case.id}").text
    assert "Updates waiting for validation (1)" in page
    assert "Not yet checked" in page


@pytest.mark.parametrize(
    ("role", "bindings"), [("mission", {"missions": ("MINUSMA",)}), ("admin", {})]
)
def test_a_reviewer_validates_an_update_and_the_stage_changes(
    client: FlaskClient,
    db: Session,
    case: JudicialCase,
    login_as: LoginAs,
    role: str,
    bindings: dict[str, Any],
) -> None:
    pending = new_event(db, case, "charged", date(2021, 9, 1), status="pending")
    reviewer = login_as(role, **bindings)
    assert review(client, case, pending, "validate").status_code == 302
    db.refresh(pending)
    db.refresh(case)
    assert pending.review_status == "validated"
    assert pending.reviewed_by_id == reviewer.id
    assert pending.reviewed_at is not None
    assert case.current_stage == "charged"
    audited = db.scalars(
        sa.select(AuditEvent.detail).where(
            AuditEvent.target_type == "stage_events", AuditEvent.target_id == str(pending.id)
        )
    ).all()
    assert {"case": case.id, "review": "validated"} in audited
    # Reviewed once: a second validation changes nothing and says so.
    again = review(client, case, pending, "validate")
    assert again.status_code == 302
    assert "This update was already reviewed." in client.get(again.location).text


def test_a_validated_defendant_update_moves_that_defendant(
    client: FlaskClient, db: Session, case: JudicialCase, login_as: LoginAs
) -> None:
    accused = new_defendant(db, case)
    login_as("member_state", state="NER")
    assert report(client, case, subject=str(accused.id), stage="arrested").status_code == 302
    pending = only_event(db, "arrested")
    db.refresh(accused)
    assert (pending.defendant_id, accused.current_stage) == (accused.id, None)
    login_as("mission", missions=("MINUSMA",))
    review(client, case, pending, "validate")
    db.refresh(accused)
    db.refresh(case)
    assert accused.current_stage == "arrested"
    assert case.current_stage == "arrested"


def test_a_rejection_needs_a_reason_and_never_counts(
    client: FlaskClient, db: Session, case: JudicialCase, login_as: LoginAs
) -> None:
    pending = new_event(db, case, "convicted", date(2021, 9, 1), status="pending")
    reviewer = login_as("mission", missions=("MINUSMA",))
    without = review(client, case, pending, "reject", reason="   ")
    assert without.status_code == 422
    assert f'id="reason-{pending.id}-error"' in without.text
    assert "Say why the update is rejected." in without.text
    db.refresh(pending)
    assert pending.review_status == "pending"
    rejected = review(client, case, pending, "reject", reason="No judgment in the file")
    assert rejected.status_code == 302
    db.refresh(pending)
    db.refresh(case)
    assert (pending.review_status, pending.review_reason) == (
        "rejected",
        "No judgment in the file",
    )
    assert pending.reviewed_by_id == reviewer.id
    assert case.current_stage == "investigation_opened"
    # The reporting State sees the rejection and its reason.
    login_as("member_state", state="NER")
    page = client.get(f"/cases/{case.id}").text
    assert "<strong>Rejected</strong>" in page
    assert "No judgment in the file" in page


def test_only_reviewers_review(
    client: FlaskClient, db: Session, case: JudicialCase, login_as: LoginAs
) -> None:
    pending = new_event(db, case, "charged", date(2021, 9, 1), status="pending")
    for role, bindings, status in (
        ("member_state", {"state": "NER"}, 403),  # not its own updates
        # See the case but not a State's pending update on it: out of their scope.
        ("member_state", {"state": "MLI"}, 404),
        ("analyst", {}, 404),
        ("mission", {"missions": ("MONUSCO",)}, 404),  # does not see the case
    ):
        login_as(role, **bindings)
        token = csrf_token(client.get("/assistance/").text)
        for action in ("validate", "reject"):
            response = client.post(
                f"/cases/{case.id}/events/{pending.id}/{action}",
                data={"csrf_token": token, "reason": "because"},
            )
            assert response.status_code == status, (role, bindings, action)
    db.refresh(pending)
    assert pending.review_status == "pending"


def test_other_states_may_not_report_progress(
    client: FlaskClient, db: Session, case: JudicialCase, login_as: LoginAs
) -> None:
    login_as("member_state", state="MLI")  # hosts the mission: sees the case
    assert client.get(f"/cases/{case.id}/events/new").status_code == 403
    token = csrf_token(client.get(f"/cases/{case.id}").text)
    data = {"stage": "charged", "occurred_on": "2021-09-01", "csrf_token": token}
    assert client.post(f"/cases/{case.id}/events/new", data=data).status_code == 403
    login_as("member_state", state="BRA")  # unrelated: the case does not exist for it
    assert client.get(f"/cases/{case.id}/events/new").status_code == 404
    data["csrf_token"] = csrf_token(client.get("/assistance/").text)
    assert client.post(f"/cases/{case.id}/events/new", data=data).status_code == 404
    assert db.scalar(sa.select(sa.func.count()).select_from(StageEvent)) == 1


def test_a_prosecuting_state_reports_on_a_case_it_alone_sees(
    client: FlaskClient, db: Session, make_incident: IncidentFactory, login_as: LoginAs
) -> None:
    # Brazil prosecutes; the incident concerns Mali alone.
    case = new_case(db, make_incident(occurred_on=date(2021, 3, 14)), state="BRA")
    login_as("member_state", state="BRA")
    assert report(client, case).status_code == 302
    assert only_event(db, "charged").review_status == "pending"


def test_the_service_keeps_the_review_rules(
    db: Session, case: JudicialCase, make_user: UserFactory
) -> None:
    pending = new_event(db, case, "charged", date(2021, 9, 1), status="pending")
    focal: User = make_user("member_state", state="NER")
    keeper: User = make_user("mission", missions=("MINUSMA",))
    now = pending.created_at
    with pytest.raises(NotAllowedError):
        stages.validate_update(db, focal, pending, at=now)
    with pytest.raises(InputError) as refused:
        stages.reject_update(db, keeper, pending, "", at=now)
    assert "reason" in refused.value.problems
    stages.reject_update(db, keeper, pending, "Unsupported", at=now)
    with pytest.raises(InputError):
        stages.validate_update(db, keeper, pending, at=now)
    assert case.current_stage == "investigation_opened"
