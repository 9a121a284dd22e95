"""``flask --app wsgi backup FILE``, ``backup verify FILE``, ``backup periodic`` and
``restore FILE [--force]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from capdb import db
from capdb.backup import periodic as periodic_backups
from capdb.backup import restoring, service
from capdb.backup.archive import BackupError
from capdb.config import current_config


class BackupGroup(AppGroup):
    """``backup FILE`` makes a backup; ``backup verify FILE`` and the others are commands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group("backup", cls=BackupGroup)
def backup_cli() -> None:
    """Back up the database and the instance folder into one file, and check a backup.

    \b
    flask --app wsgi backup FILE        writes a backup
    flask --app wsgi backup verify FILE restores it into a scratch database and compares
    """


def fail(error: BackupError) -> click.ClickException:
    return click.ClickException(str(error))


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def create(file: Path) -> None:
    """Write a backup to FILE (also: backup FILE)."""
    try:
        manifest = service.create_backup(db.database().engine, current_config(), file)
    except BackupError as error:
        raise fail(error) from error
    click.echo(describe(file, manifest))


@backup_cli.command("periodic")
def periodic() -> None:
    """Write a timestamped backup into CAPDB_BACKUP_DIR; keep the CAPDB_BACKUP_KEEP newest."""
    try:
        file = periodic_backups.periodic_backup()
    except BackupError as error:
        raise fail(error) from error
    click.echo(f"Backup written to {file}.")


@backup_cli.command("verify")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--scratch-url",
    help="An empty database to restore into (PostgreSQL: by default one is created and dropped).",
)
def verify(file: Path, scratch_url: str | None) -> None:
    """Restore FILE into a scratch database and compare it with the backup's manifest."""
    try:
        outcome = restoring.verify(file, scratch_url)
    except BackupError as error:
        raise fail(error) from error
    if outcome.problems:
        raise click.ClickException(
            "the backup does not match its manifest:\n  " + "\n  ".join(outcome.problems)
        )
    click.echo(f"{file} is a good backup (migration {outcome.revision}).")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_cli(file: Path, force: bool) -> None:
    """Replace the database and the instance files with FILE's, then check the audit trail."""
    try:
        outcome = restoring.restore(file, force=force)
    except BackupError as error:
        raise fail(error) from error
    if outcome.problems:
        raise click.ClickException(
            "the backup was restored but the result FAILED its checks:\n  "
            + "\n  ".join(outcome.problems)
        )
    migrated = " and migrated to this version's schema" if outcome.upgraded else ""
    click.echo(f"Restored {file} (migration {outcome.revision}){migrated}; checks passed.")
    click.echo("Restart the web server and the job worker to use the restored instance files.")


def describe(file: Path, manifest: dict[str, Any]) -> str:
    rows = sum(manifest["row_counts"].values())
    size = file.stat().st_size / 2**20
    return f"Backup written to {file}: {rows} rows, {len(manifest['files'])} files, {size:.1f} MiB."


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_cli)
    app.cli.add_command(restore_cli)
