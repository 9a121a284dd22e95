"""How a job runs: queued by a page, run by the worker as its owner, all or nothing.

A page records a :class:`~incidents.models.Job` and the message for the worker is
sent once the page's transaction has committed, so the worker always finds the record.
The worker loads the job's owner and hands the work to the handler of the job's kind,
which checks the same permission as the page and reads through the same scoping
functions: a job never sees more than its owner would. The handler's writes stay in one
transaction, committed with the job's "done"; when the handler fails they are rolled back
and the job records, for its owner, what went wrong.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth.models import User
from capdb import db as database
from capdb import jobs
from capdb.clock import now
from capdb.config import current_config
from incidents.models import Job

log = logging.getLogger(__name__)

TASK = "capdb.job"
RESULTS_FOLDER = "job-results"
PROGRESS_EVERY_SECONDS = 0.5
# A queued job is looked for on the queue only after this long: its message may be on its way.
QUEUED_GRACE = timedelta(minutes=5)


class JobError(Exception):
    """The job cannot be done; its message is shown to the owner, so it says why in their
    words and carries no personal data."""

    def __init__(self, message: str, report: ResultFile | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class ResultFile:
    data: bytes
    filename: str
    media_type: str


@dataclass
class JobWork:
    """What a handler gets: its session, its user, its parameters, and where to report."""

    db: Session
    job: Job
    user: User
    result: tuple[str, str, str] | None = None  # random name, file name, media type
    _last_progress: float = field(default=0.0, repr=False)

    @property
    def params(self) -> dict[str, Any]:
        return self.job.params

    def progress(self, done: int, total: int, message: str = "", *, force: bool = False) -> None:
        """Tell the owner how far the job is (written at most twice a second)."""
        self.job.progress_done, self.job.progress_total = done, total
        self.job.progress_message = message[:200]
        if force or time.monotonic() - self._last_progress >= PROGRESS_EVERY_SECONDS:
            self._last_progress = time.monotonic()
            jobs.put_progress(str(self.job.id), (done, total, message[:200]))

    def result_path(self, filename: str, media_type: str) -> Path:
        """Where to write the result, under a random name in the instance folder."""
        name = secrets.token_urlsafe(24)
        self.result = (name, filename, media_type)
        return results_folder() / name

    def discard_result(self) -> None:
        if self.result is not None:
            (results_folder() / self.result[0]).unlink(missing_ok=True)
            self.result = None


Handler = Callable[[JobWork], None]


def results_folder() -> Path:
    folder = current_config().instance_path / RESULTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def register_kinds(app: Flask, kinds: Mapping[str, Handler]) -> None:
    """The handler of each kind of job (the composition root knows the features)."""
    app.extensions.setdefault("capdb.job_kinds", {}).update(kinds)


def enqueue(db: Session, user: User, kind: str, params: dict[str, Any]) -> Job:
    """Record a job for the user; the worker is told once the transaction commits."""
    job = Job(owner_id=user.id, kind=kind, status="queued", params=params)
    db.add(job)
    db.flush()
    _send_after_commit(db, job.id)
    return job


def _send_after_commit(db: Session, job_id: int) -> None:
    def tell_the_worker(_session: Session) -> None:
        jobs.send(TASK, job_id)

    sa.event.listen(db, "after_commit", tell_the_worker, once=True)


def live_progress(job: Job) -> tuple[int, int, str]:
    """Done, total and message: from the worker while the job runs, else as recorded."""
    if job.status == "running":
        found = jobs.peek_progress(str(job.id))
        if found is not None:
            done, total, message = found
            return int(done), int(total), str(message)
    return job.progress_done, job.progress_total, job.progress_message


# The worker's side --------------------------------------------------------------------------


def run_job(job_id: int) -> None:
    """Run a queued job to its end; never raises, so the worker carries on."""
    db = database.session()
    # Claimed in one statement: a message sent twice (see recover_lost_jobs) runs it once.
    claimed = db.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", started_at=now())
    )
    db.commit()  # the owner sees at once that it started
    job = db.get(Job, job_id)
    if job is None or not claimed.rowcount:  # type: ignore[attr-defined]
        log.warning("job %s is not waiting to run; skipped", job_id)
        return
    work = JobWork(db, job, job.owner)
    try:
        with force_locale(job.params.get("locale") or current_config().default_locale):
            _run(work)
        _finish(work)
    except JobError as failure:
        _fail(work, str(failure), failure.report)
    except Exception:
        log.exception("job %s (%s) failed", job_id, job.kind)
        with force_locale(job.params.get("locale") or current_config().default_locale):
            message = _("The job failed unexpectedly and changed nothing. Try again later.")
        _fail(work, message, None)
    finally:
        jobs.forget_progress(str(job_id))


def _run(work: JobWork) -> None:
    if not work.user.active:
        raise JobError(_("Your account can no longer run this job."))
    handler: Handler | None = current_app.extensions.get("capdb.job_kinds", {}).get(work.job.kind)
    if handler is None:
        raise JobError(_("This kind of job is not known to this version of capdb."))
    handler(work)


def _finish(work: JobWork) -> None:
    job = work.job
    job.status, job.finished_at = "done", now()
    if job.progress_total:
        job.progress_done = job.progress_total
    if work.result is not None:
        job.result_name, job.result_filename, job.result_media_type = work.result
    work.db.commit()  # the job's writes and its "done" together
    log.info("job %s (%s) done", job.id, job.kind)


def _fail(work: JobWork, message: str, report: ResultFile | None) -> None:
    """Undo every write of the job, then record why it failed (and the report, if any)."""
    db, job_id = work.db, work.job.id
    db.rollback()
    work.discard_result()
    job = db.get_one(Job, job_id)
    job.status, job.finished_at, job.error = "failed", now(), message[:1000]
    if report is not None:
        job.result_name = secrets.token_urlsafe(24)
        (results_folder() / job.result_name).write_bytes(report.data)
        job.result_filename, job.result_media_type = report.filename, report.media_type
    db.commit()
    log.info("job %s (%s) failed: %s", job_id, job.kind, message)


# Results that have had their time -----------------------------------------------------------


def forget_old_results() -> int:
    """Delete the result files of jobs finished more than the configured days ago."""
    db = database.session()
    cutoff = now() - timedelta(days=current_config().job_result_days)
    old = db.scalars(
        sa.select(Job).where(Job.result_name.is_not(None), Job.finished_at < cutoff)
    ).all()
    for job in old:
        (results_folder() / str(job.result_name)).unlink(missing_ok=True)
        job.result_name = None
    log.info("%d job result files deleted", len(old))
    return len(old)


# Jobs that a stopped worker or a lost message left behind -----------------------------------


def recover_lost_jobs() -> tuple[int, int]:
    """Fail the jobs whose worker stopped mid-way; send again those whose message was lost.

    A job still "running" long after it started lost its worker (killed, or its host
    stopped): its transaction ended with its connection, so it changed nothing, and its
    owner is told so. A job still "queued" a while after it was asked for, with no message
    for it on the queue (a queue emptied or replaced), gets a new message; run_job claims a
    job in one statement, so a message sent twice runs it once. Answers (failed, resent).
    """
    db = database.session()
    moment = now()
    lost = db.scalars(
        sa.select(Job).where(
            Job.status == "running",
            Job.started_at < moment - timedelta(minutes=current_config().job_stale_minutes),
        )
    ).all()
    for job in lost:
        with force_locale(job.params.get("locale") or current_config().default_locale):
            job.error = _(
                "The job stopped before its end (its worker was stopped) and changed"
                " nothing. Try again."
            )
        job.status, job.finished_at = "failed", moment
    waiting = {task.args[0] for task in jobs.queue().pending() if task.name == TASK and task.args}
    forgotten = db.scalars(
        sa.select(Job.id).where(Job.status == "queued", Job.created_at < moment - QUEUED_GRACE)
    ).all()
    resent = [job_id for job_id in forgotten if job_id not in waiting]
    for job_id in resent:
        _send_after_commit(db, job_id)
    if lost or resent:
        log.warning("%d lost jobs failed, %d forgotten jobs sent again", len(lost), len(resent))
    return len(lost), len(resent)


def register(app: Flask) -> None:
    """The job task, the recovery of lost jobs and the daily clean-up, on the app's queue."""
    jobs.register_task(app, run_job, name=TASK)
    jobs.register_periodic(
        app,
        forget_old_results,
        name="capdb.forget_old_results",
        schedule=jobs.crontab(hour="3", minute="17"),
    )
    jobs.register_periodic(
        app, recover_lost_jobs, name="capdb.recover_lost_jobs", schedule=jobs.crontab(minute="*/5")
    )
