"""The command-line root: ``flask --app wsgi db ...`` and the schema migrations."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from flask.cli import AppGroup

from capdb import db
from capdb.reference import load_reference

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config() -> AlembicConfig:
    """Alembic's settings for the current application's database."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    # One file per change, named with the date it was written.
    config.set_main_option(
        "file_template", "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    config.attributes["engine"] = db.database().engine
    return config


@click.group("db", cls=AppGroup)
def db_cli() -> None:
    """Manage the database schema and reference data."""


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (the latest by default), then refresh reference data."""
    command.upgrade(alembic_config(), revision)
    if revision == "head":
        seed_reference.callback()  # type: ignore[misc]


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` empties the database)."""
    command.downgrade(alembic_config(), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the change does.")
@click.option("--autogenerate/--empty", default=True, help="Compare the models with the database.")
def revision(message: str, autogenerate: bool) -> None:
    """Write a new migration file."""
    command.revision(alembic_config(), message=message, autogenerate=autogenerate)


@db_cli.command("current")
def current() -> None:
    """Show the revision the database is at."""
    command.current(alembic_config())


@db_cli.command("seed-reference")
def seed_reference() -> None:
    """Load or refresh countries and missions; safe to run any number of times."""
    with db.database().sessionmaker.begin() as session:
        report = load_reference(session)
    click.echo(f"Reference data: {report}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
