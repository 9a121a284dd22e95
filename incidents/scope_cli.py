"""``flask --app wsgi scope rebuild`` and ``scope check``: the States each incident
concerns, as :mod:`incidents.concerned` keeps them, recomputed or checked from scratch."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from capdb import db
from incidents.concerned import rebuild
from incidents.models import IncidentState

scope_cli = AppGroup("scope", help="Which States each incident concerns (Member State scope).")


@scope_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the States every incident concerns from the incidents, their victims and
    the missions' hosts; report the rows added and removed."""
    started = time.perf_counter()
    with db.database().sessionmaker.begin() as session:
        difference = rebuild(session)
        rows = _rows(session)
    click.echo(
        f"Scope rebuilt in {time.perf_counter() - started:.1f} s: {difference.added} rows"
        f" added, {difference.removed} removed; {rows} rows."
    )


@scope_cli.command("check")
def check_command() -> None:
    """Report how the kept States differ from those computed from scratch, writing
    nothing; exit with status 1 when they differ."""
    with db.database().sessionmaker() as session:
        difference = rebuild(session, write=False)
        rows = _rows(session)
    if not difference:
        click.echo(f"Scope is current: {rows} rows, as computed from scratch.")
        return
    click.echo(
        f"Scope differs from the rule: {difference.added} rows missing,"
        f" {difference.removed} rows that should not be there."
        " Run `flask --app wsgi scope rebuild`.",
        err=True,
    )
    raise SystemExit(1)


def _rows(session: sa.orm.Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(IncidentState)) or 0
