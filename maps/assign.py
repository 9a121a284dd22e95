"""Each incident's admin areas, derived from its point and the loaded boundaries.

Called for a few incidents after a form or an import saves them, and for all of them
after boundaries are reloaded. Points are matched to areas in bulk with an STRtree; only
the incidents whose areas change are written, with one executemany UPDATE. These are
derived fields: they change neither the incident's version nor its history.

A point on the border of two areas, or inside two overlapping ones, goes to the area
whose interior holds it, then to the smallest code, so that the result never depends on
the order of rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import shapely
import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.reference import mission_hosts
from incidents.models import Incident
from maps.figure_upkeep import changing
from maps.models import Area

CHUNK = 500
NAME_LENGTH = 120
DERIVED = ("admin1", "admin1_code", "admin2", "admin2_code", "outside_mission_area")

Array = np.ndarray[Any, np.dtype[Any]]


@dataclass(frozen=True)
class AssignReport:
    incidents: int
    changed: int


@dataclass
class _Points:
    ids: Array
    missions: Array
    geometries: Array  # shapely points; None where the incident has no coordinates
    current: list[tuple[Any, ...]]


def assign_areas(db: Session, incident_ids: Collection[int] | None = None) -> AssignReport:
    """Recompute the admin areas of the given incidents, or of all of them."""
    db.flush()
    points = _load_points(db, incident_ids)
    if len(points.ids) == 0:
        return AssignReport(0, 0)
    loaded = set(db.scalars(sa.select(Area.level).distinct()))
    values: dict[str, list[Any]] = {}
    for level in ("admin1", "admin2"):
        if level in loaded:
            names, codes = _match(points, _areas(db, level, incident_ids))
            values[level], values[f"{level}_code"] = names, codes
    if "admin0" in loaded:
        values["outside_mission_area"] = [bool(f) for f in _outside_mission_area(db, points)]
    changes = _changes(points, values)
    _write(db, changes)
    return AssignReport(len(points.ids), len(changes))


def _load_points(db: Session, incident_ids: Collection[int] | None) -> _Points:
    columns = [Incident.id, Incident.mission_code, Incident.longitude, Incident.latitude]
    columns += [getattr(Incident, name) for name in DERIVED]
    rows: list[tuple[Any, ...]] = []
    if incident_ids is None:
        rows = [tuple(row) for row in db.execute(sa.select(*columns).order_by(Incident.id))]
    else:
        for chunk in _chunks(sorted(set(incident_ids))):
            rows += [
                tuple(row) for row in db.execute(sa.select(*columns).where(Incident.id.in_(chunk)))
            ]
    coordinates = np.asarray(
        [(np.nan, np.nan) if r[2] is None else (r[2], r[3]) for r in rows], dtype=np.float64
    ).reshape(-1, 2)
    geometries = shapely.points(coordinates)
    geometries[np.isnan(coordinates[:, 0])] = None
    return _Points(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        missions=np.array([r[1] for r in rows], dtype=object),
        geometries=geometries,
        current=[tuple(r[4:]) for r in rows],
    )


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@dataclass
class _Areas:
    codes: Array
    names: Array
    country_codes: Array
    geometries: Array


def _areas(db: Session, level: str, incident_ids: Collection[int] | None) -> _Areas:
    """The level's areas; for a few incidents, only those whose bounding box holds one."""
    query = sa.select(Area.code, Area.name, Area.country_code, Area.geometry).where(
        Area.level == level
    )
    rows: dict[str, tuple[Any, ...]] = {}
    if incident_ids is None:
        rows = {row[0]: tuple(row) for row in db.execute(query)}
    else:
        for chunk in _chunks(sorted(set(incident_ids))):
            near = sa.exists().where(
                Incident.id.in_(chunk),
                Incident.longitude.between(Area.min_x, Area.max_x),
                Incident.latitude.between(Area.min_y, Area.max_y),
            )
            rows.update((row[0], tuple(row)) for row in db.execute(query.where(near)))
    return _areas_from([rows[code] for code in sorted(rows)])


