"""Reading a boundary file: any format GDAL reads, reprojected to longitude and latitude.

A file that cannot be read, holds several layers, or declares no (or a wrong) coordinate
system is refused with a :class:`BoundaryError` that tells the administrator what to do.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
from flask_babel import gettext as _
from pyproj.exceptions import CRSError


class BoundaryError(ValueError):
    """The file cannot be loaded as it is; nothing was changed."""


def read_frame(path: Path, *, layer: str | None = None, crs: str | None = None) -> gpd.GeoDataFrame:
    """The file's features in EPSG:4326, in file order.

    ``crs`` declares the coordinate system of a file that names none, such as TopoJSON;
    a file that names one keeps it.
    """
    if not path.is_file():
        raise BoundaryError(_("No such file: %(path)s", path=str(path)))
    layer = layer or _only_layer(path)
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as error:
        raise BoundaryError(
            _("Cannot read %(path)s: %(reason)s", path=path.name, reason=error)
        ) from None
    if frame.empty:
        raise BoundaryError(_("The file holds no features."))
    frame = frame.reset_index(drop=True)
    return _in_wgs84(_with_crs(frame, crs))


def _only_layer(path: Path) -> str | None:
    try:
        layers = pyogrio.list_layers(path)
    except (pyogrio.errors.DataSourceError, ValueError) as error:
        raise BoundaryError(
            _("Cannot read %(path)s: %(reason)s", path=path.name, reason=error)
        ) from None
    if len(layers) > 1:
        names = ", ".join(str(name) for name, _type in layers)
        raise BoundaryError(
            _("The file holds several layers (%(names)s): name one with --layer.", names=names)
        )
    return None


def _with_crs(frame: gpd.GeoDataFrame, crs: str | None) -> gpd.GeoDataFrame:
    if frame.crs is None:
        if crs is None:
            raise BoundaryError(
                _(
                    "The file declares no coordinate reference system. Add one to the file"
                    " (a .prj for a shapefile), or give it with --crs, such as --crs EPSG:4326."
                )
            )
        try:
            return frame.set_crs(crs)
        except CRSError:
            raise BoundaryError(
                _("Unknown coordinate reference system: %(crs)s", crs=crs)
            ) from None
    if crs is not None:
        raise BoundaryError(
            _(
                "The file declares its coordinate reference system (%(declared)s); leave out"
                " --crs.",
                declared=frame.crs.to_string(),
            )
        )
    return frame


def _in_wgs84(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(epsg=4326)
    min_x, min_y, max_x, max_y = frame.total_bounds
    # A hair of tolerance for reprojection noise at the edges of the world.
    if max(abs(min_x), abs(max_x)) > 180.001 or max(abs(min_y), abs(max_y)) > 90.001:
        raise BoundaryError(
            _(
                "The coordinates fall outside longitude and latitude once reprojected: the"
                " coordinate reference system the file declares is probably wrong."
            )
        )
    return frame
