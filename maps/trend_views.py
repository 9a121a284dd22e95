"""The trends dashboard: statistics, charts with their data tables, and the periodic report."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.access import viewer
from capdb import db
from capdb.clock import now
from capdb.downloads import attachment
from capdb.i18n import current_locale
from incidents.filter_choices import filter_choices
from incidents.filters import IncidentFilters
from maps import report, stats
from maps.charts import NAMES, Figures, figure_csv, summary_items
from maps.stats import Period

bp = Blueprint("trends", __name__, template_folder="templates", url_prefix="/trends")


def parse_query(
    session: Session, args: Mapping[str, str]
) -> tuple[IncidentFilters, Period, dict[str, str]]:
    """The shared filter and the period from the query string, and a reason per value refused."""
    filters, errors = IncidentFilters.parse(session, args)
    raw = (args.get("period") or "").strip()
    period = stats.default_period(filters)
    if raw:
        try:
            period = Period(raw)
        except ValueError:
            errors["period"] = _("Choose months or years.")
    return filters, period, errors


def query_args(filters: IncidentFilters, period: Period) -> dict[str, str]:
    return {**filters.as_args(), "period": period.value}


@bp.get("/")
def index() -> tuple[str, int]:
    session = db.session()
    filters, period, errors = parse_query(session, request.args)
    figures = summary = None
    if not errors:
        built = Figures(session, viewer(), filters, period, current_locale())
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


@bp.get("/<name>.csv")
def figure_download(name: str) -> Response:
    if name not in NAMES:
        abort(404)
    session = db.session()
    filters, period, errors = parse_query(session, request.args)
    if errors:
        return invalid_filter(errors)
    figure = Figures(session, viewer(), filters, period, current_locale()).build(name)
    audit.record(
        session,
        "export",
        user=viewer(),
        target_type="trends",
        target_id=name,
        detail={"format": "csv", "filters": query_args(filters, period)},
    )
    return attachment(figure_csv(figure).encode(), "text/csv", f"capdb-{name}.csv")


@bp.get("/report.pdf")
def report_pdf() -> Response:
    session = db.session()
    filters, period, errors = parse_query(session, request.args)
    if errors:
        return invalid_filter(errors)
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


def invalid_filter(errors: dict[str, str]) -> Response:
    """A download asked with an invalid filter: each field and its reason, as plain text."""
    lines = [_("The filter is not valid:")]
    lines += [f"{field}: {message}" for field, message in errors.items()]
    return Response("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")
