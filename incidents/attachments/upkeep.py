"""Looking after the kept files: ``files verify`` rehashes every one, the orphan sweep
deletes those no attachment names, and the jobs are registered here.

Files are never deleted with their attachment (deletion is soft, and earlier versions stay
downloadable); a file becomes an orphan only when the transaction that was to record it
failed, or after a restore of an older backup. The sweep spares files younger than
``CAPDB_ATTACHMENT_ORPHAN_HOURS``: one may be waiting for its transaction to commit.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from capdb import db as database
from capdb import jobs
from capdb.clock import now
from capdb.config import current_config
from incidents.attachments import service, text
from incidents.attachments.models import AttachmentFile
from incidents.attachments.storage import PARTIAL, MissingFileError, Storage, blocks, storage

log = logging.getLogger(__name__)


@dataclass
class Verification:
    checked: int = 0
    problems: list[str] = field(default_factory=list)


def verify(db: sa.orm.Session, kept: Storage) -> Verification:
    """Rehash every file an attachment names and compare it with its name."""
    result = Verification()
    rows = db.execute(
        sa.select(AttachmentFile.sha256, sa.func.min(AttachmentFile.attachment_id))
        .group_by(AttachmentFile.sha256)
        .order_by(AttachmentFile.sha256)
    )
    for sha256, attachment_id in rows:
        result.checked += 1
        digest = hashlib.sha256()
        try:
            for block in blocks(kept.open(sha256)):
                digest.update(block)
        except MissingFileError:
            result.problems.append(f"missing: {sha256} (attachment {attachment_id})")
            continue
        if digest.hexdigest() != sha256:
            result.problems.append(
                f"changed: {sha256} (attachment {attachment_id}) now hashes to {digest.hexdigest()}"
            )
    return result


def sweep(db: sa.orm.Session, kept: Storage, *, older_than: timedelta) -> list[str]:
    """Delete the kept files no attachment names, stored before ``older_than`` ago, and
    staged files left that long; the SHA-256 of those deleted."""
    cutoff = now() - older_than
    named = set(db.scalars(sa.select(AttachmentFile.sha256).distinct()))
    deleted = []
    for sha256, stored_at in kept.stored():
        if sha256 not in named and stored_at < cutoff:
            kept.delete(sha256)
            deleted.append(sha256)
    for staged in kept.staging_folder().glob(f"*{PARTIAL}"):
        if datetime.fromtimestamp(staged.stat().st_mtime, UTC) < cutoff:
            staged.unlink(missing_ok=True)
    if deleted:
        log.info("%d attachment files no attachment names were deleted", len(deleted))
    return deleted


def sweep_orphans() -> int:
    """The periodic job."""
    hours = current_config().attachment_orphan_hours
    return len(sweep(database.session(), storage(), older_than=timedelta(hours=hours)))


@click.group("files", cls=AppGroup)
def files_cli() -> None:
    """Check and tidy the attachments' files."""


@files_cli.command("verify")
def verify_command() -> None:
    """Rehash every attachment file; exit 1 if one is missing or changed."""
    with database.database().sessionmaker() as db:
        result = verify(db, storage())
    for problem in result.problems:
        click.echo(problem)
    click.echo(f"{result.checked} files checked in {storage().description}.")
    if result.problems:
        raise click.ClickException(f"{len(result.problems)} files are missing or changed.")
    click.echo("Every file is intact.")


@files_cli.command("sweep")
@click.option(
    "--hours",
    type=click.IntRange(min=0),
    default=None,
    help="Spare files younger than this (CAPDB_ATTACHMENT_ORPHAN_HOURS by default).",
)
def sweep_command(hours: int | None) -> None:
    """Delete the files no attachment names (what the daily job does)."""
    if hours is None:
        hours = current_config().attachment_orphan_hours
    with database.writes(), database.database().sessionmaker() as db:
        deleted = sweep(db, storage(), older_than=timedelta(hours=hours))
    click.echo(f"{len(deleted)} files no attachment names were deleted.")


def register(app: Flask) -> None:
    """The text job, the periodic catch-up of lost ones, and the daily sweep."""
    jobs.register_task(app, text.extract_file, name=service.TEXT_TASK)
    jobs.register_periodic(
        app,
        text.extract_waiting,
        name="capdb.attachment_text_waiting",
        schedule=jobs.crontab(minute="*/15"),
    )
    jobs.register_periodic(
        app,
        sweep_orphans,
        name="capdb.attachment_sweep",
        schedule=jobs.crontab(hour="4", minute="23"),
    )
    app.cli.add_command(files_cli)
