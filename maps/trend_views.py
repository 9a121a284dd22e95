"""The trends dashboard: statistics, charts with their data tables, and the periodic report."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from auth import audit
from auth.access import viewer
from capdb import db
from capdb.clock import now
from capdb.downloads import attachment
from capdb.i18n import current_locale
from incidents.filter_choices import filter_choices
from incidents.filters import IncidentFilters, from_request, invalid_filter, takes_filter
from incidents.jobs import running
from maps import report, stats
from maps.charts import NAMES, Figures, figure_csv, summary_items
from maps.stats import Period

bp = Blueprint("trends", __name__, template_folder="templates", url_prefix="/trends")


def parse_query(session: Session) -> tuple[IncidentFilters, Period, dict[str, str]]:
    """The shared filter and the period of the request, and a reason per value refused."""
    asked, errors = from_request(session)
    filters = asked.filters
    raw = (request.args.get("period") or "").strip()
    period = stats.default_period(filters)
    if raw:
        try:
            period = Period(raw)
        except ValueError:
            errors["period"] = _("Choose months or years.")
    return filters, period, errors


def query_args(filters: IncidentFilters, period: Period) -> dict[str, str]:
    asked = {"today_states": "1"} if today_states() else {}
    return {**filters.as_args(), "period": period.value, **asked}


def today_states() -> bool:
    """Count a former State's victims under the State that continues it today (asked)."""
    return request.args.get("today_states") == "1"


@bp.get("/")
@takes_filter()
def index() -> tuple[str, int]:
    session = db.session()
    filters, period, errors = parse_query(session)
    figures = summary = None
    if not errors:
        built = Figures(
            session, viewer(), filters, period, current_locale(), today_states=today_states()
        )
        figures = built.all()
        summary = summary_items(built.summary())
    page = render_template(
        "maps/trends.html",
        filters=filters,
        period=period,
        errors=errors,
        figures=figures,
        summary=summary,
        args=query_args(filters, period),
        choices=filter_choices(session, viewer()),
    )
    return page, 400 if errors else 200


@bp.get(f"/<any({', '.join(map(repr, NAMES))}):name>.csv")
@takes_filter()
def figure_download(name: str) -> Response:
    session = db.session()
    filters, period, errors = parse_query(session)
    if errors:
        return invalid_filter(errors)
    figure = Figures(
        session, viewer(), filters, period, current_locale(), today_states=today_states()
    ).build(name)
    audit.record(
        session,
        "export",
        user=viewer(),
        target_type="trends",
        target_id=name,
        detail={"format": "csv", "filters": query_args(filters, period)},
    )
    return attachment(figure_csv(figure).encode(), "text/csv", f"capdb-{name}.csv")


@bp.route("/report.pdf", methods=["GET", "POST"])
@takes_filter()
def report_pdf() -> BaseResponse:
    """The report, made while the user waits (GET) or by the job worker (POST, the page's
    button): WeasyPrint takes seconds on a large scope."""
    session = db.session()
    filters, period, errors = parse_query(session)
    if errors:
        return invalid_filter(errors)
    if request.method == "POST":
        params = {"filters": filters.as_args(), "period": period.value, "locale": current_locale()}
        job = running.enqueue(session, viewer(), "report", params)
        return redirect(url_for("jobs.detail", job_id=job.id), 303)
    today = now().date()
    pdf = report.build(
        session,
        viewer(),
        filters,
        period,
        locale=current_locale(),
        generated_on=today,
        state_name=None,
    )
    audit.record(
        session,
        "export",
        user=viewer(),
        target_type="trends",
        target_id="report",
        detail={"format": "pdf", "filters": query_args(filters, period)},
    )
    return attachment(pdf, "application/pdf", f"capdb-report-{today.isoformat()}.pdf")
