"""The map page, and the data its layers fetch as the view moves.

The page is a folium map with no data in it (:mod:`maps.folium_map`): every layer
(country borders, clusters, heat, choropleth) asks the ``/maps/data/...`` endpoints for
what the current view needs, so the page weighs the same whatever the number of incidents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from auth.access import viewer
from capdb import db
from capdb.i18n import current_locale
from incidents.filter_choices import filter_choices, preset_filter
from incidents.filters import IncidentFilters, from_request, shown_args, takes_filter
from maps import map_data, warm_up
from maps.map_data import LEVELS, MEASURES
from maps.viewport import View

bp = Blueprint("maps", __name__, template_folder="templates", url_prefix="/maps")
# Charts and the map page need libraries that take seconds to import: from the first
# request of a process on, they load in the background.
bp.before_app_request(warm_up.start)


@bp.get("/")
@takes_filter()
def index() -> tuple[str, int]:
    session = db.session()
    user = viewer()
    preset = preset_filter(user)
    asked, errors = from_request(session, preset=preset)
    filters = asked.filters
    measure = _choice(request.args, "measure", MEASURES, errors) or "incidents"
    context: dict[str, Any] = {
        "filters": filters,
        "errors": errors,
        "measure": measure,
        "choices": filter_choices(session, user),
        "filter_args": shown_args(preset),
        "preset": {} if request.args else preset,
    }
    if not errors:
        from maps.folium_map import render_map

        context["map"] = render_map(filters, measure)
        context["figures"] = map_data.country_figures(
            session, user, filters, measure=measure, locale=current_locale()
        )
    return render_template("maps/index.html", **context), 400 if errors else 200


# The data of the layers


@bp.get("/data/clusters")
@takes_filter()
def clusters() -> Response:
    filters, view, errors = _data_arguments()
    measure = _choice(request.args, "measure", MEASURES, errors) or "incidents"
    if errors:
        return _errors(errors)
    return _incident_data(map_data.clusters(db.session(), viewer(), filters, view, measure))


@bp.get("/data/heat")
@takes_filter()
def heat() -> Response:
    filters, view, errors = _data_arguments()
    measure = _choice(request.args, "measure", MEASURES, errors) or "incidents"
    if errors:
        return _errors(errors)
    payload = map_data.heat(db.session(), viewer(), filters, view, measure)
    return _incident_data(payload, mimetype="application/json")


@bp.get("/data/choropleth")
@takes_filter()
def choropleth() -> Response:
    filters, view, errors = _data_arguments()
    measure = _choice(request.args, "measure", MEASURES, errors) or "incidents"
    level = _choice(request.args, "level", LEVELS, errors)
    if errors:
        return _errors(errors)
    session = db.session()
    payload = map_data.choropleth(
        session,
        viewer(),
        filters,
        view,
        level=map_data.level_for(session, view, level),
        measure=measure,
        locale=current_locale(),
    )
    return _incident_data(payload)


@bp.get("/data/boundaries")
def boundaries() -> WerkzeugResponse:
    """The base layer: borders only, the same for every viewer, revalidated by ETag."""
    errors: dict[str, str] = {}
    view, view_errors = View.parse(request.args)
    errors.update(view_errors)
    level = _choice(request.args, "level", LEVELS, errors) or "admin0"
    if errors:
        return _errors(errors)
    payload = map_data.boundaries(db.session(), view, level=level, locale=current_locale())
    response = Response(payload, mimetype="application/geo+json")
    response.set_etag(hashlib.sha256(payload.encode()).hexdigest()[:32])
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response.make_conditional(request)


def _data_arguments() -> tuple[IncidentFilters, View, dict[str, str]]:
    asked, errors = from_request(db.session())
    filters = asked.filters
    view, view_errors = View.parse(request.args)
    return filters, view, errors | view_errors


def _choice(
    args: Mapping[str, str], name: str, choices: tuple[str, ...], errors: dict[str, str]
) -> str | None:
    try:
        return map_data.parse_choice(args, name, choices)
    except ValueError as error:
        errors[name] = str(error)
        return None


def _incident_data(payload: str, mimetype: str = "application/geo+json") -> Response:
    response = Response(payload, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-store"
    return response


def _errors(errors: dict[str, str]) -> Response:
    response = Response(map_data.dumps({"errors": errors}), status=400, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
