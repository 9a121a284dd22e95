"""``flask --app wsgi missions list|add|update|close|delete``: the missions, kept from the
command line by the rules the admin pages and the API apply. Changes are audited as made
by "system"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy.orm import Session

from capdb import db
from capdb.config import current_config
from capdb.reference import Mission, host_periods
from capdb.vocabularies import MISSION_KIND
from incidents.errors import InputError, StaleEditError
from incidents.reference import missions

missions_cli = AppGroup("missions", help="List, add, change and close missions.")


@contextmanager
def transaction() -> Iterator[Session]:
    """A session committed when the command succeeds, its messages in the default language."""
    with (
        force_locale(current_config().default_locale),
        db.writes(),
        db.database().sessionmaker.begin() as session,
    ):
        yield session


def refused(error: InputError) -> click.ClickException:
    lines = [f"{field}: {reason}" for field, reason in error.problems.items()]
    return click.ClickException("nothing was changed.\n  " + "\n  ".join(lines))


def mission_named(session: Session, code: str) -> Mission:
    mission = session.get(Mission, code.upper())
    if mission is None:
        raise click.ClickException(f"there is no mission {code!r}.")
    return mission


def line_of(mission: Mission) -> str:
    period = f"{mission.started_on} – {mission.ended_on or ''}".rstrip()
    hosts = ", ".join(
        h.country
        + (f" from {h.since}" if h.since else "")
        + (f" until {h.until}" if h.until else "")
        for h in host_periods(mission)
    )
    return f"{mission.code:<12} {mission.kind:<15} {period:<25} {hosts:<20} {mission.name_en}"


@missions_cli.command("list")
@click.option("--kind", type=click.Choice(MISSION_KIND.codes), help="Only missions of this kind.")
@click.option("--open/--closed", "open_", default=None, help="Only open, or only closed, ones.")
def list_missions(kind: str | None, open_: bool | None) -> None:
    """Every mission: acronym, kind, period, host countries, name."""
    with db.database().sessionmaker() as session:
        for mission in session.scalars(sa.select(Mission).order_by(Mission.code)):
            if kind in (None, mission.kind) and open_ in (None, not mission.is_closed):
                click.echo(line_of(mission))


HOST_HELP = "A host country: ISO code, then optionally since and until (SSD:2011-07-09)."


def _hosts(values: tuple[str, ...]) -> tuple[Any, ...]:
    hosts, problem = missions.read_hosts(list(values))
    if problem:
        raise click.BadParameter(problem, param_hint="--host")
    return hosts


@missions_cli.command("add")
@click.argument("code", required=False)
@click.option("--presence-in", help="Add the other UN presence of this country (ISO code).")
@click.option("--kind", type=click.Choice(MISSION_KIND.codes), default="peacekeeping")
@click.option("--name-en", default="", help="The English name.")
@click.option("--name-fr", default="", help="The French name.")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), help="The day it started.")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="The day it ended, if it has.")
@click.option("--host", "hosts", multiple=True, help=HOST_HELP)
@click.option("--predecessor", help="The acronym of the mission it followed.")
@click.option("--alias", "aliases", multiple=True, help="Another acronym for it (repeatable).")
def add(code: str | None, presence_in: str | None, **options: Any) -> None:
    """Add the mission CODE, or with --presence-in the other UN presence of a country."""
    if bool(code) == bool(presence_in):
        raise click.UsageError("give either a mission's acronym or --presence-in.")
    try:
        with transaction() as session:
            if presence_in:
                mission, added = missions.presence_in(session, presence_in, by=None)
                click.echo(("Added " if added else "Already there: ") + line_of(mission))
                return
            values = missions.MissionInput(
                code=(code or "").upper(),
                kind=options["kind"],
                name_en=options["name_en"],
                name_fr=options["name_fr"],
                started_on=options["start"].date() if options["start"] else None,
                ended_on=options["end"].date() if options["end"] else None,
                hosts=_hosts(options["hosts"]),
                predecessor=(options["predecessor"] or "").upper() or None,
                aliases=tuple(a.upper() for a in options["aliases"]),
            )
            mission = missions.add_mission(session, values, by=None)
            click.echo("Added " + line_of(mission))
    except InputError as error:
        raise refused(error) from None


@missions_cli.command("update")
@click.argument("code")
@click.option("--kind", type=click.Choice(MISSION_KIND.codes))
@click.option("--name-en")
@click.option("--name-fr")
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--reopen", is_flag=True, help="Remove the end date.")
@click.option("--host", "hosts", multiple=True, help=HOST_HELP + " Replaces all hosts.")
@click.option("--predecessor")
@click.option("--alias", "aliases", multiple=True, help="Replaces all aliases.")
def update(code: str, reopen: bool, **options: Any) -> None:
    """Change the mission CODE: only the options given change."""
    try:
        with transaction() as session:
            mission = mission_named(session, code)
            changes = _changes(options, reopen)
            current = missions.MissionInput.of(mission)
            changed = missions.update_mission(
                session, mission, replace(current, **changes), by=None,
                expected_version=mission.version,
            )  # fmt: skip
            click.echo(f"Changed {', '.join(changed) or 'nothing'}: " + line_of(mission))
    except InputError as error:
        raise refused(error) from None
    except StaleEditError:
        raise click.ClickException("the mission changed meanwhile; nothing was changed.") from None


def _changes(options: dict[str, Any], reopen: bool) -> dict[str, Any]:
    changes: dict[str, Any] = {
        name: value
        for name, value in (
            ("kind", options["kind"]),
            ("name_en", options["name_en"]),
            ("name_fr", options["name_fr"]),
        )
        if value is not None
    }
    if options["start"]:
        changes["started_on"] = options["start"].date()
    if options["end"]:
        changes["ended_on"] = options["end"].date()
    if reopen:
        changes["ended_on"] = None
    if options["hosts"]:
        changes["hosts"] = _hosts(options["hosts"])
    if options["predecessor"] is not None:
        changes["predecessor"] = options["predecessor"].upper() or None
    if options["aliases"]:
        changes["aliases"] = tuple(a.upper() for a in options["aliases"])
    return changes


@missions_cli.command("close")
@click.argument("code")
@click.option("--on", "ended_on", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The day it ended.")  # fmt: skip
def close(code: str, ended_on: Any) -> None:
    """Close the mission CODE: incidents stay recordable for dates within its period."""
    day: date = ended_on.date()
    try:
        with transaction() as session:
            mission = mission_named(session, code)
            missions.close_mission(session, mission, day, by=None, expected_version=mission.version)
            click.echo("Closed " + line_of(mission))
    except InputError as error:
        raise refused(error) from None


@missions_cli.command("delete")
@click.argument("code")
def delete(code: str) -> None:
    """Delete the mission CODE if no record names it; otherwise close it."""
    try:
        with transaction() as session:
            mission = mission_named(session, code)
            missions.delete_mission(session, mission, by=None, expected_version=mission.version)
    except missions.MissionInUseError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"Deleted {code.upper()}.")
