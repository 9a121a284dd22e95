"""``flask --app wsgi boundaries load FILE --level admin0|admin1|admin2`` and ``load-default``.

:mod:`maps.boundaries` brings geopandas with it, so the commands import it when they run:
every other command, and the application itself, start without it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from capdb import db
from maps.models import AREA_LEVEL, Area

if TYPE_CHECKING:
    from maps.boundaries import LoadReport

boundaries_cli = AppGroup("boundaries", help="Load administrative boundaries.")


@boundaries_cli.command("load")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--level", type=click.Choice(AREA_LEVEL.codes), required=True, help="The areas' level."
)
@click.option("--code-field", help="The field holding each area's code.")
@click.option("--name-field", help="The field holding each area's name.")
@click.option("--country-field", help="The field holding the country code (admin1, admin2).")
@click.option("--parent-field", help="The field holding the code of the enclosing area.")
@click.option("--layer", help="The layer to read, in a file holding several.")
@click.option("--crs", help="The coordinate system of a file that declares none (EPSG:4326).")
def load(
    path: Path,
    level: str,
    code_field: str | None,
    name_field: str | None,
    country_field: str | None,
    parent_field: str | None,
    layer: str | None,
    crs: str | None,
) -> None:
    """Replace the areas of a level with those of a GeoPackage, Shapefile, GeoJSON or
    TopoJSON file, then recompute the incidents' admin areas. All or nothing."""
    from maps.boundaries import FieldNames, load_file

    fields = FieldNames(code_field, name_field, country_field, parent_field)
    _run(lambda session: load_file(session, path, level, fields, layer=layer, crs=crs))


@boundaries_cli.command("load-default")
@click.option("--if-empty", is_flag=True, help="Do nothing when countries are already loaded.")
def load_default_command(if_empty: bool) -> None:
    """Load the world's countries (Natural Earth 1:50m, installed by make) as admin0."""
    if if_empty and _has_countries():
        click.echo(_("Country boundaries are already loaded; nothing changed."))
        return
    from maps.boundaries import load_default

    _run(load_default)


def _has_countries() -> bool:
    with db.database().sessionmaker() as session:
        return session.scalar(sa.select(Area.id).where(Area.level == "admin0").limit(1)) is not None


def _run(action: Callable[[Session], LoadReport]) -> None:
    from maps.boundary_files import BoundaryError

    try:
        with db.database().sessionmaker.begin() as session:
            report = action(session)
    except BoundaryError as error:
        raise click.ClickException(f"{_('Nothing was loaded.')}\n{error}") from None
    click.echo(str(report))
