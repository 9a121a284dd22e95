"""Background jobs against a real worker: ``flask jobs worker`` in a process of its own.

The worker reads what the pages committed, so these tests run on a database of their own
whose data is committed (not the suite's rolled-back transaction); the job thresholds are
lowered so that small files and lists go through the queue.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth import sessions
from auth.models import User, UserSession
from capdb import db as database
from capdb import jobs
from capdb.app import create_app
from capdb.db import utcnow
from capdb.reference import Mission
from incidents.jobs import running
from incidents.models import Incident, Job, JudicialCase
from tests import factories
from tests.conftest import config_for
from tests.factories import TEST_TOTP_SECRET, incident_values
from tests.live import migrated_app, writing_session
from tests.test_i18n import csrf_token
from tests.test_import import ENGLISH_ROW

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 5  # rows above which an import or an export is a job, in these tests
WAIT_SECONDS = 120
WORKER_OPTIONS = ("--max-delay", "0.2")  # look at the queue often: the tests wait on it


@dataclass
class Site:
    app: Flask
    worker: subprocess.Popen[bytes]
    log: Path

    def session(self) -> AbstractContextManager[Session]:
        return writing_session(self.app)


@pytest.fixture(scope="module")
def site(
    make_database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    """A committed database, the web application on it, and a job worker process."""
    url = make_database_url("jobs")
    instance = tmp_path_factory.mktemp("jobs-instance")
    config = config_for(url, instance).replace(
        job_import_rows=LIMIT, job_export_rows=LIMIT, job_dossier_incidents=1
    )
    app = migrated_app(config)
    environment = {
        **os.environ,
        "CAPDB_ENV": "test",
        "CAPDB_DATABASE_URL": url,
        "CAPDB_SECRET_KEY": config.secret_key,
        "CAPDB_INSTANCE_PATH": str(instance),
        "CAPDB_JOB_IMPORT_ROWS": str(LIMIT),
        "CAPDB_JOB_EXPORT_ROWS": str(LIMIT),
    }
    log = instance / "worker.log"
    with log.open("wb") as output:
        # The command line is fixed here; nothing in it comes from outside the test.
        worker = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "worker", *WORKER_OPTIONS],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    yield Site(app, worker, log)
    worker.send_signal(signal.SIGINT)  # a graceful stop, as Ctrl-C
    try:
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    app.extensions["capdb.db"].engine.dispose()


def sign_in(site: Site, role: str, *, missions: tuple[str, ...] = ()) -> tuple[FlaskClient, int]:
    """A client signed in as a new, committed user of the role; the user's id."""
    token = secrets.token_urlsafe(32)
    with site.session() as session, session.begin():
        user = User(
            email=f"{role}-{secrets.token_hex(4)}@capdb.test",
            password_hash=factories.test_password_hash(),
            role=role,
            totp_secret=TEST_TOTP_SECRET,
            missions=[session.get_one(Mission, code) for code in missions],
        )
        session.add(user)
        session.flush()
        session.add(UserSession(token_hash=sessions.token_hash(token), user_id=user.id))
        user_id = user.id
    client = site.app.test_client()
    with client.session_transaction() as browser_session:
        browser_session[sessions.SESSION_KEY] = token
    return client, user_id


def spreadsheet(rows: int, prefix: str, *, bad_row: int | None = None) -> bytes:
    """A CSV file of incidents with their own source references; one may be wrong."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ENGLISH_ROW))
    writer.writeheader()
    for number in range(1, rows + 1):
        row = ENGLISH_ROW | {"Source reference": f"{prefix}-{number}"}
        if number == bad_row:
            row["Date"] = "the fourteenth of March"
        writer.writerow(row)
    return buffer.getvalue().encode()


def upload(client: FlaskClient, data: bytes) -> int:
    """Upload the file to the import page; the id of the job it became."""
    token = csrf_token(client.get("/incidents/import").text)
    answer = client.post(
        "/incidents/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), "incidents.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 303, answer.text
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def finished(client: FlaskClient, job_id: int) -> dict[str, Any]:
    """The job's last state, once the worker has ended it."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        state: dict[str, Any] = client.get(f"/jobs/{job_id}/progress.json").get_json()
        if state["finished"]:
            return state
        assert time.monotonic() < deadline, f"job {job_id} did not end: {state}"
        time.sleep(0.1)


def download(client: FlaskClient, path: str) -> TestResponse:
    """The response, read whole and closed (a file is sent from its open handle)."""
    response = client.get(path)
    response.get_data()
    response.close()
    return response


def imported(site: Site, prefix: str) -> int:
    with site.session() as session:
        found = session.scalar(
            sa.select(sa.func.count())
            .select_from(Incident)
            .where(Incident.source_reference.like(f"{prefix}-%"))
        )
    return found or 0


