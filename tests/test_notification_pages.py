"""The notifications page and its unread count, the mail settings, unsubscribing from a
mail, and the administrators' defaults and outgoing mail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from capdb.mail import outbox
from capdb.mail.models import OutboxMessage
from notifications.delivery import unsubscribe_url
from notifications.models import Notification, NotificationDefault, NotificationPreference
from tests.factories import IncidentFactory, LoginAs, UserFactory
from tests.test_i18n import csrf_token


def notify(db: Session, user: User, incident_id: int, kind: str = "incident_validated") -> int:
    notification = Notification(
        user_id=user.id,
        kind=kind,
        incident_id=incident_id,
        reference="MINUSMA-2021-0042",
        mission_code="MINUSMA",
        delivery="immediate",
    )
    db.add(notification)
    db.flush()
    return notification.id


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None) -> object:
    token = csrf_token(client.get("/notifications").text)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def test_the_page_lists_the_users_notifications_and_the_header_counts_the_unread(
    client: FlaskClient, login_as: LoginAs, db: Session, make_incident: IncidentFactory,
    make_user: UserFactory,
) -> None:  # fmt: skip
    user = login_as("member_state", state="TCD")
    seen = make_incident()  # validated in Mali, hosted by Mali: not Chad's
    chadian = make_incident(country_code="TCD")
    notify(db, user, chadian.id)
    notify(db, user, seen.id)  # out of the user's sight: neither listed nor counted
    notify(db, make_user("member_state", state="TCD"), chadian.id)  # someone else's
    page = client.get("/notifications").text
    assert page.count("MINUSMA-2021-0042") == 1
    assert 'class="badge" aria-label="1 unread">1</span>' in page


def test_opening_a_notification_marks_it_read_and_leads_to_the_record(
    client: FlaskClient, login_as: LoginAs, db: Session, make_incident: IncidentFactory,
    make_user: UserFactory,
) -> None:  # fmt: skip
    user = login_as("member_state", state="TCD")
    incident = make_incident(country_code="TCD")
    mine = notify(db, user, incident.id)
    theirs = notify(db, make_user("member_state", state="TCD"), incident.id)
    response = post(client, f"/notifications/{mine}/open")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response.location == f"/incidents/{incident.id}"  # type: ignore[attr-defined]
    db.expire_all()
    assert db.get_one(Notification, mine).read_at is not None
    assert post(client, f"/notifications/{theirs}/open").status_code == 404  # type: ignore[attr-defined]
    notify(db, user, incident.id)
    post(client, "/notifications/read")
    assert db.scalar(sa.select(sa.func.count()).where(Notification.read_at.is_(None))) == 1


def test_a_user_chooses_per_kind_and_a_wrong_choice_changes_nothing(
    client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    user = login_as("member_state", state="TCD")
    page = client.get("/notifications/settings").text
    assert "An incident concerning my State is validated" in page
    assert "An incident of my mission is submitted" not in page  # not a State's event
    token = csrf_token(page)
    form = {"csrf_token": token, "incident_validated": "weekly", "stage_changed": "never"}
    form |= {"locale": "fr"}
    assert client.post("/notifications/settings", data=form).status_code == 302
    chosen = dict(
        db.execute(
            sa.select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    assert chosen["incident_validated"] == "weekly"
    assert chosen["stage_changed"] == "never"
    db.refresh(user)
    assert user.locale == "fr"
    bad = client.post("/notifications/settings", data=form | {"incident_validated": "hourly"})
    assert bad.status_code == 422
    assert "Not a valid choice" in bad.text


def test_the_unsubscribe_link_stops_that_kind_of_mail_without_signing_in(
    app: Flask, client: FlaskClient, db: Session, make_user: UserFactory
) -> None:
    user = make_user("member_state", state="TCD")
    with app.app_context():
        link = unsubscribe_url(user, ["incident_validated"])
    path = link.removeprefix("http://127.0.0.1:5000")
    page = client.get(path)
    assert page.status_code == 200
    assert "An incident concerning my State is validated" in page.text
    client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert db.get_one(NotificationPreference, (user.id, "incident_validated")).delivery == "never"
    assert client.get(path[:-3] + "xyz").status_code == 404


def test_only_admins_set_the_defaults_and_each_change_is_audited(
    client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    login_as("member_state", state="TCD")
    assert client.get("/notifications/defaults").status_code == 403
    login_as("admin")
    token = csrf_token(client.get("/notifications/defaults").text)
    form = {"csrf_token": token, "member_state-incident_validated": "daily"}
    assert client.post("/notifications/defaults", data=form).status_code == 302
    found = db.get_one(NotificationDefault, ("member_state", "incident_validated"))
    assert found.delivery == "daily"
    entry = db.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert entry is not None
    assert entry.detail["notification_defaults"] == "member_state"
    bad = client.post("/notifications/defaults", data=form | {"mission-update_pending": "x"})
    assert bad.status_code == 422


@pytest.mark.parametrize("role", ["member_state", "mission", "analyst"])
def test_only_admins_see_the_outgoing_mail(
    client: FlaskClient, login_as: LoginAs, role: str
) -> None:
    login_as(role)
    assert client.get("/notifications/mail").status_code == 403


def test_admins_see_failed_mail_and_send_it_again(
    app: Flask, client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    login_as("admin")
    with app.app_context():
        message = outbox.queue_mail(
            db, outbox.Mail("focal@chad.test", "Subject", "Text", "<p>Html</p>", "notification")
        )
    message.status, message.attempts, message.last_error = "failed", 8, "421 try later"
    db.flush()
    page = client.get("/notifications/mail").text
    assert "focal@chad.test" in page
    assert "421 try later" in page
    token = csrf_token(page)
    client.post(f"/notifications/mail/{message.id}/send-again", data={"csrf_token": token})
    db.expire_all()
    assert db.get_one(OutboxMessage, message.id).status == "pending"
