"""The part of the world on screen, as the map's data endpoints are asked for it.

A view is a zoom level and a bounding box; the grid cells (:mod:`maps.grid`), display
geometries and coordinate precision of :mod:`maps.map_data` all follow from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from maps.models import Area

MAX_ZOOM = 18


DEFAULT_ZOOM = 2


WORLD = (-180.0, -90.0, 180.0, 90.0)


@dataclass(frozen=True)
class View:
    """The part of the world on screen, and how closely it is looked at."""

    zoom: int = DEFAULT_ZOOM
    west: float = WORLD[0]
    south: float = WORLD[1]
    east: float = WORLD[2]
    north: float = WORLD[3]

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> tuple[View, dict[str, str]]:
        """The view given by ``zoom`` and ``bbox``, and a reason for each value refused."""
        errors: dict[str, str] = {}
        zoom = DEFAULT_ZOOM
        raw_zoom = (args.get("zoom") or "").strip()
        if raw_zoom:
            if re.fullmatch(r"[0-9]{1,2}", raw_zoom) and int(raw_zoom) <= MAX_ZOOM:
                zoom = int(raw_zoom)
            else:
                errors["zoom"] = _("Give a zoom level from 0 to %(max)d.", max=MAX_ZOOM)
        bounds = WORLD
        raw_bbox = (args.get("bbox") or "").strip()
        if raw_bbox:
            parsed = _bbox(raw_bbox)
            if parsed is None:
                errors["bbox"] = _(
                    "Give the bounding box as four numbers, west,south,east,north, with west"
                    " before east and south before north."
                )
            else:
                bounds = parsed
        return cls(zoom, *bounds), errors

    @property
    def band(self) -> str:
        """The display geometries that fit this zoom."""
        return "low" if self.zoom <= 3 else "mid" if self.zoom <= 7 else "high"

    @property
    def decimals(self) -> int:
        """Decimals of a coordinate worth sending: about a tenth of a pixel."""
        return min(6, max(1, math.ceil(math.log10(256 * 2**self.zoom / 360)) + 1))

    def overlaps_area(self) -> sa.ColumnElement[bool]:
        return sa.and_(
            Area.min_x <= self.east,
            Area.max_x >= self.west,
            Area.min_y <= self.north,
            Area.max_y >= self.south,
        )


def _bbox(raw: str) -> tuple[float, float, float, float] | None:
    try:
        west, south, east, north = (float(part) for part in raw.split(","))
    except ValueError:
        return None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        return None
    # Leaflet's bounds run past the antimeridian when the world is seen whole.
    west, east = max(west, -180.0), min(east, 180.0)
    south, north = max(south, -90.0), min(north, 90.0)
    if west >= east or south >= north:
        return None
    return west, south, east, north
