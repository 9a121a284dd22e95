"""Loading administrative boundaries: validated, reprojected, simplified for display.

A load either replaces every area of one level or changes nothing: the file is read and
checked in full (coordinate system, geometry types and validity, code and name fields,
signs that it holds another level) before the first row is written. Invalid geometries
are refused, never silently repaired, so that what capdb stores is what the file says.
After a load, every incident's admin areas are recomputed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pycountry
import shapely
import sqlalchemy as sa
from flask_babel import gettext as _
from shapely.validation import explain_validity
from sqlalchemy.orm import Session

from capdb.bulk import insert_rows
from capdb.reference import Country
from capdb.vendor import NODE_MODULES
from maps.assign import AssignReport, assign_areas
from maps.boundary_files import BoundaryError, read_frame
from maps.models import AREA_LEVEL, Area

LEVELS = AREA_LEVEL.codes


@dataclass(frozen=True)
class Band:
    """How much of a geometry a zoom band shows: a pixel spans about 0.2 degrees at the
    world view, 0.01 at a region, 0.001 at a district."""

    tolerance: float  # of the simplification, in degrees
    decimals: int  # kept in the GeoJSON
    smallest_part: float = 0.0  # islands smaller than this (square degrees) are left out


BANDS = {"low": Band(0.15, 1, 0.1), "mid": Band(0.02, 2), "high": Band(0.004, 4)}
DEFAULT_SOURCE = NODE_MODULES / "world-atlas" / "countries-50m.json"
MAX_ERRORS = 20
POLYGONAL = frozenset({"Polygon", "MultiPolygon"})

# Field names of the usual sources (Natural Earth, GADM, OCHA COD, geoBoundaries), tried
# in order when the command does not name the field; matched without regard to case.
CODE_FIELDS = {
    "admin0": ("ISO_A3_EH", "ISO_A3", "GID_0", "ISO3", "ADM0_A3", "adm0_iso", "shapeGroup", "code"),
    "admin1": ("GID_1", "ADM1_PCODE", "iso_3166_2", "shapeID", "code"),
    "admin2": ("GID_2", "ADM2_PCODE", "shapeID", "code"),
}
NAME_FIELDS = {
    "admin0": ("NAME_EN", "ADMIN", "NAME", "COUNTRY", "NAME_0", "ADM0_EN", "shapeName", "name"),
    "admin1": ("NAME_1", "ADM1_EN", "ADM1_FR", "shapeName", "name"),
    "admin2": ("NAME_2", "ADM2_EN", "ADM2_FR", "shapeName", "name"),
}
COUNTRY_FIELDS = ("GID_0", "ISO_A3", "ADM0_A3", "ADM0_PCODE", "shapeGroup", "country")
PARENT_FIELDS = {"admin0": (), "admin1": (), "admin2": ("GID_1", "ADM1_PCODE", "parent")}
# Fields that only a file of a finer level carries.
FINER_FIELDS = {
    "admin0": ("GID_1", "NAME_1", "ADM1_PCODE", "ADM1_EN"),
    "admin1": ("GID_2", "NAME_2", "ADM2_PCODE", "ADM2_EN"),
    "admin2": ("GID_3", "NAME_3", "ADM3_PCODE", "ADM3_EN"),
}


@dataclass(frozen=True)
class FieldNames:
    """The attribute fields to read; ``None`` means: find the usual one."""

    code: str | None = None
    name: str | None = None
    country: str | None = None
    parent: str | None = None


@dataclass(frozen=True)
class Candidate:
    code: str
    name: str
    country_code: str | None
    parent_code: str | None
    geometry: shapely.Geometry


@dataclass
class LoadReport:
    level: str
    loaded: int
    replaced: int
    assigned: AssignReport
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            _(
                "%(loaded)d %(level)s areas loaded (%(replaced)d replaced); %(changed)d of"
                " %(incidents)d incidents got new admin areas.",
                loaded=self.loaded,
                level=self.level,
                replaced=self.replaced,
                changed=self.assigned.changed,
                incidents=self.assigned.incidents,
            )
        ]
        return "\n".join(lines + self.notes)


def load_file(
    db: Session,
    path: Path,
    level: str,
    fields: FieldNames | None = None,
    *,
    layer: str | None = None,
    crs: str | None = None,
) -> LoadReport:
    """Replace the level's areas with the file's; raise BoundaryError before any change."""
    frame = read_frame(path, layer=layer, crs=crs)
    candidates = validated_areas(db, frame, level, fields or FieldNames())
    replaced = replace_level(db, level, candidates, source=path.name)
    return LoadReport(level, len(candidates), replaced, assign_areas(db))


def load_default(db: Session, path: Path = DEFAULT_SOURCE) -> LoadReport:
    """Load the countries of Natural Earth 1:50m (world-atlas) as the admin0 level.

    The source is known, so its flaws are dealt with here, openly: three countries drawn
    across the antimeridian or the pole are repaired, features without an ISO code other
    than Kosovo are left out, and the pieces of one country are merged.
    """
    frame = read_frame(path, layer="countries", crs="EPSG:4326")
    known = set(db.scalars(sa.select(Country.code)))
    names: dict[str, str] = dict(db.execute(sa.select(Country.code, Country.name_en)).all())
    pieces: dict[str, list[shapely.Geometry]] = {}
    skipped: list[str] = []
    repaired: list[str] = []
    for number, (raw_id, name, geometry) in enumerate(
        zip(frame["id"], frame["name"], frame.geometry, strict=True), start=1
    ):
        code = _world_atlas_code(raw_id, name)
        if code is None or code not in known:
            skipped.append(str(name or number))
            continue
        if not shapely.is_valid(geometry):
            geometry = polygonal_part(shapely.make_valid(geometry))
            repaired.append(str(name))
        pieces.setdefault(code, []).append(geometry)
    candidates = [
        Candidate(code, names[code], code, None, _merged(parts)) for code, parts in pieces.items()
    ]
    replaced = replace_level(db, "admin0", candidates, source="world-atlas countries-50m")
    notes = []
    if repaired:
        notes.append(_("Repaired geometries: %(names)s.", names=", ".join(repaired)))
    if skipped:
        notes.append(_("Left out (no ISO 3166 code): %(names)s.", names=", ".join(skipped)))
    return LoadReport("admin0", len(candidates), replaced, assign_areas(db), notes)


def _world_atlas_code(raw_id: object, name: object) -> str | None:
    if isinstance(raw_id, str) and raw_id.strip():
        country = pycountry.countries.get(numeric=raw_id.strip())
        return str(country.alpha_3) if country else None
    return "XKX" if name == "Kosovo" else None


def _merged(parts: Sequence[shapely.Geometry]) -> shapely.Geometry:
    return parts[0] if len(parts) == 1 else polygonal_part(shapely.union_all(parts))


def polygonal_part(geometry: shapely.Geometry) -> shapely.Geometry:
    """The polygons of a geometry, dropping the lines and points a repair can leave."""
    polygons = [part for part in shapely.get_parts(geometry) if shapely.get_type_id(part) in (3, 6)]
    return shapely.union_all(polygons)


# Validation


def validated_areas(
    db: Session, frame: gpd.GeoDataFrame, level: str, fields: FieldNames
) -> list[Candidate]:
    """The file's features as areas of ``level``, or a BoundaryError naming every problem."""
    if level not in LEVELS:
        raise BoundaryError(_("Unknown level %(level)s.", level=level))
    columns = _columns(frame, level, fields)
    _refuse_finer_level(frame, level, fields)
    geometries = np.asarray(frame.geometry.values, dtype=object)
    errors = _geometry_errors(geometries)
    codes = [_text(value) for value in frame[columns["code"]]]
    names = [_text(value) for value in frame[columns["name"]]]
    errors += _attribute_errors(codes, names)
    if errors:
        raise BoundaryError(_summary(errors))
    countries = _country_codes(db, frame, columns.get("country"), level, codes)
    parents = (
        [_text(value) or None for value in frame[columns["parent"]]]
        if "parent" in columns
        else [countries[i] if level == "admin1" else None for i in range(len(codes))]
    )
    _refuse_wrong_level(db, level, codes)
    return [
        Candidate(code, name[:200], countries[i], parents[i], geometries[i])
        for i, (code, name) in enumerate(zip(codes, names, strict=True))
    ]


