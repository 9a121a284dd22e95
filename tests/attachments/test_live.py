"""Attachments with real parts around them: a job worker process extracting the text of an
uploaded document, and a backup restored into another capdb with its files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from auth import tokens
from auth.models import User
from incidents.attachments.models import Attachment, AttachmentFile
from incidents.models import Incident
from tests import factories
from tests.attachments import samples
from tests.attachments.helpers import multipart
from tests.factories import incident_values
from tests.test_backup import Site
from tests.test_backup import make_site as make_site  # a capdb on a database of its own
from tests.test_i18n import csrf_token
from tests.test_jobs import WAIT_SECONDS, sign_in
from tests.test_jobs import Site as JobSite
from tests.test_jobs import site as site  # a committed capdb and its job worker


def test_the_worker_extracts_the_text_of_an_uploaded_document(site: JobSite) -> None:
    client, _user_id = sign_in(site, "mission", missions=("MINUSMA",))
    with site.session() as session, session.begin():
        incident = Incident(**incident_values(reference="MINUSMA-2021-9101"))
        session.add(incident)
        session.flush()
        incident_id = incident.id
    url = f"/incidents/{incident_id}/attachments"
    token = csrf_token(client.get(url).text)
    body, content_type = multipart(
        samples.docx("Statement of the driver"), "s.docx", csrf_token=token, kind="report"
    )
    assert client.post(url, data=body, content_type=content_type).status_code == 302
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        with site.session() as session:
            state, words = session.execute(
                sa.select(AttachmentFile.text_state, AttachmentFile.text)
                .join(AttachmentFile.attachment)
                .where(Attachment.incident_id == incident_id)
            ).one()
        if state != "pending":
            break
        assert time.monotonic() < deadline, site.log.read_text()[-2000:]
        time.sleep(0.2)
    assert state == "done"
    assert "Statement of the driver" in (words or "")


def test_backup_and_restore_carry_the_files(make_site: Callable[..., Site], tmp_path: Path) -> None:
    source = make_site("atsource", own_database=False)
    with source.app.extensions["capdb.db"].sessionmaker.begin() as session:
        admin = User(
            email="admin@capdb.test", password_hash=factories.test_password_hash(),
            role="admin", totp_secret=factories.TEST_TOTP_SECRET, active=True,
        )  # fmt: skip
        incident = Incident(**incident_values(reference="MINUSMA-2021-9102"))
        session.add_all([admin, incident])
        session.flush()
        _token, value = tokens.create(session, admin)
        incident_id = incident.id
    headers = {"Authorization": f"Bearer {value}"}
    body, content_type = multipart(samples.pdf(), "judgment.pdf", kind="judgment")
    sent = source.app.test_client().post(
        f"/api/v1/incidents/{incident_id}/attachments",
        data=body,
        content_type=content_type,
        headers=headers,
    )
    assert sent.status_code == 201, sent.json
    assert sent.json is not None
    attachment_id = sent.json["id"]
    file = tmp_path / "capdb.tar"
    assert source.run("backup", str(file))[0] == 0

    target = make_site("attarget", migrated=False)
    code, output = target.run("restore", str(file))
    assert code == 0, output
    code, output = target.run("files", "verify")
    assert code == 0, output
    assert "Every file is intact." in output
    answer = target.app.test_client().get(
        f"/api/v1/attachments/{attachment_id}/content", headers=headers
    )
    assert answer.get_data() == samples.pdf()
    answer.close()
