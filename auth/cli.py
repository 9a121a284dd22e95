"""``flask --app wsgi users|tokens ...``: accounts and API tokens (the audit trail's
commands are in :mod:`auth.audit_cli`)."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy.orm import Session

from auth import accounts, tokens
from auth.models import ApiToken, User
from capdb import db
from capdb.config import current_config

users_cli = AppGroup("users", help="Create, disable and list accounts.")
tokens_cli = AppGroup("tokens", help="Create, list and revoke API tokens.")


@contextmanager
def transaction() -> Iterator[Session]:
    """A session committed when the command succeeds, its messages in the default language.

    There is no request to pick a language from, so the configured default is used.
    """
    with force_locale(current_config().default_locale), db.database().sessionmaker.begin() as s:
        yield s


def fail_with(error: accounts.AccountError) -> click.ClickException:
    lines = [f"{field}: {reason}" for field, reason in error.problems.items()]
    return click.ClickException("nothing was changed.\n  " + "\n  ".join(lines))


def user_named(session: Session, email: str) -> User:
    user = accounts.find_user(session, email)
    if user is None:
        raise click.ClickException(f"there is no account with the email {email!r}.")
    return user


def read_password() -> str:
    """One line from standard input, without its line ending; never echoed.

    Typed at a terminal, it is read with echo off, as ``passwd`` does.
    """
    if sys.stdin.isatty():
        return getpass.getpass("Password (not shown): ")
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", required=True, help="mission, member_state, analyst or admin.")
@click.option("--mission", "missions", multiple=True, help="A mission acronym (repeatable).")
@click.option("--state", help="The ISO 3166 alpha-3 code of a Member State focal point's State.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--totp-secret", help="A base32 TOTP secret; without it, enroll at first sign-in.")
def create_user(
    email: str,
    role: str,
    missions: tuple[str, ...],
    state: str | None,
    password_stdin: bool,
    totp_secret: str | None,
) -> None:
    """Create an account; the password is read from standard input."""
    if not password_stdin:
        raise click.ClickException("give the password on standard input with --password-stdin.")
    password = read_password()
    try:
        with transaction() as session:
            user = accounts.create_user(
                session, email=email, role=role, missions=missions, state=state,
                password=password, totp_secret=totp_secret,
            )  # fmt: skip
    except accounts.AccountError as error:
        raise fail_with(error) from None
    click.echo(f"Created {user.email} ({user.role}, {bindings(user)}).")
    if not user.totp_secret:
        click.echo("Two-step verification will be set up at the first sign-in.")


@users_cli.command("disable")
@click.argument("email")
def disable_user(email: str) -> None:
    """Disable an account: it can no longer sign in, its sessions end and its API tokens are
    revoked (enabling it again does not bring them back)."""
    change_status(email, active=False)


@users_cli.command("enable")
@click.argument("email")
def enable_user(email: str) -> None:
    """Enable a disabled account again."""
    change_status(email, active=True)


def change_status(email: str, *, active: bool) -> None:
    with transaction() as session:
        user = user_named(session, email)
        unchanged = user.active == active
        accounts.set_active(session, user, active, by=None)
    status = "enabled" if active else "disabled"
    if unchanged:
        click.echo(f"{user.email} was already {status}.")
    elif active:
        click.echo(f"Enabled {user.email}.")
    else:
        click.echo(f"Disabled {user.email}; its sessions were ended and its API tokens revoked.")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(email: str, password_stdin: bool) -> None:
    """Reset an account's password: its sessions end and its API tokens are revoked."""
    if not password_stdin:
        raise click.ClickException("give the password on standard input with --password-stdin.")
    password = read_password()
    try:
        with transaction() as session:
            user = user_named(session, email)
            accounts.set_password(session, user, password, by=None)
    except accounts.AccountError as error:
        raise fail_with(error) from None
    click.echo(
        f"Changed the password of {user.email}; its sessions were ended and its API tokens revoked."
    )


@users_cli.command("list")
def list_users() -> None:
    """One line per account: email, role, missions or State, status, TOTP set up."""
    with transaction() as session:
        for row in accounts.list_users(session):
            user = row.user
            status = "active" if user.active else "disabled"
            totp = "totp" if user.totp_secret else "no-totp"
            click.echo(f"{user.email}  {user.role}  {bindings(user)}  {status}  {totp}")


def bindings(user: User) -> str:
    if user.role == "member_state":
        return user.state_code or "-"
    return ",".join(sorted(user.mission_codes)) or "-"


@tokens_cli.command("create")
@click.argument("email")
@click.option(
    "--expires", "days", type=click.IntRange(1, 3650), help="Days until it expires (default never)."
)
def create_token(email: str, days: int | None) -> None:
    """Create an API token; it is printed once, alone on the last line."""
    try:
        with transaction() as session:
            user = user_named(session, email)
            token, value = accounts.issue_token(session, user, days=days)
    except accounts.AccountError as error:
        raise fail_with(error) from None
    expiry = f"expires {moment(token.expires_at)}" if token.expires_at else "never expires"
    click.echo(f"API token {token.id} for {user.email} ({expiry}). Shown only this once:")
    click.echo(value)


@tokens_cli.command("list")
@click.argument("email")
def list_tokens(email: str) -> None:
    """The user's tokens: id, prefix, created, expires, revoked, last used."""
    with transaction() as session:
        for token in tokens.of_user(session, user_named(session, email)):
            click.echo(describe(token))


def describe(token: ApiToken) -> str:
    return "  ".join(
        [
            str(token.id),
            token.prefix + "…",
            f"created {moment(token.created_at)}",
            f"expires {moment(token.expires_at, 'never')}",
            f"revoked {moment(token.revoked_at, 'no')}",
            f"last-used {moment(token.last_used_at, 'never')}",
        ]
    )


def moment(at: datetime | None, otherwise: str = "-") -> str:
    return at.strftime("%Y-%m-%dT%H:%MZ") if at else otherwise


@tokens_cli.command("revoke")
@click.argument("token_id", metavar="ID", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke a token by its id (see ``tokens list``)."""
    with transaction() as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise click.ClickException(f"there is no API token with the id {token_id}.")
        if accounts.revoke_token(session, token):
            click.echo(f"Revoked API token {token_id}.")
        else:
            click.echo(f"API token {token_id} was already revoked.")
