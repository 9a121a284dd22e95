"""``flask --app wsgi scope rebuild`` and ``scope check``: the States each incident and
case concerns, as :mod:`incidents.concerned` keeps them, recomputed or checked from
scratch."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from capdb import db
from incidents.concerned import DERIVED, Difference, rebuild

scope_cli = AppGroup("scope", help="Which States each incident and case concerns.")


@scope_cli.command("rebuild")
def rebuild_command() -> None:
    """Recompute the States every incident and case concerns from the incidents, their
    victims, the missions' hosts and the cases; report the rows added and removed."""
    started = time.perf_counter()
    with db.database().sessionmaker.begin() as session:
        differences = rebuild(session)
        lines = _lines(session, differences, "{added} rows added, {removed} removed")
    click.echo(f"Scope rebuilt in {time.perf_counter() - started:.1f} s.")
    click.echo("\n".join(lines))


@scope_cli.command("check")
def check_command() -> None:
    """Report how the kept States differ from those computed from scratch, writing
    nothing; exit with status 1 when they differ."""
    with db.database().sessionmaker() as session:
        differences = rebuild(session, write=False)
        wording = "{added} rows missing, {removed} rows that should not be there"
        lines = _lines(session, differences, wording)
    if not any(differences):
        click.echo("Scope is current, as computed from scratch:")
        click.echo("\n".join(lines))
        return
    click.echo("Scope differs from the rule:", err=True)
    click.echo("\n".join(lines), err=True)
    click.echo("Run `flask --app wsgi scope rebuild`.", err=True)
    raise SystemExit(1)


def _lines(session: Session, differences: tuple[Difference, ...], wording: str) -> list[str]:
    lines = []
    for derived, difference in zip(DERIVED, differences, strict=True):
        rows = session.scalar(sa.select(sa.func.count()).select_from(derived.table)) or 0
        change = wording.format(added=difference.added, removed=difference.removed)
        lines.append(f"  {derived.table.name}: {change}; {rows} rows.")
    return lines
