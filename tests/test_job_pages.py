"""The pages of a job, who sees them, the queue's readiness and the clean-up of results.

The worker itself runs in tests/test_jobs.py; here jobs are recorded directly.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import User
from capdb import jobs
from capdb.app import create_app
from capdb.config import Config
from capdb.db import utcnow
from incidents.jobs.running import results_folder
from incidents.models import Job
from incidents.visibility import may_view_job
from tests.factories import LoginAs, MovableClock, UserFactory


def a_job(db: Session, owner: User, **values: object) -> Job:
    values = {"kind": "export", "status": "running", "params": {}, **values}
    job = Job(owner_id=owner.id, **values)
    db.add(job)
    db.flush()
    return job


def test_a_job_is_seen_by_its_owner_and_administrators_only(
    app: Flask, client: FlaskClient, db: Session, make_user: UserFactory, login_as: LoginAs
) -> None:
    owner, other, admin = make_user("analyst"), make_user("analyst"), make_user("admin")
    job = a_job(db, owner)
    assert may_view_job(owner, job)
    assert may_view_job(admin, job)
    assert not may_view_job(other, job)

    login_as(user=other)
    for path in (f"/jobs/{job.id}", f"/jobs/{job.id}/progress.json", f"/jobs/{job.id}/result"):
        assert client.get(path).status_code == 404
    assert f"/jobs/{job.id}" not in client.get("/jobs").text
    login_as(user=admin)
    assert client.get(f"/jobs/{job.id}").status_code == 200
    login_as(user=owner)
    assert f"/jobs/{job.id}" in client.get("/jobs").text
    assert client.get("/jobs/2147483647").status_code == 404


def test_the_progress_of_a_running_job_comes_from_the_worker(
    app: Flask, client: FlaskClient, db: Session, make_user: UserFactory, login_as: LoginAs
) -> None:
    owner = make_user("analyst")
    job = a_job(db, owner)
    login_as(user=owner)
    with app.app_context():
        jobs.put_progress(str(job.id), (40, 160, "Writing the file"))
    state = client.get(f"/jobs/{job.id}/progress.json").get_json()
    assert state == {
        "status": "running",
        "status_label": "Running",
        "done": 40,
        "total": 160,
        "message": "Writing the file",
        "finished": False,
    }
    page = client.get(f"/jobs/{job.id}").text
    assert 'value="25"' in page
    assert '<meta http-equiv="refresh"' in page  # without the script, the page reloads
    assert "<script>" not in page  # the CSP allows no inline script; the poller is a file


def test_a_failed_job_shows_its_error_and_a_done_one_its_file(
    app: Flask, client: FlaskClient, db: Session, make_user: UserFactory, login_as: LoginAs
) -> None:
    owner = make_user("analyst")
    failed = a_job(db, owner, status="failed", error="The filter is no longer valid.")
    with app.app_context():
        (results_folder() / "some-random-name").write_text("a,b\n")
    done = a_job(
        db,
        owner,
        status="done",
        result_name="some-random-name",
        result_filename="incidents.csv",
        result_media_type="text/csv",
    )
    login_as(user=owner)
    assert "The filter is no longer valid." in client.get(f"/jobs/{failed.id}").text
    assert client.get(f"/jobs/{failed.id}/result").status_code == 404
    assert 'http-equiv="refresh"' not in client.get(f"/jobs/{done.id}").text
    download = client.get(f"/jobs/{done.id}/result")
    assert download.get_data() == b"a,b\n"
    download.close()
    assert download.headers["Cache-Control"] == "no-store"


def test_the_daily_clean_up_deletes_old_results_only(
    app: Flask, db: Session, make_user: UserFactory, clock: MovableClock
) -> None:
    owner = make_user("analyst")
    with app.app_context():
        folder = results_folder()
    old = a_job(db, owner, status="done", result_name="old", finished_at=utcnow())
    recent = a_job(
        db, owner, status="done", result_name="recent", finished_at=utcnow() + timedelta(days=6)
    )
    (folder / "old").write_text("old")
    (folder / "recent").write_text("recent")
    clock.offset = timedelta(days=8)
    # As the worker's scheduler runs it: in an application context of its own, committed.
    task = app.extensions["capdb.tasks"]["capdb.forget_old_results"]
    assert task.call_local() == 1
    db.refresh(old)
    db.refresh(recent)
    assert old.result_name is None
    assert not (folder / "old").exists()
    assert recent.result_name == "recent"
    assert (folder / "recent").exists()


def test_the_queue_says_when_it_is_not_ready(app: Flask, tmp_path: Path) -> None:
    with app.app_context():
        assert jobs.queue_ready() is None
    config: Config = app.extensions["capdb.config"]
    unreachable = create_app(config.replace(redis_url="redis://127.0.0.1:1/0"))
    with unreachable.app_context():
        assert "job queue" in (jobs.queue_ready() or "")
    unreachable.extensions["capdb.db"].engine.dispose()


def test_a_boundaries_job_loads_the_file_and_refuses_non_administrators(
    app: Flask, db: Session, make_user: UserFactory
) -> None:
    from maps.boundaries_job import boundaries_folder
    from maps.models import Area
    from tests.test_boundaries import admin1_features, write_geojson

    admin, analyst = make_user("admin"), make_user("analyst")
    with app.app_context():
        write_geojson(boundaries_folder() / "mali.geojson", admin1_features())
    params = {"file": "mali.geojson", "level": "admin1"}
    refused = a_job(db, analyst, kind="boundaries", status="queued", params=params)
    loaded = a_job(db, admin, kind="boundaries", status="queued", params=params)
    task = app.extensions["capdb.tasks"]["capdb.job"]
    task.call_local(refused.id)
    task.call_local(loaded.id)
    db.expire_all()
    assert refused.status == "failed"
    assert refused.error == "Only administrators load boundaries."
    assert loaded.status == "done", loaded.error
    assert db.scalars(sa.select(Area.code).where(Area.level == "admin1")).all()
