"""``flask --app wsgi reconciliation load FILE``: load the UN's fatality data."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from capdb import db
from capdb.config import current_config
from incidents.errors import InputError
from incidents.reconciliation import un_data

reconciliation_cli = AppGroup("reconciliation", help="The UN's published fatality figures.")


@reconciliation_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def load(file: Path) -> None:
    """Keep FILE, the UN's fatality CSV, as the reference set reconciled from now on."""
    try:
        with (
            force_locale(current_config().default_locale),
            db.writes(),
            db.database().sessionmaker.begin() as session,
        ):
            loaded = un_data.load_un_figures(session, file.read_bytes(), file.name, by=None)
            rows, malicious = loaded.rows, loaded.malicious
    except InputError as error:
        lines = [f"{where}: {reason}" for where, reason in error.problems.items()]
        raise click.ClickException("nothing was loaded.\n  " + "\n  ".join(lines)) from None
    click.echo(f"Loaded {rows} casualties, {malicious} from malicious acts.")
