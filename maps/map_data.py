"""What the map draws: clusters, heat and choropleth, aggregated in SQL.

Every figure starts from :func:`incidents.filters.scoped_incidents`, the access rule plus
the filter the incident list shares, so the map never counts an incident its viewer could
not open. Incidents are aggregated on a grid whose cell size follows the zoom, so what is
sent depends on the view, not on how many incidents there are: one feature per occupied
cell, and single incidents (with their popup) only where a cell holds just one, or when
the view is close enough to hold few.

Payloads are JSON text: the stored display geometries are spliced in as they are.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from auth.models import User
from capdb.reference import Country
from incidents.filters import IncidentFilters, scoped_incidents
from incidents.models import Incident, Victim
from maps import map_tables
from maps.figure_reads import reading
from maps.grid import (
    CLUSTER_LEVELS,
    HEAT_LEVELS,
    ORIGIN_X,
    ORIGIN_Y,
    Cell,
    Grid,
    grid_for,
    index_sql,
    micro,
)
from maps.map_tables import AreaCount
from maps.models import AREA_LEVEL, Area
from maps.viewport import View

# A cluster covers about 64 screen pixels, a heat cell 16, whatever the zoom (see
# maps.grid): the levels of the grid they are counted on.
# Bounds on what one answer holds, even for a view far larger than a screen.
MAX_CLUSTER_CELLS = 600
MAX_HEAT_CELLS = 4_000
# From this zoom, a view holding few incidents shows each of them.
POINTS_ZOOM = 12
POINT_LIMIT = 300
MEASURES = ("incidents", "fatalities")
LEVELS = AREA_LEVEL.codes
AREA_KEYS = {
    "admin0": Incident.country_code,
    "admin1": Incident.admin1_code,
    "admin2": Incident.admin2_code,
}


def parse_choice(args: Mapping[str, str], name: str, choices: Sequence[str]) -> str | None:
    """The argument if it is one of the choices, None when absent; ValueError otherwise."""
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    if raw not in choices:
        raise ValueError(_("Unknown value."))
    return raw


# Shared pieces of the queries


def _without_jit(db: Session) -> None:
    """Turn off JIT compilation for the rest of the transaction.

    PostgreSQL compiles a query whose estimated cost is high (as an access rule's
    subqueries make it) with JIT, which costs seconds for what runs in milliseconds.
    """
    if db.get_bind().dialect.name == "postgresql":
        db.execute(sa.text("SET LOCAL jit = off"))


def killed_per_incident() -> sa.Subquery:
    return (
        sa.select(Victim.incident_id, sa.func.count().label("killed"))
        .where(Victim.outcome == "killed", Victim.deleted_at.is_(None))
        .group_by(Victim.incident_id)
        .subquery("killed_per_incident")
    )


def _killed_here() -> sa.ScalarSelect[int]:
    """The incident's fatalities, for a few rows (an index lookup each)."""
    return (
        sa.select(sa.func.count())
        .where(
            Victim.incident_id == Incident.id,
            Victim.outcome == "killed",
            Victim.deleted_at.is_(None),
        )
        .scalar_subquery()
    )