def test_an_import_over_a_thousand_rows_runs_as_a_job_seen_only_by_its_owner(site: Site) -> None:
    owner, _owner_id = sign_in(site, "mission", missions=("MINUSMA",))
    other, _other_id = sign_in(site, "mission", missions=("MINUSMA",))
    admin, _admin_id = sign_in(site, "admin")
    job_id = upload(owner, spreadsheet(1_001, "BIG"))

    page = owner.get(f"/jobs/{job_id}")
    assert page.status_code == 200
    assert "<progress" in page.text
    assert "js/job-progress.js" in page.text
    for path in (f"/jobs/{job_id}", f"/jobs/{job_id}/progress.json"):
        assert other.get(path).status_code == 404
    assert admin.get(f"/jobs/{job_id}").status_code == 200
    state = finished(owner, job_id)
    assert other.get(f"/jobs/{job_id}/result").status_code == 404

    assert state["status"] == "done", state
    assert state["done"] == state["total"] == 2 * 1_001
    assert "1001 incidents were imported." in owner.get(f"/jobs/{job_id}").text
    assert imported(site, "BIG") == 1_001
    # The uploaded sheet is not kept once its incidents are committed (deleted by the
    # worker just after the commit that the job's state may be read from).
    uploads = site.app.extensions["capdb.config"].instance_path / "imports"
    deadline = time.monotonic() + WAIT_SECONDS
    while list(uploads.iterdir()):
        assert time.monotonic() < deadline, list(uploads.iterdir())
        time.sleep(0.1)
    listed = owner.get("/jobs").text
    assert f'href="/jobs/{job_id}"' in listed
    assert f'href="/jobs/{job_id}"' not in other.get("/jobs").text


def test_an_import_job_that_fails_writes_nothing_and_tells_its_owner_why(site: Site) -> None:
    owner, _owner_id = sign_in(site, "mission", missions=("MINUSMA",))
    job_id = upload(owner, spreadsheet(LIMIT + 3, "BAD", bad_row=LIMIT + 3))

    state = finished(owner, job_id)
    assert state["status"] == "failed"
    page = owner.get(f"/jobs/{job_id}").text
    assert "Nothing was imported: 1 cell is wrong." in page
    assert "Traceback" not in page
    assert imported(site, "BAD") == 0
    report = download(owner, f"/jobs/{job_id}/result")
    assert report.status_code == 200
    assert report.headers["Content-Type"].startswith("text/csv")
    assert f"{LIMIT + 3 + 1},C (Date)" in report.text.replace('"', "")


