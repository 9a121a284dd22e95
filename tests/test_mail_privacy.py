"""No personal data in any mail: on the demo data, validations, stage changes and requests
for clarification are mailed (at once and in digests), and every message is scanned for
the seeded victims' and defendants' names, the narratives and the comments."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from auth.models import User
from capdb.mail import outbox
from demo.seed import seed_demo
from incidents import policy
from incidents.comments import threads
from incidents.justice import stages
from incidents.models import Comment, Defendant, Incident, JudicialCase, Victim
from incidents.recording import workflow
from notifications import delivery
from notifications.models import NotificationDefault
from tests.mailbox import Mailbox


def user(db: Session, email: str) -> User:
    return db.scalars(sa.select(User).where(User.email == email)).one()


def happenings(app: Flask, db: Session) -> None:
    """Validations, a stage change and a request, by the demo accounts."""
    officer = user(db, "minusma@capdb.example")
    validator = user(db, "minusma.validator@capdb.example")
    chad = user(db, "chad@capdb.example")
    minusma = db.scalars(
        sa.select(Incident).where(Incident.mission_code == "MINUSMA").order_by(Incident.id)
    ).all()
    with app.test_request_context():
        for incident in minusma[:10]:
            incident.status, incident.created_by_id = "submitted", officer.id
            incident.submitted_by_id = officer.id
            db.flush()
            workflow.validate(db, validator, incident)
        case = db.scalars(
            sa.select(JudicialCase)
            .join(JudicialCase.incidents)
            .where(Incident.mission_code == "MINUSMA")
            .limit(1)
        ).first()
        if case is not None:
            fields = stages.EventFields(stage="appeal", occurred_on=date.today())
            stages.add_stage_event(db, validator, case, fields, on_day=date.today())
        for incident in minusma:
            if policy.may_comment(chad, incident):
                threads.post_comment(
                    db, chad, incident, kind="clarification_request", body="Who was the driver?"
                )
                break
    db.commit()


def test_no_mail_carries_a_seeded_name_a_narrative_or_a_comment(
    app: Flask, db: Session, mailbox: Mailbox
) -> None:
    config = app.extensions["capdb.config"]
    app.extensions["capdb.config"] = config.replace(mail_url=mailbox.url)
    seed_demo(db, 120, 2589)
    db.add(NotificationDefault(role="mission", kind="clarification_requested", delivery="daily"))
    db.commit()
    happenings(app, db)
    with app.app_context():
        delivery.deliver_immediate()
        delivery.send_digest("daily")
        outbox.send_due()
    assert len(mailbox.received) >= 3
    secrets = set(db.scalars(sa.select(Victim.name).where(Victim.name.is_not(None))))
    secrets |= set(db.scalars(sa.select(Victim.identifier).where(Victim.identifier.is_not(None))))
    secrets |= set(db.scalars(sa.select(Defendant.alias)))
    secrets |= {n for n in db.scalars(sa.select(Incident.narrative)) if n}
    secrets |= set(db.scalars(sa.select(Comment.body)))
    assert len(secrets) > 50
    for mail in mailbox.received:
        for part in (mail.subject, mail.text, mail.html):
            leaked = [secret for secret in secrets if secret and secret in part]
            assert leaked == [], mail.subject