def grid_cells(
    db: Session,
    user: User,
    filters: IncidentFilters,
    grid: Grid,
    *,
    fatalities: bool = False,
    kept: bool = True,
) -> list[Cell]:
    """The occupied cells of the grid, with their incidents (and fatalities): read from
    the kept sums where they answer (``kept``), else counted from the incidents."""
    found = reading(db, user, filters) if kept else None
    if found is not None and (cells := map_tables.grid_cells(db, found, grid)) is not None:
        return [c if fatalities else dataclasses.replace(c, fatalities=None) for c in cells]
    factor = 1 << grid.level
    x, y = micro(Incident.longitude), micro(Incident.latitude)
    placed = (
        scoped_incidents(user, filters)
        .with_only_columns(
            index_sql(x, ORIGIN_X, factor).label("gx"),
            index_sql(y, ORIGIN_Y, factor).label("gy"),
            Incident.id,
            x.label("x"),
            y.label("y"),
        )
        .where(grid.holds())
    )
    if fatalities:
        killed = killed_per_incident()
        placed = placed.add_columns(sa.func.coalesce(killed.c.killed, 0).label("killed"))
        placed = placed.outerjoin(killed, killed.c.incident_id == Incident.id)
    cells_ = placed.subquery("placed")
    query = sa.select(
        sa.func.count(),
        sa.func.sum(cells_.c.killed) if fatalities else sa.null(),
        sa.func.sum(cells_.c.x),
        sa.func.sum(cells_.c.y),
        sa.func.min(cells_.c.id),
    )
    # Cells in one order (the kept sums' too: maps.map_tables), whatever the plan.
    query = query.group_by(cells_.c.gx, cells_.c.gy).order_by(cells_.c.gx, cells_.c.gy)
    _without_jit(db)
    return [
        Cell(int(n), None if k is None else int(k), int(sx), int(sy), int(i) if n == 1 else None)
        for n, k, sx, sy, i in db.execute(query)
    ]


# Clusters


def clusters(
    db: Session,
    user: User,
    filters: IncidentFilters,
    view: View,
    measure: str = "incidents",
    *,
    kept: bool = True,
) -> str:
    """GeoJSON of the view: a feature per occupied cell with its count, and its fatalities
    when they are the measure.

    A cell holding a single incident carries that incident's popup; at a close zoom a
    view holding few incidents shows every one of them.
    """
    fatalities = measure == "fatalities"
    grid = grid_for(view, CLUSTER_LEVELS, MAX_CLUSTER_CELLS)
    cells = grid_cells(db, user, filters, grid, fatalities=fatalities, kept=kept)
    total = sum(c.count for c in cells)
    if view.zoom >= POINTS_ZOOM and total <= POINT_LIMIT:
        features = _point_features(db, user, filters, view, grid, fatalities)
    else:
        popups = _popups(db, user, filters, [c.only_id for c in cells if c.only_id])
        features = [
            _cell_feature(c, view.decimals, popups.get(c.only_id) if c.only_id else None)
            for c in cells
        ]
    return dumps({"type": "FeatureCollection", "total": total, "features": features})


def _cell_feature(cell: Cell, decimals: int, popup: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"count": cell.count}
    if cell.fatalities is not None:
        properties["fatalities"] = cell.fatalities
    if popup is not None:
        properties["popup"] = popup
    return _point(cell.longitude, cell.latitude, decimals, properties)


def _point(
    longitude: float, latitude: float, decimals: int, properties: dict[str, Any]
) -> dict[str, Any]:
    coordinates = [round(longitude, decimals), round(latitude, decimals)]
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": coordinates},
        "properties": properties,
    }


def _popup_rows(
    db: Session,
    user: User,
    filters: IncidentFilters,
    condition: sa.ColumnElement[bool],
    fatalities: bool = False,
) -> list[tuple[Any, ...]]:
    """(id, reference, date, place, longitude, latitude[, fatalities]) of matching incidents."""
    columns: list[Any] = [
        Incident.id,
        Incident.reference,
        Incident.occurred_on,
        Incident.place,
        Incident.longitude,
        Incident.latitude,
    ]
    if fatalities:
        columns.append(_killed_here())
    query = (
        scoped_incidents(user, filters)
        .with_only_columns(*columns)
        .where(condition)
        .order_by(Incident.occurred_on.desc(), Incident.id.desc())
    )
    return [tuple(row) for row in db.execute(query)]


def _popups(
    db: Session, user: User, filters: IncidentFilters, incident_ids: list[int]
) -> dict[int, str]:
    if not incident_ids:
        return {}
    rows = _popup_rows(db, user, filters, Incident.id.in_(incident_ids))
    return {row[0]: popup_html([row]) for row in rows}