def _columns(frame: gpd.GeoDataFrame, level: str, fields: FieldNames) -> dict[str, str]:
    available = {str(column).lower(): str(column) for column in frame.columns}
    available.pop("geometry", None)
    found: dict[str, str] = {}
    wanted = {
        "code": (fields.code, CODE_FIELDS[level], True),
        "name": (fields.name, NAME_FIELDS[level], True),
        "country": (fields.country, COUNTRY_FIELDS if level != "admin0" else (), False),
        "parent": (fields.parent, PARENT_FIELDS[level], False),
    }
    missing = []
    for role, (given, usual, required) in wanted.items():
        column = _find_column(available, given, usual)
        if column is not None:
            found[role] = column
        elif given is not None or required:
            missing.append(given or role)
    if missing:
        raise BoundaryError(
            _(
                "Missing field(s): %(missing)s. The file has: %(available)s. Name the fields"
                " with --code-field and --name-field.",
                missing=", ".join(missing),
                available=", ".join(sorted(available.values())) or "-",
            )
        )
    return found


def _find_column(
    available: Mapping[str, str], given: str | None, usual: Iterable[str]
) -> str | None:
    if given is not None:
        return available.get(given.lower())
    return next((available[name.lower()] for name in usual if name.lower() in available), None)


def _refuse_finer_level(frame: gpd.GeoDataFrame, level: str, fields: FieldNames) -> None:
    if fields.code is not None:
        return
    columns = {str(column).lower() for column in frame.columns}
    finer = [name for name in FINER_FIELDS[level] if name.lower() in columns]
    if finer:
        raise BoundaryError(
            _(
                "The file has the field %(field)s, which marks areas finer than %(level)s:"
                " load it at its own level, or name the code field with --code-field.",
                field=finer[0],
                level=level,
            )
        )


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _geometry_errors(geometries: np.ndarray[Any, np.dtype[Any]]) -> list[str]:
    errors = []
    for number, geometry in enumerate(geometries, start=1):
        if geometry is None or shapely.is_empty(geometry):
            errors.append(_("Feature %(number)d has no geometry.", number=number))
        elif geometry.geom_type not in POLYGONAL:
            errors.append(
                _(
                    "Feature %(number)d is a %(type)s, not an area (Polygon or MultiPolygon).",
                    number=number,
                    type=geometry.geom_type,
                )
            )
        elif not shapely.is_valid(geometry):
            errors.append(
                _(
                    "Feature %(number)d has an invalid geometry (%(reason)s). Repair it, for"
                    " instance with ogr2ogr -makevalid, and load the file again.",
                    number=number,
                    reason=explain_validity(geometry),
                )
            )
    return errors


