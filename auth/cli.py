"""``flask --app wsgi users|tokens|audit ...``: accounts, API tokens and the audit trail."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from auth.audit import verify_chain
from capdb import db

users_cli = AppGroup("users", help="Create, disable and list accounts.")
tokens_cli = AppGroup("tokens", help="Create, list and revoke API tokens.")
audit_cli = AppGroup("audit", help="Check the audit trail.")


@audit_cli.command("verify")
def verify() -> None:
    """Check that no audit entry was altered, removed or inserted."""
    with db.database().sessionmaker() as session:
        broken = verify_chain(session)
    if broken is not None:
        raise click.ClickException(f"the audit trail is broken at {broken}")
    click.echo("The audit trail is intact.")