def _point_features(
    db: Session, user: User, filters: IncidentFilters, view: View, grid: Grid, fatalities: bool
) -> list[dict[str, Any]]:
    """One feature per place: incidents at the same coordinates share a popup."""
    places: dict[tuple[float, float], list[tuple[Any, ...]]] = {}
    for row in _popup_rows(db, user, filters, grid.holds(), fatalities):
        places.setdefault((row[4], row[5]), []).append(row)
    features = []
    for (longitude, latitude), rows in places.items():
        properties: dict[str, Any] = {"count": len(rows), "popup": popup_html(rows)}
        if fatalities:
            properties["fatalities"] = sum(r[6] for r in rows)
        features.append(_point(longitude, latitude, view.decimals, properties))
    return features


def popup_html(rows: Sequence[tuple[Any, ...]]) -> str:
    """The popup of one or more incidents; every value is escaped."""
    items = Markup("").join(
        Markup('<li><a href="{}">{}</a> <span>{}</span> {}</li>').format(
            url_for("incidents.detail", incident_id=row[0]),
            row[1],
            row[2].isoformat() if isinstance(row[2], date) else "",
            row[3],
        )
        for row in rows
    )
    return str(Markup('<ul class="map-popup">{}</ul>').format(items))


# Heat


def heat(
    db: Session,
    user: User,
    filters: IncidentFilters,
    view: View,
    measure: str,
    *,
    kept: bool = True,
) -> str:
    """Weighted points for the heat layer: one per occupied fine cell, at its centre."""
    fatalities = measure == "fatalities"
    grid = grid_for(view, HEAT_LEVELS, MAX_HEAT_CELLS)
    points = []
    for c in grid_cells(db, user, filters, grid, fatalities=fatalities, kept=kept):
        weight = c.fatalities if fatalities else c.count
        if weight:
            points.append(
                [round(c.latitude, view.decimals), round(c.longitude, view.decimals), weight]
            )
    biggest = max((p[2] for p in points), default=0)
    return dumps({"measure": measure, "max": biggest, "points": points})


# Choropleth and the base layer


def counts_by_area(
    db: Session,
    user: User,
    filters: IncidentFilters,
    level: str,
    *,
    fatalities: bool = False,
    kept: bool = True,
) -> list[AreaCount]:
    """Incidents (and fatalities) per area of the level; ``None`` is no area. Read from the
    kept sums where they answer (``kept``), else counted from the incidents.

    Countries are the incidents' own country; finer levels come from the boundaries.
    """
    found = reading(db, user, filters) if kept else None
    if found is not None and (areas := map_tables.area_counts(db, found, level)) is not None:
        return [a if fatalities else dataclasses.replace(a, fatalities=None) for a in areas]
    key = AREA_KEYS[level]
    killed = killed_per_incident()
    query = scoped_incidents(user, filters).with_only_columns(
        key,
        sa.func.count(),
        sa.func.count().filter(Incident.latitude.is_(None)),
        sa.func.sum(sa.func.coalesce(killed.c.killed, 0)) if fatalities else sa.null(),
    )
    if fatalities:
        query = query.outerjoin(killed, killed.c.incident_id == Incident.id)
    _without_jit(db)
    return [
        AreaCount(code, int(n), None if k is None else int(k), int(unlocated))
        for code, n, unlocated, k in db.execute(query.group_by(key))
    ]


@dataclass(frozen=True)
class CountryRow:
    code: str
    name: str
    incidents: int
    fatalities: int | None


@dataclass(frozen=True)
class CountryFigures:
    rows: list[CountryRow]
    unlocated: int


def country_figures(
    db: Session,
    user: User,
    filters: IncidentFilters,
    *,
    measure: str,
    locale: str,
    kept: bool = True,
) -> CountryFigures:
    """The map's figures as a table: incidents (and fatalities) by country, the largest
    first, and how many incidents have no coordinates to be mapped."""
    fatalities = measure == "fatalities"
    counts = counts_by_area(db, user, filters, "admin0", fatalities=fatalities, kept=kept)
    names = country_names(db, [c.code for c in counts if c.code], locale)
    rows = [
        CountryRow(c.code, names.get(c.code, c.code), c.incidents, c.fatalities)
        for c in counts
        if c.code
    ]
    rows.sort(key=lambda row: (-row.incidents, row.name))
    return CountryFigures(rows, sum(c.unlocated for c in counts))


