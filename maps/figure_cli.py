"""``flask --app wsgi figures rebuild`` and ``figures check``: the sums that maps and
trends read (:mod:`maps.figure_upkeep`), refilled or checked from the incidents."""

from __future__ import annotations

import sys
import time

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from capdb import db
from incidents.models import Incident
from maps.figure_upkeep import check, rebuild

figures_cli = AppGroup("figures", help="The sums that maps and trends are read from.")


def _incidents() -> int:
    with db.database().sessionmaker() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(Incident)) or 0


@figures_cli.command("rebuild")
def rebuild_command() -> None:
    """Fill the figure tables from every incident, and read figures from them from then on."""
    started = time.perf_counter()
    with db.writes(), db.database().sessionmaker.begin() as session:
        written = rebuild(session)
    rows = ", ".join(f"{count} {name}" for name, count in written.items())
    click.echo(f"Figures rebuilt in {time.perf_counter() - started:.1f} s: {rows}.")


@figures_cli.command("check")
def check_command() -> None:
    """Report how the figure tables differ from the incidents, writing nothing; exit with
    status 1 when they differ."""
    with (
        click.progressbar(length=_incidents(), label="Incidents", file=sys.stderr) as bar,
        db.database().sessionmaker() as session,
    ):
        found = check(session, progress=bar.update)
    wrong = {name: d for name, d in found.items() if d.missing or d.extra}
    if not wrong:
        click.echo("The figure tables hold what the incidents add up to.")
        return
    for name, discrepancy in wrong.items():
        click.echo(
            f"{name}: {discrepancy.missing} rows missing or wrong, {discrepancy.extra} extra.",
            err=True,
        )
    click.echo("Run `flask --app wsgi figures rebuild`.", err=True)
    raise SystemExit(1)
