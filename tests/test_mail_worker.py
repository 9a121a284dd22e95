"""Notifications through a real job worker (``flask jobs worker``) to a real SMTP listener.

The page commits the validation and its notifications; the worker, a process of its own,
writes the mails and hands them to the listener. A notification whose word to the worker
was lost (a crash right after the commit) is found by the worker's minute round.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from auth.models import User
from capdb.mail.models import OutboxMessage
from incidents.models import Incident, Victim
from notifications.models import Notification
from tests.conftest import config_for
from tests.factories import incident_values
from tests.live import migrated_app, writing_session
from tests.mailbox import Mailbox
from tests.test_i18n import csrf_token
from tests.test_jobs import WORKER_OPTIONS, sign_in

ROOT = Path(__file__).resolve().parent.parent
# The periodic sender runs at the top of every minute; a loaded machine may take a while
# to start the worker or to run its round.
MINUTE_ROUND_SECONDS = 150
WAIT_SECONDS = 120


@dataclass
class Site:
    app: Flask
    mailbox: Mailbox

    def session(self) -> AbstractContextManager[Session]:
        return writing_session(self.app)


@pytest.fixture(scope="module")
def site(
    make_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    box = Mailbox()
    box.start()
    url = make_database_url("mail")
    instance = tmp_path_factory.mktemp("mail-instance")
    config = config_for(url, instance).replace(mail_url=box.url)
    app = migrated_app(config)
    environment = {
        **os.environ,
        "CAPDB_ENV": "test",
        "CAPDB_DATABASE_URL": url,
        "CAPDB_SECRET_KEY": config.secret_key,
        "CAPDB_INSTANCE_PATH": str(instance),
        "CAPDB_MAIL_URL": box.url,
    }
    log = instance / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", *WORKER_OPTIONS],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    yield Site(app, box)
    worker.send_signal(signal.SIGINT)
    try:
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    box.stop()
    app.extensions["capdb.db"].engine.dispose()


def focal_point(site: Site, email: str, state: str, locale: str) -> None:
    with site.session() as session, session.begin():
        session.add(
            User(
                email=email,
                password_hash="x",
                role="member_state",
                state_code=state,
                locale=locale,
            )
        )


def submitted_incident(site: Site, author_id: int) -> Incident:
    with site.session() as session, session.begin():
        incident = Incident(
            **incident_values(status="submitted", created_by_id=author_id, narrative="Secret")
        )
        session.add(incident)
        session.flush()
        session.add(
            Victim(
                incident_id=incident.id,
                category="contingent_military",
                nationality_code="NER",
                outcome="injured",
                name="Moussa Issoufou",
            )
        )
    return incident


def test_a_validation_on_the_page_is_mailed_by_the_worker(site: Site) -> None:
    focal_point(site, "focal@niger.test", "NER", "fr")
    _author, author_id = sign_in(site, "mission", missions=("MINUSMA",))  # type: ignore[arg-type]
    validator, _ = sign_in(site, "mission", missions=("MINUSMA",))  # type: ignore[arg-type]
    incident = submitted_incident(site, author_id)
    page = validator.get(f"/incidents/{incident.id}").text
    answer = validator.post(
        f"/incidents/{incident.id}/validate",
        data={"csrf_token": csrf_token(page), "version": str(incident.version)},
    )
    assert answer.status_code == 303, answer.text
    niger = site.mailbox.wait_for_mail_to("focal@niger.test", WAIT_SECONDS)
    assert len(niger) == 1
    assert niger[0].subject == f"[capdb] {incident.reference} (MINUSMA) : validé"
    assert "Moussa" not in niger[0].text
    assert "Secret" not in niger[0].text


def test_a_notification_whose_word_to_the_worker_was_lost_is_mailed_anyway(site: Site) -> None:
    focal_point(site, "lost@niger.test", "NER", "en")
    _client, author_id = sign_in(site, "mission", missions=("MINUSMA",))  # type: ignore[arg-type]
    incident = submitted_incident(site, author_id)
    with site.session() as session, session.begin():
        # Committed with no word to the worker, as if the process died right after the commit.
        session.execute(
            sa.update(Incident).where(Incident.id == incident.id).values(status="validated")
        )
        user_id = session.scalar(sa.select(User.id).where(User.email == "lost@niger.test"))
        session.add(
            Notification(
                user_id=user_id,
                kind="incident_validated",
                incident_id=incident.id,
                reference=incident.reference,
                mission_code="MINUSMA",
                delivery="immediate",
            )
        )
    (mail,) = site.mailbox.wait_for_mail_to("lost@niger.test", MINUTE_ROUND_SECONDS)
    assert mail.subject == f"[capdb] {incident.reference} (MINUSMA): validated"
    # Marked sent right after the server accepted it.
    deadline = time.monotonic() + WAIT_SECONDS
    while (status := outbox_status(site, "lost@niger.test")) != "sent":
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def outbox_status(site: Site, recipient: str) -> str | None:
    with site.session() as session:
        return session.scalar(
            sa.select(OutboxMessage.status).where(OutboxMessage.recipient == recipient)
        )
