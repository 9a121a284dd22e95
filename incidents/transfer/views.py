"""Spreadsheet import, exports and case dossiers.

The import is two steps, each one request: the upload is checked and kept for a day
under a random token (bound to its uploader), and the page answers with every bad cell,
or with what would be created and a button to go ahead; going ahead checks the kept file
again and writes it in the request's transaction. While a step runs, the page shows that
it is working (checking 10,000 rows takes a few seconds).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
import time
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from auth import audit
from auth.access import allowed_or_403, requires, viewer
from auth.models import User
from capdb import db
from capdb.config import LOCALES, current_config
from capdb.downloads import attachment
from capdb.i18n import current_locale
from incidents import policy
from incidents.filters import SORTED, from_request, invalid_filter, takes_filter
from incidents.jobs import running
from incidents.policy import case_or_404, incident_or_404
from incidents.transfer import dossier, exporting, importing
from incidents.transfer.un_layout import GROUPINGS
from incidents.transfer.uploads import upload_path, uploads_folder

bp = Blueprint("transfer", __name__, template_folder="../templates")

UPLOAD_SUFFIXES = (".xlsx", ".csv")
TEMPLATE_FORMATS = ("xlsx", "csv")
KEEP_UPLOADS_SECONDS = 24 * 3600
TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")
SHOWN_PROBLEMS = 1000
INVALID = 422

Page = str | tuple[str, int] | BaseResponse


# Import -------------------------------------------------------------------------------------


@bp.get("/incidents/import")
@requires(policy.may_record_incidents)
def import_form() -> str:
    return render_template("incidents/import.html", errors={})


@bp.post("/incidents/import")
@requires(policy.may_record_incidents)
def import_upload() -> Page:
    token = request.form.get("token")
    if token is not None:
        return run_import(token, write=True, grouping=un_grouping())
    upload = request.files.get("file")
    filename = Path(upload.filename or "").name if upload else ""
    if upload is None or not filename:
        return upload_refused(_("Choose the spreadsheet to import."))
    if not filename.lower().endswith(UPLOAD_SUFFIXES):
        return upload_refused(_("Upload an .xlsx or a .csv file."))
    data = upload.read()
    token = keep_upload(viewer(), data, filename)
    if len(data) and counted_rows(data, filename) > current_config().job_import_rows:
        return import_as_job(token, filename)
    return run_import(token, write=False, grouping=un_grouping())


def un_grouping() -> str:
    """How a file in the UN's layout groups its casualties into incidents (as asked)."""
    asked = request.values.get("un_grouping", "day")
    return asked if asked in GROUPINGS else "day"


def counted_rows(data: bytes, filename: str) -> int:
    """The rows of the file; an unreadable one counts none, and its page says why."""
    try:
        return len(importing.read_spreadsheet(data, filename).rows)
    except importing.UnreadableFileError:
        return 0


def import_as_job(token: str, filename: str) -> BaseResponse:
    """A large file is checked and written by the job worker, all or nothing."""
    job = running.enqueue(
        db.session(),
        viewer(),
        "import",
        {
            "token": token,
            "filename": filename,
            "locale": current_locale(),
            "un_grouping": un_grouping(),
        },
    )
    return redirect(url_for("jobs.detail", job_id=job.id), 303)


def upload_refused(reason: str) -> tuple[str, int]:
    return render_template("incidents/import.html", errors={"file": reason}), INVALID


def run_import(token: str, *, write: bool, grouping: str) -> Page:
    """Check the kept upload, and write it if asked and every cell is right."""
    session, user = db.session(), viewer()
    data, filename = kept_upload(user, token)
    try:
        sheet = importing.read_spreadsheet(data, filename)
    except importing.UnreadableFileError as error:
        return upload_refused(str(error))
    sha256 = hashlib.sha256(data).hexdigest()
    plan = importing.check(
        session, user, sheet, filename=filename, sha256=sha256, un_grouping=grouping
    )
    if not plan.ok:
        return result_page("problems", plan, token, grouping=grouping), INVALID
    if not write:
        return result_page("ready", plan, token, grouping=grouping)
    try:
        created = importing.write(session, user, plan)
    except importing.ImportConflictError:
        message = _(
            "Other incidents were recorded for these missions while the file was imported; "
            "nothing was imported. Check the file again."
        )
        return render_template("incidents/import.html", errors={"file": message}), 409
    upload_path(user, token).unlink(missing_ok=True)
    return result_page("done", plan, token, created=len(created), grouping=grouping)


def result_page(
    stage: str, plan: importing.ImportPlan, token: str, *, created: int = 0, grouping: str
) -> str:
    return render_template(
        "incidents/import_result.html",
        stage=stage,
        plan=plan,
        token=token,
        un_grouping=grouping,
        created=created,
        submitted=sum(1 for row in plan.new if row.status == "submitted"),
        shown_problems=plan.problems[:SHOWN_PROBLEMS],
    )


