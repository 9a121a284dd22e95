"""``flask --app wsgi demo ...``: demo data for trying capdb out."""

from __future__ import annotations

import sys
import time

import click
import pyotp
from flask.cli import AppGroup
from sqlalchemy import select

from auth.models import User
from capdb import db
from capdb.clock import now
from capdb.config import current_config
from demo.accounts import DEMO_ACCOUNTS, demo_language, demo_password
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
@click.option("--url", default="", help="Where the server answers, to print first.")
def logins(url: str) -> None:
    """Print where to sign in and the demo accounts: role, missions or State, language,
    password, and authenticator secret."""
    if url:
        click.echo(f"capdb: open {url} and sign in as one of the demo users below.")
    click.echo(
        "Each sign-in asks for the password, then a six-digit code from an authenticator app"
        " (TOTP, a new code every 30 s, each accepted once). Add the account's secret below"
        " to the app (the secrets are in demo/accounts.py), or print a current code with:"
        "\n  .venv/bin/flask --app wsgi demo totp EMAIL\n"
    )
    rows = [("email", "role", "missions or State", "language", "password", "TOTP secret")]
    rows += [
        (
            account["email"],
            account["role"],
            ", ".join(account["missions"]) or account["state"] or "",
            demo_language(account["email"]),
            demo_password(account["role"]),
            account["totp"],
        )
        for account in DEMO_ACCOUNTS
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@demo_cli.command("totp")
@click.argument("email")
def totp(email: str) -> None:
    """Print a current sign-in code of a demo account (one the server accepts now: a code is
    accepted once, so after a sign-in this is the next one)."""
    if current_config().is_production:
        raise click.ClickException("demo codes are never printed for a production database")
    if email.strip().lower() not in {a["email"] for a in DEMO_ACCOUNTS}:
        raise click.ClickException(f"{email} is not a demo account; see `demo logins`.")
    with db.database().sessionmaker() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.totp_secret:
            raise click.ClickException(f"{email} is not in this database; run `demo seed`.")
        code, seconds = usable_code(user.totp_secret, user.totp_last_step)
    click.echo(code)
    click.echo(f"(valid for about {seconds} s)", err=True)


def usable_code(secret: str, last_step: int | None) -> tuple[str, int]:
    """A code of a time step after the last one accepted that the server takes now (it takes
    the step before and after the current one too), and how long it stays valid."""
    generator = pyotp.TOTP(secret)
    while True:
        moment = now()
        current = generator.timecode(moment)
        step = current if last_step is None else max(current, last_step + 1)
        if step <= current + 1:
            remaining = int((step + 2) * generator.interval - moment.timestamp())
            return generator.generate_otp(step), remaining
        time.sleep(generator.interval - moment.timestamp() % generator.interval + 0.1)