def test_a_small_import_still_answers_in_the_request(site: Site) -> None:
    owner, _owner_id = sign_in(site, "mission", missions=("MINUSMA",))
    token = csrf_token(owner.get("/incidents/import").text)
    answer = owner.post(
        "/incidents/import",
        data={"csrf_token": token, "file": (io.BytesIO(spreadsheet(2, "SMALL")), "small.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    assert "Every cell is right." in answer.text


def add_validated_incidents(site: Site, count: int, place: str) -> None:
    with site.session() as session, session.begin():
        session.add_all(
            Incident(
                **incident_values(
                    status="validated", place=place, reference=f"TEST-{secrets.token_hex(6)}"
                )
            )
            for _ in range(count)
        )


def test_an_export_job_gives_the_file_the_page_would_have_sent(site: Site) -> None:
    add_validated_incidents(site, LIMIT + 2, "Kidal")
    analyst, _analyst_id = sign_in(site, "analyst")
    query = "/incidents/export.csv?q=Kidal&sort=reference"
    offer = analyst.get(query)
    assert offer.status_code == 200
    assert "in the background" in offer.text
    answer = analyst.post(query, data={"csrf_token": csrf_token(offer.text)})
    assert answer.status_code == 303
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])

    assert finished(analyst, job_id)["status"] == "done"
    result = download(analyst, f"/jobs/{job_id}/result")
    assert result.status_code == 200
    assert result.headers["Content-Disposition"].endswith(".csv")
    # The same export asked of an application whose threshold it stays under.
    direct = create_app(site.app.extensions["capdb.config"].replace(job_export_rows=10_000))
    client = direct.test_client()
    client.set_cookie("session", analyst.get_cookie("session").value)  # type: ignore[union-attr]
    synchronous = download(client, query)
    assert synchronous.headers["Content-Type"].startswith("text/csv")
    assert result.data == synchronous.data
    assert result.data.count(b"Kidal") == LIMIT + 2
    direct.extensions["capdb.db"].engine.dispose()


def enqueue(site: Site, user_id: int, kind: str, params: dict[str, Any]) -> int:
    with site.app.app_context():
        session = database.session()
        job = running.enqueue(session, session.get_one(User, user_id), kind, params)
        session.commit()
        return job.id


def test_the_worker_survives_a_failing_job(site: Site) -> None:
    analyst, analyst_id = sign_in(site, "analyst")
    broken = enqueue(site, analyst_id, "export", {"format": "csv", "filters": ["not", "a", "map"]})
    state = finished(analyst, broken)
    assert state["status"] == "failed"
    assert "failed unexpectedly" in analyst.get(f"/jobs/{broken}").text
    assert site.worker.poll() is None

    add_validated_incidents(site, 1, "Tessalit")
    after = enqueue(
        site, analyst_id, "export", {"format": "geojson", "filters": {"q": "Tessalit"}, "sort": ""}
    )
    assert finished(analyst, after)["status"] == "done"
    assert b"Tessalit" in download(analyst, f"/jobs/{after}/result").data
    with site.session() as session:
        assert session.get_one(Job, after).result_filename is not None


def test_the_trends_page_has_the_report_made_by_the_worker(site: Site) -> None:
    analyst, _analyst_id = sign_in(site, "analyst")
    page = analyst.get("/trends/?period=year")
    assert 'action="/trends/report.pdf?period=year"' in page.text
    answer = analyst.post(
        "/trends/report.pdf?period=year", data={"csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 303
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    assert finished(analyst, job_id)["status"] == "done"
    pdf = download(analyst, f"/jobs/{job_id}/result")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.data.startswith(b"%PDF")


def test_the_dossier_of_a_large_case_is_made_by_the_worker(site: Site) -> None:
    with site.session() as session, session.begin():
        incidents = [
            Incident(
                **incident_values(status="validated", reference=f"TEST-{secrets.token_hex(6)}")
            )
            for _ in range(2)
        ]
        case = JudicialCase(
            prosecuting_state_code="MLI", jurisdiction="ordinary", incidents=incidents
        )
        session.add(case)
        session.flush()
        case_id = case.id
    analyst, _analyst_id = sign_in(site, "analyst")
    outsider, _outsider_id = sign_in(site, "mission", missions=("MONUSCO",))
    assert outsider.get(f"/cases/{case_id}/dossier.pdf").status_code == 404
    offer = analyst.get(f"/cases/{case_id}/dossier.pdf")
    assert offer.status_code == 200
    assert "in the background" in offer.text
    answer = analyst.post(
        f"/cases/{case_id}/dossier.pdf", data={"csrf_token": csrf_token(offer.text)}
    )
    assert answer.status_code == 303
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    assert finished(analyst, job_id)["status"] == "done"
    pdf = download(analyst, f"/jobs/{job_id}/result")
    assert pdf.data.startswith(b"%PDF")
    assert f"dossier-case-{case_id}.pdf" in pdf.headers["Content-Disposition"]


def test_lost_jobs_are_failed_or_sent_again_and_a_job_sent_twice_runs_once(site: Site) -> None:
    analyst, analyst_id = sign_in(site, "analyst")
    add_validated_incidents(site, 1, "Aguelhok")
    export = {"format": "csv", "filters": {"q": "Aguelhok"}, "sort": ""}
    long_ago = utcnow() - timedelta(hours=7)
    with site.session() as session, session.begin():
        # A worker killed in the middle of a job, and a message lost from the queue.
        killed = Job(owner_id=analyst_id, kind="export", status="running", params=export)
        killed.started_at = long_ago
        forgotten = Job(owner_id=analyst_id, kind="export", status="queued", params=export)
        forgotten.created_at = long_ago
        session.add_all([killed, forgotten])
    with site.app.app_context():
        assert running.recover_lost_jobs() == (1, 1)
        database.session().commit()  # the new message is sent once this commits
    assert finished(analyst, killed.id)["status"] == "failed"
    assert "worker was stopped" in analyst.get(f"/jobs/{killed.id}").text
    assert finished(analyst, forgotten.id)["status"] == "done"
    with site.session() as session:
        first_end = session.get_one(Job, forgotten.id).finished_at

    with site.app.app_context():
        jobs.send(running.TASK, forgotten.id)  # once more: the worker must not run it again
        assert running.recover_lost_jobs() == (0, 0)
    deadline = time.monotonic() + WAIT_SECONDS
    while f"job {forgotten.id} is not waiting to run" not in site.log.read_text():
        assert time.monotonic() < deadline, "the second message was not read"
        time.sleep(0.1)
    with site.session() as session:
        assert session.get_one(Job, forgotten.id).finished_at == first_end