def _attribute_errors(codes: Sequence[str], names: Sequence[str]) -> list[str]:
    errors = []
    first_seen: dict[str, int] = {}
    for number, (code, name) in enumerate(zip(codes, names, strict=True), start=1):
        if not code:
            errors.append(_("Feature %(number)d has no code.", number=number))
        elif len(code) > 40:
            errors.append(
                _("Feature %(number)d has a code longer than 40 characters.", number=number)
            )
        elif code in first_seen:
            errors.append(
                _(
                    "Features %(first)d and %(number)d have the same code %(code)s: each area"
                    " needs its own code. Does the file hold another level?",
                    first=first_seen[code],
                    number=number,
                    code=code,
                )
            )
        else:
            first_seen[code] = number
        if not name:
            errors.append(_("Feature %(number)d has no name.", number=number))
    return errors


def _summary(errors: Sequence[str]) -> str:
    shown = list(errors[:MAX_ERRORS])
    if len(errors) > MAX_ERRORS:
        shown.append(_("... and %(count)d more problems.", count=len(errors) - MAX_ERRORS))
    return "\n".join(shown)


def _country_codes(
    db: Session, frame: gpd.GeoDataFrame, column: str | None, level: str, codes: Sequence[str]
) -> list[str | None]:
    if level == "admin0":
        return [code.upper() for code in codes]
    if column is None:
        return [None] * len(codes)
    known = set(db.scalars(sa.select(Country.code)))
    result: list[str | None] = []
    unknown: dict[str, int] = {}
    for number, value in enumerate(frame[column], start=1):
        code = _alpha3(_text(value))
        if code is not None and code not in known:
            unknown.setdefault(_text(value), number)
            code = None
        result.append(code)
    if unknown:
        listed = ", ".join(f"{value} (feature {number})" for value, number in unknown.items())
        raise BoundaryError(
            _("Unknown country codes in field %(field)s: %(codes)s.", field=column, codes=listed)
        )
    return result