def loaded_levels(db: Session) -> set[str]:
    return set(db.scalars(sa.select(Area.level).distinct()))


def level_for(db: Session, view: View, requested: str | None) -> str:
    """The requested level, or the finest one loaded that suits the zoom."""
    if requested:
        return requested
    wanted = "admin0" if view.zoom <= 4 else "admin1" if view.zoom <= 7 else "admin2"
    loaded = loaded_levels(db)
    for level in reversed(LEVELS[: LEVELS.index(wanted) + 1]):
        if level in loaded:
            return level
    return "admin0"


def choropleth(
    db: Session,
    user: User,
    filters: IncidentFilters,
    view: View,
    *,
    level: str,
    measure: str,
    locale: str,
    kept: bool = True,
) -> str:
    """GeoJSON of the areas in view that hold incidents, with their counts.

    ``total`` counts every incident the viewer may see that matches the filter;
    ``unmapped`` those that fall in no area of the level.
    """
    fatalities = measure == "fatalities"
    counted = counts_by_area(db, user, filters, level, fatalities=fatalities, kept=kept)
    counts = {c.code: c for c in counted}
    total = sum(c.incidents for c in counts.values())
    mapped = 0
    features = []
    for area in _areas_of(db, level, view, [code for code in counts if code], locale):
        count = counts[area.code]
        mapped += count.incidents
        if area.geometry is not None:
            properties: dict[str, Any] = {
                "code": area.code,
                "name": area.name,
                "incidents": count.incidents,
            }
            if count.fatalities is not None:
                properties["fatalities"] = count.fatalities
            features.append(_feature_text(area.geometry, properties))
    header = dumps(
        {"type": "FeatureCollection", "level": level, "measure": measure, "total": total,
         "unmapped": total - mapped}
    )  # fmt: skip
    return header[:-1] + ',"features":[' + ",".join(features) + "]}"


@dataclass(frozen=True)
class _Area:
    code: str
    name: str
    geometry: str | None  # None when the area is out of view


def _areas_of(db: Session, level: str, view: View, codes: list[str], locale: str) -> list[_Area]:
    """The level's areas with these codes; the display geometry of those in view."""
    if not codes:
        return []
    display = getattr(Area, f"display_{view.band}")
    in_view = sa.case((view.overlaps_area(), display), else_=sa.null())
    rows = list(
        db.execute(
            sa.select(Area.code, Area.name, in_view)
            .where(Area.level == level, Area.code.in_(codes))
            .order_by(Area.code)
        )
    )
    names = country_names(db, codes, locale) if level == "admin0" else {}
    return [_Area(code, names.get(code, name), geometry) for code, name, geometry in rows]


def country_names(db: Session, codes: list[str], locale: str) -> dict[str, str]:
    rows = db.scalars(sa.select(Country).where(Country.code.in_(codes)))
    return {country.code: country.name(locale) for country in rows}


def boundaries(db: Session, view: View, *, level: str, locale: str) -> str:
    """GeoJSON of the level's areas in view, for the base layer; no incident data."""
    display = getattr(Area, f"display_{view.band}")
    rows = list(
        db.execute(
            sa.select(Area.code, Area.name, display)
            .where(Area.level == level, view.overlaps_area())
            .order_by(Area.code)
        )
    )
    names = country_names(db, [row[0] for row in rows], locale) if level == "admin0" else {}
    features = [
        _feature_text(geometry, {"code": code, "name": names.get(code, name)})
        for code, name, geometry in rows
    ]
    header = dumps({"type": "FeatureCollection", "level": level})
    return header[:-1] + ',"features":[' + ",".join(features) + "]}"


def _feature_text(geometry: str, properties: Mapping[str, Any]) -> str:
    return '{"type":"Feature","geometry":' + geometry + ',"properties":' + dumps(properties) + "}"


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
