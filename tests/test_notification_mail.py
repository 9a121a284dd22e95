"""Notifications by mail, through a real SMTP listener: at once in the recipient's
language, gathered in digests, never with a name or a narrative, never about a record the
recipient no longer sees."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from auth.models import User
from capdb.mail import outbox
from incidents.models import Incident
from incidents.recording import workflow
from notifications import delivery
from notifications.models import Notification, NotificationPreference
from tests.factories import IncidentFactory, MovableClock, UserFactory, VictimFactory
from tests.mailbox import Mailbox

VICTIM_NAME = "Adoum Mahamat"
NARRATIVE = "A logistics convoy struck an IED north of Gao."


@pytest.fixture
def smtp_app(app: Flask, mailbox: Mailbox) -> Flask:
    config = app.extensions["capdb.config"]
    app.extensions["capdb.config"] = config.replace(
        mail_url=mailbox.url, base_url="https://capdb.example.org"
    )
    return app


@pytest.fixture
def validator(make_user: UserFactory) -> User:
    return make_user("mission", email="validator@minusma.test")


@pytest.fixture
def chad_fr(make_user: UserFactory, db: Session) -> User:
    user = make_user("member_state", state="TCD", email="focal@chad.test")
    user.locale = "fr"
    db.flush()
    return user


@pytest.fixture
def mali_en(make_user: UserFactory) -> User:
    return make_user("member_state", state="MLI", email="focal@mali.test")


def an_incident(make_incident: IncidentFactory, make_victim: VictimFactory) -> Incident:
    incident = make_incident(status="submitted", narrative=NARRATIVE)
    make_victim(incident, nationality_code="TCD", name=VICTIM_NAME, identifier="TCD-4471")
    return incident


def validate(app: Flask, db: Session, user: User, incident: Incident) -> None:
    with app.test_request_context():
        workflow.validate(db, user, incident)
    db.commit()


def run(app: Flask, job: str = "immediate") -> None:
    with app.app_context():
        if job == "immediate":
            delivery.deliver_immediate()
        else:
            delivery.send_digest(job)
        outbox.send_due()


def test_a_validation_is_mailed_at_once_to_each_focal_point_in_its_language(
    smtp_app: Flask,
    db: Session,
    mailbox: Mailbox,
    validator: User,
    chad_fr: User,
    mali_en: User,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:
    incident = an_incident(make_incident, make_victim)
    validate(smtp_app, db, validator, incident)
    run(smtp_app)
    (french,) = mailbox.to("focal@chad.test")
    (english,) = mailbox.to("focal@mali.test")
    assert len(mailbox.received) == 2
    assert french.subject == f"[capdb] {incident.reference} (MINUSMA) : validé"
    assert english.subject == f"[capdb] {incident.reference} (MINUSMA): validated"
    link = f"https://capdb.example.org/incidents/{incident.id}"
    for mail in (french, english):
        assert link in mail.text
        assert f'href="{link}"' in mail.html
        assert mail.message["List-Unsubscribe"].startswith(
            "<https://capdb.example.org/notifications/unsubscribe/"
        )
    assert "L'ouvrir dans capdb" in french.text
    # Each notification is mailed once.
    run(smtp_app)
    assert len(mailbox.received) == 2


def test_no_mail_carries_a_name_an_identifier_or_the_narrative(
    smtp_app: Flask,
    db: Session,
    mailbox: Mailbox,
    validator: User,
    chad_fr: User,
    mali_en: User,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:
    incident = an_incident(make_incident, make_victim)
    validate(smtp_app, db, validator, incident)
    db.add(NotificationPreference(user_id=mali_en.id, kind="incident_validated", delivery="daily"))
    db.commit()
    run(smtp_app)
    run(smtp_app, "daily")
    assert len(mailbox.received) >= 1
    for mail in mailbox.received:
        for body in (mail.text, mail.html, mail.subject):
            for secret in (VICTIM_NAME, "Mahamat", "TCD-4471", NARRATIVE, "convoy"):
                assert secret not in body


def test_a_weekly_digest_gathers_the_weeks_events_in_one_mail(
    smtp_app: Flask,
    db: Session,
    mailbox: Mailbox,
    validator: User,
    chad_fr: User,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
    clock: MovableClock,
) -> None:
    db.add(NotificationPreference(user_id=chad_fr.id, kind="incident_validated", delivery="weekly"))
    db.flush()
    incidents = []
    for day in range(5):
        clock.offset = timedelta(days=day)
        incident = an_incident(make_incident, make_victim)
        validate(smtp_app, db, validator, incident)
        incidents.append(incident)
    run(smtp_app)  # nothing is due at once
    assert mailbox.received == []
    clock.offset = timedelta(days=7)
    run(smtp_app, "weekly")
    (digest,) = mailbox.received
    assert digest.subject == "[capdb] Votre récapitulatif hebdomadaire : 5 notifications"
    for incident in incidents:
        assert f"{incident.reference} (MINUSMA) : validé" in digest.text
        assert f"/incidents/{incident.id}" in digest.html
    run(smtp_app, "weekly")
    assert len(mailbox.received) == 1


def test_a_record_out_of_sight_by_mail_time_is_left_out(
    smtp_app: Flask,
    db: Session,
    mailbox: Mailbox,
    validator: User,
    chad_fr: User,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:
    incident = an_incident(make_incident, make_victim)
    validate(smtp_app, db, validator, incident)
    incident.status = "draft"  # returned before the worker came round
    db.commit()
    run(smtp_app)
    assert mailbox.received == []
    assert db.scalar(sa.select(Notification.mailed_at)) is not None


def test_never_by_mail_still_lists_the_notification(
    smtp_app: Flask,
    db: Session,
    mailbox: Mailbox,
    validator: User,
    chad_fr: User,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:
    db.add(NotificationPreference(user_id=chad_fr.id, kind="incident_validated", delivery="never"))
    incident = an_incident(make_incident, make_victim)
    validate(smtp_app, db, validator, incident)
    for job in ("immediate", "daily", "weekly"):
        run(smtp_app, job)
    assert mailbox.received == []
    assert db.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1
