"""The verification workflow: draft -> submitted -> validated, and back to draft with a reason."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask, render_template
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth.models import AuditEvent, User
from incidents.errors import NotAllowedError
from incidents.models import Incident
from incidents.recording import service as recording
from incidents.recording import workflow
from tests.factories import IncidentFactory, LoginAs, UserFactory
from tests.test_recording import post


@pytest.fixture
def author(make_user: UserFactory) -> User:
    return make_user("mission", missions=("MINUSMA",), email="author@capdb.test")


@pytest.fixture
def draft(make_incident: IncidentFactory, author: User) -> Incident:
    return make_incident(status="draft", created_by_id=author.id)


def step(client: FlaskClient, incident: Incident, action: str, **data: str) -> TestResponse:
    return post(
        client,
        f"/incidents/{incident.id}/{action}",
        {"version": str(incident.version), **data},
    )


def status_of(db: Session, incident: Incident) -> str:
    db.expire_all()
    return incident.status


def steps_recorded(db: Session, incident: Incident) -> list[tuple[str, str, str]]:
    events = db.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.target_type == "incidents", AuditEvent.target_id == str(incident.id))
        .order_by(AuditEvent.id)
    )
    return [(e.actor, e.detail["workflow"], e.detail["to"]) for e in events]


def test_draft_submitted_validated_by_two_officers(
    client: FlaskClient, login_as: LoginAs, author: User, draft: Incident, db: Session
) -> None:
    login_as(user=author)
    response = step(client, draft, "submit")
    assert response.status_code == 303
    assert response.location == f"/incidents/{draft.id}"
    assert status_of(db, draft) == "submitted"
    assert draft.submitted_by_id == author.id
    assert draft.submitted_at is not None

    reviewer = login_as("mission", missions=("MINUSMA",), email="reviewer@capdb.test")
    assert step(client, draft, "validate").status_code == 303
    assert status_of(db, draft) == "validated"
    assert draft.validated_by_id == reviewer.id
    assert draft.validated_at is not None
    assert steps_recorded(db, draft) == [
        ("author@capdb.test", "submit", "submitted"),
        ("reviewer@capdb.test", "validate", "validated"),
    ]


def test_the_author_cannot_validate_their_own_incident(
    client: FlaskClient, login_as: LoginAs, author: User, draft: Incident, db: Session
) -> None:
    login_as(user=author)
    step(client, draft, "submit")
    db.expire_all()
    assert step(client, draft, "validate").status_code == 403
    assert status_of(db, draft) == "submitted"


def test_the_submitter_cannot_validate_what_they_submitted(
    client: FlaskClient, login_as: LoginAs, draft: Incident, db: Session
) -> None:
    login_as("mission", missions=("MINUSMA",))
    step(client, draft, "submit")
    db.expire_all()
    assert step(client, draft, "validate").status_code == 403
    assert status_of(db, draft) == "submitted"


def test_any_officer_of_the_mission_may_submit(
    client: FlaskClient, login_as: LoginAs, draft: Incident, db: Session
) -> None:
    login_as("mission", missions=("MINUSMA", "MINUSCA"))
    assert step(client, draft, "submit").status_code == 303
    assert status_of(db, draft) == "submitted"


@pytest.mark.parametrize("action", ["submit", "validate", "return"])
def test_an_officer_of_another_mission_gets_404(
    client: FlaskClient, login_as: LoginAs, draft: Incident, db: Session, action: str
) -> None:
    draft.status = "submitted"
    db.flush()
    login_as("mission", missions=("MINUSCA",))
    assert step(client, draft, action, reason="Because").status_code == 404
    assert status_of(db, draft) == "submitted"


@pytest.mark.parametrize("role", ["analyst", "member_state"])
@pytest.mark.parametrize("action", ["submit", "validate", "return"])
def test_analysts_and_member_states_take_no_step(
    client: FlaskClient,
    login_as: LoginAs,
    make_incident: IncidentFactory,
    db: Session,
    role: str,
    action: str,
) -> None:
    # Validated and concerning Mali, so both roles see it: refused with 403. A submitted
    # one they cannot see: 404, as if it did not exist.
    seen = make_incident(status="validated")
    unseen = make_incident(status="submitted")
    login_as(role, state="MLI" if role == "member_state" else None)
    assert step(client, seen, action, reason="Because").status_code == 403
    assert step(client, unseen, action, reason="Because").status_code == 404
    assert (status_of(db, seen), status_of(db, unseen)) == ("validated", "submitted")


def test_an_admin_validates_even_what_they_submitted(
    client: FlaskClient, login_as: LoginAs, draft: Incident, db: Session
) -> None:
    login_as("admin")
    step(client, draft, "submit")
    db.expire_all()
    assert step(client, draft, "validate").status_code == 303
    assert status_of(db, draft) == "validated"


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        ("draft", "validate", "Only a submitted incident can be validated."),
        ("submitted", "submit", "Only a draft can be submitted for validation."),
        ("validated", "submit", "Only a draft can be submitted for validation."),
        ("validated", "validate", "Only a submitted incident can be validated."),
        ("draft", "return", "Only a submitted or validated incident can be returned."),
    ],
)
def test_a_step_the_status_does_not_allow_is_a_conflict(
    client: FlaskClient,
    login_as: LoginAs,
    draft: Incident,
    db: Session,
    status: str,
    action: str,
    message: str,
) -> None:
    draft.status = status
    db.flush()
    login_as("mission", missions=("MINUSMA",))
    response = step(client, draft, action, reason="Because")
    assert response.status_code == 409
    assert message in response.text
    assert status_of(db, draft) == status
    assert steps_recorded(db, draft) == []


def test_return_needs_a_reason_and_the_author_sees_it(
    app: Flask,
    client: FlaskClient,
    login_as: LoginAs,
    author: User,
    draft: Incident,
    db: Session,
) -> None:
    draft.status = "validated"
    db.flush()
    login_as("mission", missions=("MINUSMA",), email="reviewer@capdb.test")
    for blank in ("", "   "):
        refused = step(client, draft, "return", reason=blank)
        assert refused.status_code == 303
        assert status_of(db, draft) == "validated"
    with client.session_transaction() as browser:
        flashes = [message for _category, message in browser["_flashes"]]
    assert "Give the reason for returning the incident." in flashes

    assert (
        step(client, draft, "return", reason="Victims' nationality is missing.").status_code == 303
    )
    assert status_of(db, draft) == "draft"
    assert draft.return_reason == "Victims' nationality is missing."
    assert (draft.validated_at, draft.validated_by_id) == (None, None)
    assert steps_recorded(db, draft) == [("reviewer@capdb.test", "return", "draft")]
    event = db.scalars(sa.select(AuditEvent)).one()
    assert event.detail["reason"] == "Victims' nationality is missing."
    assert "Victims&#39; nationality is missing." in panel(app, author, draft)

    # Submitting again clears the reason (the history keeps it).
    login_as(user=author)
    step(client, draft, "submit")
    now_stored = sa.select(Incident.status, Incident.return_reason).where(Incident.id == draft.id)
    assert db.execute(now_stored).one() == ("submitted", None)


def test_a_step_on_an_outdated_page_does_nothing(
    client: FlaskClient, login_as: LoginAs, draft: Incident, db: Session
) -> None:
    login_as("mission", missions=("MINUSMA",))
    response = post(client, f"/incidents/{draft.id}/submit", {"version": "0"})
    assert response.status_code == 303
    assert status_of(db, draft) == "draft"
    response = post(client, f"/incidents/{draft.id}/submit", {})
    assert response.status_code == 303
    assert status_of(db, draft) == "draft"


@pytest.mark.parametrize("action", ["submit", "validate", "return"])
def test_a_step_without_csrf_token_is_refused(
    client: FlaskClient, login_as: LoginAs, draft: Incident, db: Session, action: str
) -> None:
    login_as("admin")
    data = {"version": "1", "reason": "Because"}
    assert client.post(f"/incidents/{draft.id}/{action}", data=data).status_code == 400
    assert status_of(db, draft) == "draft"


def test_a_step_is_never_taken_on_get(
    client: FlaskClient, login_as: LoginAs, draft: Incident
) -> None:
    login_as("admin")
    assert client.get(f"/incidents/{draft.id}/submit").status_code == 405


# What the incident page shows (incidents/_workflow.html)


def panel(app: Flask, user: User, incident: Incident) -> str:
    """The workflow partial as the user sees it on the incident page."""
    with app.test_request_context():
        return render_template("incidents/_workflow.html", incident=incident, current_user=user)


def test_the_panel_offers_the_steps_each_user_may_take(
    app: Flask, author: User, draft: Incident, make_user: UserFactory, db: Session
) -> None:
    reviewer = make_user("mission", missions=("MINUSMA",))
    page = panel(app, author, draft)
    assert "Submit for validation" in page
    assert f"/incidents/{draft.id}/edit" in page
    assert 'name="version" value="1"' in page
    assert 'name="csrf_token"' in page
    assert "Validate" not in page

    workflow.submit(db, author, draft)
    assert "Validate" not in panel(app, author, draft)
    page = panel(app, reviewer, draft)
    assert "Validate" in page
    assert "Return to draft" in page
    assert f"/incidents/{draft.id}/edit" not in page  # no edits once submitted

    workflow.validate(db, reviewer, draft)
    analyst = make_user("analyst")
    page = panel(app, analyst, draft)
    assert "Validated" in page
    assert "<form" not in page
    assert "/edit" not in page
    assert reviewer.email not in page  # who validated is for the mission's eyes


def test_the_duplicate_link_is_shown_only_if_the_original_is_visible(
    app: Flask, make_incident: IncidentFactory, make_user: UserFactory, db: Session
) -> None:
    original = make_incident(status="draft")
    copy = make_incident(status="validated", duplicate_of_id=original.id)
    officer = make_user("mission", missions=("MINUSMA",))
    assert original.reference in panel(app, officer, copy)
    # An analyst sees validated incidents only: the draft's reference is not disclosed.
    assert original.reference not in panel(app, make_user("analyst"), copy)
    assert "duplicate" not in panel(app, make_user("analyst"), copy)


def test_the_workflow_services_refuse_the_wrong_people(
    db: Session, author: User, draft: Incident, make_user: UserFactory
) -> None:
    outsider = make_user("mission", missions=("MINUSCA",))
    with pytest.raises(NotAllowedError):
        workflow.submit(db, outsider, draft)
    workflow.submit(db, author, draft)
    with pytest.raises(NotAllowedError):
        workflow.validate(db, author, draft)
    with pytest.raises(recording.InvalidTransitionError):
        workflow.submit(db, author, draft)
    with pytest.raises(recording.RecordingError):
        workflow.return_to_draft(db, author, draft, "  ")
    assert draft.status == "submitted"
