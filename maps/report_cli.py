"""The periodic report from the command line.

``flask --app wsgi report --from DATE --to DATE [--state ISO3] [--lang en|fr] --out FILE.pdf``
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from auth import audit
from capdb import db
from capdb.clock import now
from capdb.config import LOCALES, current_config
from capdb.reference import Country
from incidents.filters import IncidentFilters
from maps import report
from maps.stats import default_period

OPTION_OF = {"date_from": "--from", "date_to": "--to", "state": "--state"}


@click.command("report")
@click.option("--from", "date_from", required=True, metavar="YYYY-MM-DD", help="First day.")
@click.option("--to", "date_to", required=True, metavar="YYYY-MM-DD", help="Last day.")
@click.option(
    "--state",
    metavar="ISO3",
    help="Report what this State's focal points see; without it, everything.",
)
@click.option("--lang", type=click.Choice(LOCALES), help="Language of the report.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The PDF file to write.",
)
@with_appcontext
def report_cli(
    date_from: str, date_to: str, state: str | None, lang: str | None, out: Path
) -> None:
    """Write the periodic report as a PDF."""
    locale = lang or current_config().default_locale
    with db.database().sessionmaker.begin() as session:
        args = {"date_from": date_from, "date_to": date_to, "state": state or ""}
        parsed, errors = IncidentFilters.parse(session, args)
        if errors:
            problems = "; ".join(f"{OPTION_OF[name]}: {reason}" for name, reason in errors.items())
            raise click.UsageError(problems)
        # The State narrows the scope, as its focal points see; it is not a filter on top.
        filters = IncidentFilters(date_from=parsed.date_from, date_to=parsed.date_to)
        country = session.get(Country, parsed.state) if parsed.state else None
        pdf = report.build(
            session,
            report.stand_in_viewer(parsed.state),
            filters,
            default_period(filters),
            locale=locale,
            generated_on=now().date(),
            state_name=country.name(locale) if country else None,
        )
        out.write_bytes(pdf)
        audit.record(
            session,
            "export",
            actor="report command",
            target_type="trends",
            target_id="report",
            detail={"format": "pdf", "filters": parsed.as_args(), "lang": locale},
        )
    click.echo(f"Wrote the report to {out} ({len(pdf) // 1024} KB).")
