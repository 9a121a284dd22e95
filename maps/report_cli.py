"""``flask --app wsgi report --from DATE --to DATE [--state ISO3] --out FILE.pdf``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("report")
@with_appcontext
def report_cli() -> None:
    """Write the periodic report as a PDF."""
    raise click.ClickException("not available yet")