@bp.get("/incidents/import/<token>/report.csv")
@requires(policy.may_record_incidents)
def import_report(token: str) -> Response:
    """Every bad cell of a kept upload, for files with more than a page can show."""
    session, user = db.session(), viewer()
    data, filename = kept_upload(user, token)
    try:
        sheet = importing.read_spreadsheet(data, filename)
    except importing.UnreadableFileError:
        abort(404)
    plan = importing.check(session, user, sheet, filename=filename, un_grouping=un_grouping())
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for row in importing.report_rows(plan.problems):
        writer.writerow([exporting.neutralise(cell) for cell in row])
    return attachment(buffer.getvalue(), "text/csv", f"import-report-{Path(filename).stem}.csv")


@bp.get("/incidents/import/template.<file_format>")
@requires(policy.may_record_incidents)
def import_template(file_format: str) -> Response:
    if file_format not in TEMPLATE_FORMATS:
        abort(404)
    locale = request.args.get("lang", current_locale())
    if locale not in LOCALES:
        locale = current_locale()
    if file_format == "csv":
        return attachment(importing.template_csv(locale), "text/csv", f"capdb-import-{locale}.csv")
    data = importing.template_xlsx(db.session(), locale)
    return attachment(data, exporting.MEDIA_TYPES["xlsx"], f"capdb-import-{locale}.xlsx")


def keep_upload(user: User, data: bytes, filename: str) -> str:
    """Keep the uploaded file for the second step; forget those older than a day."""
    cutoff = time.time() - KEEP_UPLOADS_SECONDS
    for old in uploads_folder().iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(16)
    path = upload_path(user, token)
    path.write_bytes(data)
    path.with_suffix(".name").write_text(filename, encoding="utf-8")
    return token


def kept_upload(user: User, token: str) -> tuple[bytes, str]:
    """The file and its name; 404 for an unknown, expired or someone else's token."""
    if not TOKEN.fullmatch(token):
        abort(404)
    path = upload_path(user, token)
    name = path.with_suffix(".name")
    if not path.is_file() or not name.is_file():
        abort(404)
    return path.read_bytes(), name.read_text(encoding="utf-8")


# Exports ------------------------------------------------------------------------------------


@bp.route(
    f"/incidents/export.<any({', '.join(exporting.FORMATS)}):export_format>",
    methods=["GET", "POST"],
)
@takes_filter(SORTED)
def export(export_format: str) -> Page:
    """The export as a download; a large one is offered, then made, as a job (POST)."""
    session, user = db.session(), viewer()
    allowed_or_403(policy.may_export(user))
    asked, errors = from_request(session)
    if errors:
        return invalid_filter(errors)
    wanted = exporting.ExportRequest(user, asked.filters, asked.sort, current_locale())
    if request.method == "POST":
        params = {
            "format": export_format,
            "filters": asked.filters.as_args(),
            "sort": asked.sort,
            "locale": current_locale(),
        }
        job = running.enqueue(session, user, "export", params)
        return redirect(url_for("jobs.detail", job_id=job.id), 303)
    rows = exporting.count(session, wanted)
    if rows > current_config().job_export_rows:
        return render_template("incidents/export_job.html", rows=rows, export_format=export_format)
    return exporting.response(session, wanted, export_format)


# Dossiers -----------------------------------------------------------------------------------


@bp.get("/incidents/<int:incident_id>/dossier.pdf")
def incident_dossier(incident_id: int) -> Response:
    session, user = db.session(), viewer()
    incident = incident_or_404(session, user, incident_id)
    allowed_or_403(policy.may_export(user, incident))
    pdf = dossier.incident_pdf(session, user, incident)
    audit.record(session, "export", user=user, target=incident, detail={"format": "pdf"})
    return attachment(pdf, "application/pdf", f"dossier-{incident.reference}.pdf")


@bp.route("/cases/<int:case_id>/dossier.pdf", methods=["GET", "POST"])
def case_dossier(case_id: int) -> Page:
    """The dossier; that of a case of many incidents is offered, then made, as a job."""
    session, user = db.session(), viewer()
    case = case_or_404(session, user, case_id)
    allowed_or_403(policy.may_export(user, case))
    if request.method == "POST":
        job = running.enqueue(
            session, user, "case_dossier", {"case": case.id, "locale": current_locale()}
        )
        return redirect(url_for("jobs.detail", job_id=job.id), 303)
    if len(case.incidents) > current_config().job_dossier_incidents:
        return render_template("incidents/dossier_job.html", case=case)
    pdf = dossier.case_pdf(session, user, case)
    audit.record(session, "export", user=user, target=case, detail={"format": "pdf"})
    return attachment(pdf, "application/pdf", f"dossier-case-{case.id}.pdf")