def _alpha3(value: str) -> str | None:
    if not value:
        return None
    if len(value) == 2:
        country = pycountry.countries.get(alpha_2=value.upper())
        return str(country.alpha_3) if country else value
    return value.upper()


def _refuse_wrong_level(db: Session, level: str, codes: Sequence[str]) -> None:
    known = set(db.scalars(sa.select(Country.code)))
    not_countries = [code for code in codes if code.upper() not in known]
    if level == "admin0" and not_countries:
        raise BoundaryError(
            _(
                "These codes are not ISO 3166 alpha-3 codes of countries: %(codes)s. Is this"
                " a file of admin1 or admin2 areas? Otherwise name the field that holds the"
                " alpha-3 code with --code-field.",
                codes=", ".join(not_countries[:10]),
            )
        )
    if level != "admin0" and not not_countries:
        raise BoundaryError(
            _(
                "Every code of the file is a country code: this looks like a file of"
                " countries; load it with --level admin0."
            )
        )


# Storing


def replace_level(db: Session, level: str, candidates: Sequence[Candidate], *, source: str) -> int:
    """Swap the level's areas for the candidates; the number of areas replaced."""
    replaced = db.scalar(sa.select(sa.func.count()).where(Area.level == level)) or 0
    db.execute(sa.delete(Area).where(Area.level == level))
    geometries = np.asarray([c.geometry for c in candidates], dtype=object)
    bounds = shapely.bounds(geometries)
    displays = {band: display_geojson(geometries, band) for band in BANDS}
    wkb = shapely.to_wkb(geometries)
    rows = [
        {
            "level": level,
            "code": c.code,
            "name": c.name,
            "country_code": c.country_code,
            "parent_code": c.parent_code,
            "min_x": float(bounds[i][0]),
            "min_y": float(bounds[i][1]),
            "max_x": float(bounds[i][2]),
            "max_y": float(bounds[i][3]),
            "geometry": bytes(wkb[i]),
            "display_low": displays["low"][i],
            "display_mid": displays["mid"][i],
            "display_high": displays["high"][i],
            "source": source[:200],
        }
        for i, c in enumerate(candidates)
    ]
    insert_rows(db, cast(sa.Table, Area.__table__), rows)
    return replaced


def display_geojson(geometries: np.ndarray[Any, np.dtype[Any]], band: str) -> list[str]:
    """GeoJSON of the geometries simplified for a zoom band, with rounded coordinates."""
    settings = BANDS[band]
    simplified = shapely.simplify(geometries, settings.tolerance, preserve_topology=True)
    if settings.smallest_part:
        simplified = np.array(
            [_without_islets(g, settings.smallest_part) for g in simplified], dtype=object
        )
    rounded = shapely.transform(simplified, lambda xy: np.round(xy, settings.decimals))
    return [str(text) for text in shapely.to_geojson(rounded)]


def _without_islets(geometry: shapely.Geometry, smallest: float) -> shapely.Geometry:
    """The geometry without its parts smaller than ``smallest``, but never without its largest."""
    parts = shapely.get_parts(geometry)
    if len(parts) < 2:
        return geometry
    areas = shapely.area(parts)
    kept = parts[(areas >= smallest) | (areas == areas.max())]
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(list(kept))
