"""Large imports and exports, run by the job worker as the user who asked.

Each checks what its page checks (the role that may import; the viewer's scope for an
export, through :func:`incidents.filters.scoped_incidents`) and writes through the same
functions. An import is all or nothing: its rows are written in the job's transaction,
which is committed with the job's end and rolled back when it fails.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import NotFound

from auth import audit
from capdb.clock import now
from incidents import policy
from incidents.filters import DEFAULT_SORT, SORTS, IncidentFilters
from incidents.jobs.running import JobError, JobWork, ResultFile
from incidents.transfer import dossier, exporting, importing
from incidents.transfer.uploads import forget_upload, upload_path


def problems_csv(problems: Iterable[importing.Problem]) -> bytes:
    """Every bad cell, as the import page's report: a CSV file Excel opens in UTF-8."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    for row in importing.report_rows(problems):
        writer.writerow([exporting.neutralise(cell) for cell in row])
    return buffer.getvalue().encode("utf-8")


def import_job(work: JobWork) -> None:
    """Check the kept upload and write it, all or nothing."""
    user = work.user
    if not policy.may_record_incidents(user):  # what the import page requires
        raise JobError(_("You may no longer import incidents."))
    filename = str(work.params["filename"])
    path = upload_path(user, str(work.params["token"]))
    if not path.is_file():
        raise JobError(_("The uploaded file is no longer kept; upload it again."))
    data = path.read_bytes()
    work.progress(0, 0, _("Reading the file"), force=True)
    try:
        sheet = importing.read_spreadsheet(data, filename)
    except importing.UnreadableFileError as error:
        raise JobError(str(error)) from None
    total = 2 * len(sheet.rows)  # each row is checked, then written
    done = 0

    def step(message: str) -> importing.Progress:
        def advance(rows: int) -> None:
            nonlocal done
            done += rows
            work.progress(done, total, message)

        return advance

    plan = importing.check(
        work.db,
        user,
        sheet,
        filename=filename,
        sha256=hashlib.sha256(data).hexdigest(),
        progress=step(_("Checking the rows")),
        un_grouping=str(work.params.get("un_grouping", "day")),
    )
    if not plan.ok:
        report = ResultFile(
            problems_csv(plan.problems), f"import-report-{Path(filename).stem}.csv", "text/csv"
        )
        raise JobError(_import_refused(len(plan.problems)), report)
    done = len(sheet.rows)
    try:
        created = importing.write(work.db, user, plan, progress=step(_("Writing the incidents")))
    except importing.ImportConflictError:
        raise JobError(
            _(
                "Other incidents were recorded for these missions while the file was imported; "
                "nothing was imported. Check the file again."
            )
        ) from None
    # The upload has served once the incidents are committed; until then a failed commit
    # leaves it for another try.
    sa.event.listen(work.db, "after_commit", lambda _db: forget_upload(path), once=True)
    message = ngettext(
        "%(num)d incident was imported.", "%(num)d incidents were imported.", len(created)
    )
    work.progress(total, total, message, force=True)


def _import_refused(problems: int) -> str:
    return " ".join(
        (
            ngettext(
                "Nothing was imported: %(num)d cell is wrong.",
                "Nothing was imported: %(num)d cells are wrong.",
                problems,
            ),
            _("Correct the file and upload it again."),
        )
    )


def export_job(work: JobWork) -> None:
    """Write the export to a result file, exactly as the page would send it."""
    if not policy.may_export(work.user):
        raise JobError(_("You may no longer export incidents."))
    filters, errors = IncidentFilters.parse(work.db, work.params.get("filters", {}))
    sort = str(work.params.get("sort") or DEFAULT_SORT)
    export_format = str(work.params.get("format", ""))
    if errors or sort not in SORTS or export_format not in exporting.FORMATS:
        raise JobError(_("The filter of this export is no longer valid."))
    wanted = exporting.ExportRequest(work.user, filters, sort, str(work.params.get("locale", "en")))
    total = exporting.count(work.db, wanted)
    exporting.record(work.db, wanted, export_format, total)
    path = work.result_path(
        f"incidents-{now().date().isoformat()}.{export_format}",
        exporting.MEDIA_TYPES[export_format],
    )
    message = _("Writing the file")
    work.progress(0, total, message, force=True)
    if export_format in ("csv", "geojson"):
        chunks = exporting.csv_chunks if export_format == "csv" else exporting.geojson_chunks
        written = 0
        with path.open("w", encoding="utf-8", newline="") as target:
            for chunk in chunks(work.db, wanted):
                target.write(chunk)
                written = min(total, written + exporting.BATCH)
                work.progress(written, total, message)
    elif export_format == "xlsx":
        exporting.write_xlsx(work.db, wanted, path)
    else:
        exporting.write_gpkg(work.db, wanted, path)
    work.progress(total, total, ngettext("%(num)d row.", "%(num)d rows.", total), force=True)


def case_dossier_job(work: JobWork) -> None:
    """A large case's dossier, loaded and checked as its page loads and checks it."""
    try:
        case = policy.case_or_404(work.db, work.user, int(work.params["case"]))
    except NotFound:
        raise JobError(_("This case is no longer within your access.")) from None
    if not policy.may_export(work.user, case):
        raise JobError(_("You may no longer export incidents."))
    work.progress(0, 1, _("Writing the file"), force=True)
    pdf = dossier.case_pdf(work.db, work.user, case)
    audit.record(work.db, "export", user=work.user, target=case, detail={"format": "pdf"})
    work.result_path(f"dossier-case-{case.id}.pdf", "application/pdf").write_bytes(pdf)
    work.progress(1, 1, _("Writing the file"), force=True)
