"""The periodic report made by the job worker, as the user who asked for it.

The trends page sends its filter and period; the job builds the same PDF as
``/trends/report.pdf`` with the user's scope, and keeps it for the user to download.
"""

from __future__ import annotations

from flask_babel import gettext as _

from auth import audit
from capdb.clock import now
from incidents import policy
from incidents.filters import IncidentFilters
from incidents.jobs.running import JobError, JobWork
from maps import report
from maps.stats import Period


def report_job(work: JobWork) -> None:
    if not policy.may_export(work.user):
        raise JobError(_("You may no longer export incidents."))
    filters, errors = IncidentFilters.parse(work.db, work.params.get("filters", {}))
    try:
        period = Period(str(work.params.get("period", "")))
    except ValueError:
        errors["period"] = "unknown"
    if errors:
        raise JobError(_("The filter of this export is no longer valid."))
    work.progress(0, 1, _("Computing the figures"), force=True)
    today = now().date()
    pdf = report.build(
        work.db,
        work.user,
        filters,
        period,
        locale=str(work.params.get("locale", "en")),
        generated_on=today,
        state_name=None,
        today_states=bool(work.params.get("today_states")),
    )
    audit.record(
        work.db,
        "export",
        user=work.user,
        target_type="trends",
        target_id="report",
        detail={"format": "pdf", "filters": {**filters.as_args(), "period": period.value}},
    )
    work.result_path(f"capdb-report-{today.isoformat()}.pdf", "application/pdf").write_bytes(pdf)
    work.progress(1, 1, _("The report is ready."), force=True)
