"""The trends dashboard's figures through the API, under ``/api/v1/stats``.

Each figure is the table the dashboard shows, its CSV download holds and its chart is drawn
from (:mod:`maps.charts`): the same query, the same scope, the same numbers. Titles,
headers and labels are in the request's language (``Accept-Language``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from capdb.i18n import current_locale
from incidents.api.access import session, viewer
from incidents.api.blueprint import api_blueprint
from incidents.api.queries import FilterQuery
from incidents.api.schemas import Schema
from maps import stats
from maps.charts import NAMES, Figure, Figures
from maps.stats import Period
from maps.trend_data import TrendData

blp = api_blueprint("api_stats", __name__, "The figures of the trends dashboard.")

SUMMARY_FIGURES = ("incidents", "fatalities", "injured", "abducted", "cases", "convictions")


class StatsQuery(FilterQuery):
    period = fields.String(
        validate=validate.OneOf(
            [p.value for p in Period], error=_l("Choose one of the listed values.")
        ),
        metadata={"description": "Count by month or by year. Default: months for a span of "
                  "up to two years, years otherwise."},
    )  # fmt: skip
    today_states = fields.Boolean(
        load_default=False,
        metadata={"description": "Count the victims of a former State (Yugoslavia, Zaire...) "
                  "under the State that continues it today."},
    )  # fmt: skip


class SummarySchema(Schema):
    incidents = fields.Integer(required=True)
    fatalities = fields.Integer(required=True)
    injured = fields.Integer(required=True)
    abducted = fields.Integer(required=True)
    cases = fields.Integer(required=True)
    convictions = fields.Integer(required=True)


class Cell(fields.Raw):
    """A table cell: a label, a number, or nothing."""


class FigureSchema(Schema):
    name = fields.String(required=True, validate=validate.OneOf(NAMES))
    title = fields.String(required=True)
    note = fields.String(required=True)
    headers = fields.List(fields.String(), required=True)
    rows = fields.List(
        fields.List(
            Cell(allow_none=True, metadata={"anyOf": [{"type": "string"}, {"type": "number"}]})
        ),
        required=True,
        metadata={"description": "One row per category or period, a cell per header."},
    )


class FiguresSchema(Schema):
    period = fields.String(required=True, validate=validate.OneOf([p.value for p in Period]))
    figures = fields.List(fields.Nested(FigureSchema), required=True)


@blp.route("/stats/summary", methods=["GET"])
@blp.arguments(FilterQuery, location="query", error_status_code=400)
@blp.response(200, SummarySchema)
def summary(query: dict[str, Any]) -> dict[str, int]:
    """Incidents, victims by outcome, cases and convictions: for the filter, within the
    viewer's scope."""
    filters = query["filters"]
    data = TrendData(session(), viewer(), filters, stats.default_period(filters))
    figures = data.summary()
    return {name: figures[name] for name in SUMMARY_FIGURES}


@blp.route("/stats/figures", methods=["GET"])
@blp.arguments(StatsQuery, location="query", error_status_code=400)
@blp.response(200, FiguresSchema)
def all_figures(query: dict[str, Any]) -> dict[str, Any]:
    """Every figure of the trends dashboard, for the filter, within the viewer's scope."""
    built, period = _figures(query)
    return {"period": period.value, "figures": [_figure(figure) for figure in built.all()]}


@blp.route(f"/stats/figures/<any({', '.join(map(repr, NAMES))}):name>", methods=["GET"])
@blp.arguments(StatsQuery, location="query", error_status_code=400)
@blp.response(200, FigureSchema)
def one_figure(query: dict[str, Any], name: str) -> dict[str, Any]:
    """One figure of the trends dashboard."""
    built, _period = _figures(query)
    return _figure(built.build(name))


def _figures(query: dict[str, Any]) -> tuple[Figures, Period]:
    filters = query["filters"]
    period = Period(query["period"]) if "period" in query else stats.default_period(filters)
    built = Figures(
        session(), viewer(), filters, period, current_locale(), today_states=query["today_states"]
    )
    return built, period


def _figure(figure: Figure) -> dict[str, Any]:
    return {
        "name": figure.name,
        "title": figure.title,
        "note": figure.note,
        "headers": list(figure.headers),
        "rows": [list(row) for row in figure.rows],
    }
