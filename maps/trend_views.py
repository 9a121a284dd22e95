"""The trends dashboard: statistics, charts with their data tables, and the periodic report."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from auth import audit
from auth.access import viewer
from capdb import db
from capdb.clock import now
from capdb.downloads import attachment
from capdb.i18n import current_locale
from incidents.filter_choices import filter_choices, preset_filter
from incidents.filters import (
    IncidentFilters,
    from_request,
    invalid_filter,
    shown_args,
    takes_filter,
)
from incidents.jobs import running
from maps import report, stats
from maps.charts import NAMES, Figures, figure_csv, summary_items
from maps.stats import Period
from maps.tables import chart_points

bp = Blueprint("trends", __name__, template_folder="templates", url_prefix="/trends")


def parse_query(
    session: Session, preset: dict[str, str] | None = None
) -> tuple[IncidentFilters, Period, dict[str, str]]:
    """The shared filter and the period of the request, and a reason per value refused."""
    asked, errors = from_request(session, preset=preset)
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
    preset = preset_filter(viewer())
    filters, period, errors = parse_query(session, preset)
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
        chart_points=chart_points,
        filter_args=shown_args(preset),
        preset={} if request.args else preset,
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


@bp.get(f"/<any({', '.join(map(repr, NAMES))}):name>.svg")
@takes_filter()
def chart(name: str) -> BaseResponse:
    """A figure's chart, which the page loads beside its table: drawn once for every
    process (see :func:`maps.drawing.render`), and revalidated by the digest of its table."""
    session = db.session()
    filters, period, errors = parse_query(session)
    if errors:
        return invalid_filter(errors)
    figure = Figures(
        session, viewer(), filters, period, current_locale(), today_states=today_states()
    ).build(name)
    if figure.empty:
        abort(404)
    from maps import drawing  # loaded ahead by maps.warm_up, or here

    response = Response(mimetype="image/svg+xml")
    response.set_etag(drawing.chart_key(figure)[:32])
    response.cache_control.private = True
    response.cache_control.no_cache = True
    response.make_conditional(request)
    if response.status_code == 200:
        response.set_data(drawing.render(figure))
    return response


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
        params = {
            "filters": filters.as_args(),
            "period": period.value,
            "locale": current_locale(),
            "today_states": today_states(),
        }
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
        today_states=today_states(),
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
