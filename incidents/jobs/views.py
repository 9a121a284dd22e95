"""The pages of background jobs: the owner's list, a job's page, its progress, its result.

A job is its owner's (and the administrators'): anyone else is answered 404.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, send_file
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from auth.access import viewer
from auth.models import User
from capdb import db
from incidents.jobs.running import live_progress, results_folder
from incidents.models import Job
from incidents.visibility import visible_jobs

bp = Blueprint("jobs", __name__, template_folder="../templates", url_prefix="/jobs")

SHOWN_JOBS = 100


def job_or_404(session: Session, user: User, job_id: int) -> Job:
    """The job if the user may see it (its owner, an administrator); 404 otherwise."""
    job = session.scalar(sa.select(Job).where(Job.id == job_id, visible_jobs(user)))
    if job is None:
        abort(404)
    return job


def kind_label(kind: str) -> str:
    labels = {
        "import": _("Import of a spreadsheet"),
        "export": _("Export of incidents"),
        "report": _("Periodic report"),
        "case_dossier": _("Dossier of a case"),
        "boundaries": _("Loading of boundaries"),
    }
    return str(labels.get(kind, kind))


def status_label(status: str) -> str:
    labels = {
        "queued": _("Waiting to start"),
        "running": _("Running"),
        "done": _("Done"),
        "failed": _("Failed"),
    }
    return str(labels[status])


@bp.get("")
def index() -> str:
    """The viewer's own jobs, newest first."""
    user = viewer()
    found = db.session().scalars(
        sa.select(Job).where(Job.owner_id == user.id).order_by(Job.id.desc()).limit(SHOWN_JOBS)
    )
    return render_template(
        "incidents/jobs.html", jobs=found.all(), kind_label=kind_label, status_label=status_label
    )


@bp.get("/<int:job_id>")
def detail(job_id: int) -> str:
    job = job_or_404(db.session(), viewer(), job_id)
    done, total, message = live_progress(job)
    return render_template(
        "incidents/job.html",
        job=job,
        done=done,
        total=total,
        message=message,
        percent=job.percent if job.finished or not total else min(100, done * 100 // total),
        kind_label=kind_label,
        status_label=status_label,
    )


@bp.get("/<int:job_id>/progress.json")
def progress(job_id: int) -> Response:
    """What the job page's script polls."""
    job = job_or_404(db.session(), viewer(), job_id)
    done, total, message = live_progress(job)
    response = jsonify(
        status=job.status,
        status_label=status_label(job.status),
        done=done,
        total=total,
        message=message,
        finished=job.finished,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:job_id>/result")
def result(job_id: int) -> Response:
    job = job_or_404(db.session(), viewer(), job_id)
    if job.result_name is None:
        abort(404)
    path = results_folder() / job.result_name
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=job.result_media_type or "application/octet-stream",
        as_attachment=True,
        download_name=job.result_filename or path.name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
