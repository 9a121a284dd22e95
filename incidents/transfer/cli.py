"""``flask --app wsgi incidents import FILE [--dry-run]`` and ``incidents export``.

Without ``--as EMAIL`` a command acts for the console: with an administrator's scope,
recorded in the audit trail as "console", since whoever runs it holds the database anyway.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy.orm import Session

from auth.accounts import find_user
from auth.models import User
from capdb import db, vocabulary_terms
from capdb.config import LOCALES, current_config
from incidents import policy
from incidents.filters import DEFAULT_SORT, FILTER_FIELDS, SORTED, SORTS, parse_request
from incidents.transfer import exporting, importing
from incidents.transfer.un_layout import GROUPINGS

incidents_cli = AppGroup("incidents", help="Import and export incidents.")

Command = TypeVar("Command", bound=Callable[..., Any])

CONSOLE = "console"
FILTERS = tuple(field.name for field in FILTER_FIELDS)


@contextmanager
def transaction(locale: str | None = None) -> Iterator[Session]:
    """One transaction for the whole command, committed only if it succeeds."""
    with (
        force_locale(locale or current_config().default_locale),
        db.database().sessionmaker.begin() as session,
    ):
        yield session


def acting_user(
    session: Session, email: str | None, allowed: Callable[[User], bool] | None = None
) -> User:
    """The account named by ``--as``, or the console acting with an administrator's scope;
    refused unless the policy's ``allowed`` lets that account do this."""
    if email is None:
        return User(email=CONSOLE, role="admin", active=True)
    user = find_user(session, email)
    if user is None or not user.active:
        raise click.ClickException(f"there is no active account with the email {email!r}.")
    if allowed is not None and not allowed(user):
        raise click.ClickException(f"{email} is a {user.role} account; it cannot do this.")
    return user


# Import -------------------------------------------------------------------------------------


@incidents_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@click.option("--as", "email", help="Import as this mission officer or administrator.")
@click.option(
    "--un-grouping",
    type=click.Choice(GROUPINGS),
    default="day",
    show_default=True,
    help="A file in the UN's layout: one incident per mission and day, or per casualty.",
)
def import_command(file: Path, dry_run: bool, email: str | None, un_grouping: str) -> None:
    """Import the incidents of an XLSX or CSV file, all or nothing."""
    data = file.read_bytes()
    with transaction() as session:
        vocabulary_terms.refresh(session)
        user = acting_user(session, email, policy.may_record_incidents)
        try:
            sheet = importing.read_spreadsheet(data, file.name)
        except importing.UnreadableFileError as error:
            raise click.ClickException(str(error)) from None
        with click.progressbar(length=len(sheet.rows), label="Checking", file=sys.stderr) as bar:
            plan = importing.check(
                session,
                user,
                sheet,
                filename=file.name,
                sha256=hashlib.sha256(data).hexdigest(),
                progress=bar.update,
                un_grouping=un_grouping,
            )
        if plan.un_layout:
            click.echo(
                f"The UN's layout: {plan.un_left_out} casualties of other incident types left out."
            )
        report_skipped(plan)
        if not plan.ok:
            report_problems(plan)
            raise click.ClickException(f"nothing was imported: {len(plan.problems)} bad cell(s).")
        if dry_run:
            click.echo(f"Dry run: {len(plan.new)} incident(s) would be imported; nothing written.")
            return
        created = write_with_progress(session, user, plan)
    click.echo(f"Imported {len(created)} incident(s) from {file.name}.")


def write_with_progress(session: Session, user: User, plan: importing.ImportPlan) -> list[int]:
    try:
        with click.progressbar(length=len(plan.new), label="Importing", file=sys.stderr) as bar:
            return importing.write(session, user, plan, progress=bar.update)
    except importing.ImportConflictError:
        raise click.ClickException(
            "other incidents were recorded for these missions while the file was imported; "
            "nothing was imported. Run the import again."
        ) from None


def report_problems(plan: importing.ImportPlan) -> None:
    for problem in plan.problems:
        where = f"row {problem.row}, column {problem.letter or '-'} ({problem.column})"
        click.echo(f"{where}: {problem.value!r}: {problem.reason}")


def report_skipped(plan: importing.ImportPlan) -> None:
    for row in plan.already_imported:
        click.echo(f"row {row.row}: already imported ({row.mission} {row.source_reference})")


# Export -------------------------------------------------------------------------------------


def filter_options(command: Command) -> Command:
    """The list's filters as options: --mission, --date-from and so on."""
    for name in reversed(FILTERS):
        option = click.option(f"--{name.replace('_', '-')}", name, help=f"Filter: {name}.")
        command = option(command)
    return command


@incidents_cli.command("export")
@click.option("--format", "export_format", type=click.Choice(exporting.FORMATS), required=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write; CSV and GeoJSON go to standard output without it.",
)
@click.option("--as", "email", help="Export what this account sees, in its scope.")
@click.option("--lang", type=click.Choice(LOCALES), help="Language of headers and labels.")
@click.option("--sort", type=click.Choice(list(SORTS)), default=DEFAULT_SORT, show_default=True)
@filter_options
def export_command(
    export_format: str,
    out: Path | None,
    email: str | None,
    lang: str | None,
    sort: str,
    **filter_args: str | None,
) -> None:
    """Export the incidents matching the filters, as the incident list shows them."""
    if out is None and export_format in {"xlsx", "gpkg"}:
        raise click.ClickException(f"give the file to write with --out for {export_format}.")
    locale = lang or current_config().default_locale
    with transaction(locale) as session:
        user = acting_user(session, email, policy.may_export)
        args = {name: value for name, value in filter_args.items() if value is not None}
        asked, errors = parse_request(session, {**args, "sort": sort}, SORTED)
        if errors:
            lines = "\n  ".join(
                f"--{name.replace('_', '-')}: {why}" for name, why in errors.items()
            )
            raise click.ClickException(f"nothing was exported.\n  {lines}")
        wanted = exporting.ExportRequest(user, asked.filters, asked.sort, locale)
        rows = exporting.count(session, wanted)
        exporting.record(session, wanted, export_format, rows)
        write_export(session, wanted, export_format, out)
    click.echo(f"Exported {rows} incident(s){f' to {out}' if out else ''}.", err=True)


def write_export(
    session: Session, wanted: exporting.ExportRequest, export_format: str, out: Path | None
) -> None:
    if export_format == "xlsx" and out is not None:
        exporting.write_xlsx(session, wanted, out)
    elif export_format == "gpkg" and out is not None:
        out.unlink(missing_ok=True)
        exporting.write_gpkg(session, wanted, out)
    else:
        chunks = (
            exporting.csv_chunks(session, wanted)
            if export_format == "csv"
            else exporting.geojson_chunks(session, wanted)
        )
        with click.open_file(str(out) if out else "-", "w", encoding="utf-8") as target:
            for chunk in chunks:
                target.write(chunk)
