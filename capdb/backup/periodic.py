"""The periodic backup: the job the worker runs on a schedule, with its retention."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app

from capdb import db
from capdb.backup import service
from capdb.config import current_config

# Only files named so are ever removed by the retention.
PERIODIC_NAME = re.compile(r"^capdb-backup-\d{8}T\d{12}Z\.tar$")


def periodic_backup(app: Flask | None = None) -> Path:
    """Write a timestamped backup into CAPDB_BACKUP_DIR and keep the CAPDB_BACKUP_KEEP newest.

    The job the worker runs on a schedule; ``flask --app wsgi backup periodic`` does the same.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with app.app_context():
        config = current_config()
        folder = config.resolved_backup_dir
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        file = folder / f"capdb-backup-{datetime.now(UTC):%Y%m%dT%H%M%S%f}Z.tar"
        service.create_backup(db.database().engine, config, file)
        prune(folder, config.backup_keep)
    return file


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove the oldest periodic backups beyond ``keep``; other files are never touched."""
    backups = sorted(p for p in folder.iterdir() if PERIODIC_NAME.match(p.name))
    removed = backups[: max(len(backups) - keep, 0)]
    for old in removed:
        old.unlink(missing_ok=True)
    return removed
