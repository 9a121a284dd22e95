"""``flask --app wsgi demo ...``: demo data for trying capdb out."""

from __future__ import annotations

import sys
import time

import click
from flask.cli import AppGroup
from sqlalchemy import select

from capdb import db
from capdb.config import current_config
from demo.accounts import DEMO_ACCOUNTS, demo_password
from demo.seed import DemoError, seed_demo
from incidents.models import Incident

demo_cli = AppGroup("demo", help="Demo data for trying capdb out.")


@demo_cli.command("seed")
@click.option(
    "--incidents",
    "count",
    type=click.IntRange(0, 2_000_000),
    default=2_000,
    show_default=True,
    help="How many incidents to create.",
)
@click.option(
    "--seed",
    type=int,
    default=2589,
    show_default=True,
    help="The same seed always gives the same data.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database holds incidents.")
def seed(count: int, seed: int, if_empty: bool) -> None:
    """Fill an empty database with a realistic, deterministic demo data set."""
    if current_config().is_production:
        raise click.ClickException("demo data is never seeded into a production database")
    if if_empty and has_incidents():
        click.echo("The database already holds incidents; no demo data added.")
        return
    started = time.perf_counter()
    with (
        click.progressbar(length=count, label="Incidents", file=sys.stderr) as bar,
        db.database().sessionmaker.begin() as session,
    ):
        try:
            report = seed_demo(session, count, seed, progress=bar.update)
        except DemoError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Seeded {report} in {time.perf_counter() - started:.1f} s.")


def has_incidents() -> bool:
    with db.database().sessionmaker() as session:
        return session.scalar(select(Incident.id).limit(1)) is not None


@demo_cli.command("logins")
def logins() -> None:
    """Print the demo accounts with their passwords and authenticator secrets."""
    click.echo("Demo logins (password, then the TOTP secret to add to an authenticator app):")
    for account in DEMO_ACCOUNTS:
        scope = ", ".join(account["missions"]) or account["state"] or ""
        click.echo(
            f"  {account['email']:<34} {demo_password(account['role']):<28} "
            f"{account['totp']}  {account['role']} {scope}".rstrip()
        )