def _areas_from(rows: Sequence[tuple[Any, ...]]) -> _Areas:
    """Areas from (code, name, country code, WKB) rows, in the rows' order."""
    return _Areas(
        codes=np.array([r[0] for r in rows], dtype=object),
        names=np.array([r[1] for r in rows], dtype=object),
        country_codes=np.array([r[2] for r in rows], dtype=object),
        geometries=shapely.from_wkb(np.array([r[3] for r in rows], dtype=object)),
    )


def _pairs(points: Array, areas: Array) -> tuple[Array, Array]:
    """(point index, area index) of every point lying in or on an area."""
    if len(areas) == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    located = np.flatnonzero(~shapely.is_missing(points))
    tree = shapely.STRtree(areas)
    point_index, area_index = tree.query(points[located], predicate="intersects")
    return located[point_index], area_index


def _match(points: _Points, areas: _Areas) -> tuple[list[str | None], list[str | None]]:
    """The name and code of each point's area, or None."""
    point_index, area_index = _pairs(points.geometries, areas.geometries)
    names: list[str | None] = [None] * len(points.ids)
    codes: list[str | None] = [None] * len(points.ids)
    if len(point_index) == 0:
        return names, codes
    inside = shapely.contains(areas.geometries[area_index], points.geometries[point_index])
    # Areas are sorted by code, so the area index orders by code.
    order = np.lexsort((area_index, ~inside, point_index))
    point_index, area_index = point_index[order], area_index[order]
    first = np.unique(point_index, return_index=True)[1]
    for point, area in zip(point_index[first], area_index[first], strict=True):
        names[point] = str(areas.names[area])[:NAME_LENGTH]
        codes[point] = str(areas.codes[area])
    return names, codes


def _outside_mission_area(db: Session, points: _Points) -> Array:
    """Whether each point lies outside every host country of its mission.

    Missions none of whose host countries has a boundary loaded are never flagged.
    """
    hosts = set(db.execute(sa.select(mission_hosts.c.mission_code, mission_hosts.c.country_code)))
    countries = _host_countries(db)
    flagged = np.zeros(len(points.ids), dtype=bool)
    with_boundary = {mission for mission, country in hosts if country in countries.codes}
    point_index, area_index = _pairs(points.geometries, countries.geometries)
    in_host = np.zeros(len(points.ids), dtype=bool)
    for point, area in zip(point_index, area_index, strict=True):
        if (points.missions[point], countries.codes[area]) in hosts:
            in_host[point] = True
    for i, mission in enumerate(points.missions):
        located = points.geometries[i] is not None
        flagged[i] = located and mission in with_boundary and not in_host[i]
    return flagged


def _host_countries(db: Session) -> _Areas:
    query = sa.select(Area.code, Area.name, Area.country_code, Area.geometry).where(
        Area.level == "admin0", Area.code.in_(sa.select(mission_hosts.c.country_code))
    )
    return _areas_from([tuple(row) for row in db.execute(query.order_by(Area.code))])


def _changes(points: _Points, values: dict[str, list[Any]]) -> list[dict[str, Any]]:
    changes = []
    for i, current in enumerate(points.current):
        row = dict(zip(DERIVED, current, strict=True))
        new = {name: column[i] for name, column in values.items()}
        if any(row[name] != value for name, value in new.items()):
            row.update(new)
            changes.append({"b_id": int(points.ids[i]), **{f"b_{k}": v for k, v in row.items()}})
    return changes


def _write(db: Session, changes: list[dict[str, Any]]) -> None:
    if not changes:
        return
    table = cast(sa.Table, Incident.__table__)
    statement = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        # Derived fields are not an edit: keep updated_at as it was.
        .values(
            updated_at=table.c.updated_at,
            **{name: sa.bindparam(f"b_{name}") for name in DERIVED},
        )
    )
    changed = {row["b_id"] for row in changes}
    with changing(db, changed):  # the figures by area
        db.execute(statement, changes)
    for instance in list(db.identity_map.values()):
        if isinstance(instance, Incident) and instance.id in changed:
            db.expire(instance, list(DERIVED))
