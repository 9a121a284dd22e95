"""Backing up, verifying and restoring the whole of capdb: its database and instance folder.

capdb knows no feature; the composition root registers what the features add: facts
kept in the manifest and compared by ``backup verify`` (the audit trail's head), and
checks that must pass after a restore (``audit verify``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from capdb import cache
from capdb.backup import archive, databases
from capdb.backup.archive import BackupError
from capdb.cli import alembic_config
from capdb.config import Config
from capdb.reference import Country, Mission, MissionVersion, mission_hosts

# What a fresh, migrated database holds already: it may be restored into without --force.
NOT_DATA = frozenset(
    {
        "alembic_version",
        Country.__tablename__,
        Mission.__tablename__,
        mission_hosts.name,
        MissionVersion.__tablename__,
        "vocabulary_terms",
    }
)

Fact = Callable[[Session], object]
Check = Callable[[Session], str | None]


@dataclass
class Hooks:
    facts: dict[str, Fact] = field(default_factory=dict)
    checks: dict[str, Check] = field(default_factory=dict)


def register(app: Flask, *, facts: dict[str, Fact], checks: dict[str, Check]) -> None:
    """Add facts (kept in the manifest) and checks (returning a problem or None)."""
    hooks: Hooks = app.extensions.setdefault("capdb.backup", Hooks())
    hooks.facts.update(facts)
    hooks.checks.update(checks)


def hooks() -> Hooks:
    found: Hooks = current_app.extensions.get("capdb.backup", Hooks())
    return found


@dataclass(frozen=True)
class Outcome:
    """What restore or verify found: the revision restored and any problems."""

    revision: str
    upgraded: bool
    problems: list[str]


def summarize(connection: sa.Connection) -> dict[str, Any]:
    """Row counts of every table, the migration revision, and the registered facts."""
    tables = sorted(sa.inspect(connection).get_table_names())
    counts = {
        table: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
        for table in tables
    }
    revision = None
    if "alembic_version" in tables:
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    facts: dict[str, object] = {}
    # The facts are read with this code's models, which only a database at this code's
    # migration matches (a backup taken before ``db upgrade`` has none).
    if revision == ScriptDirectory.from_config(alembic_config()).get_current_head():
        with Session(bind=connection) as session:
            facts = {name: read(session) for name, read in hooks().facts.items()}
    return {"alembic_revision": revision, "row_counts": counts, "facts": facts}


def create_backup(engine: Engine, config: Config, destination: Path) -> dict[str, Any]:
    """Write one backup file of the database and the instance folder; its manifest."""
    destination = destination.resolve()
    with tempfile.TemporaryDirectory(prefix="capdb-backup-") as scratch:
        described, file = databases.dump(engine, Path(scratch), summarize)
        summary = {key: described.pop(key) for key in ("alembic_revision", "row_counts", "facts")}
        manifest = {
            "format": archive.FORMAT,
            "format_version": archive.FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "capdb_version": _capdb_version(),
            "database": described,
            **summary,
        }
        # Drawn charts are made again from the data when asked for (capdb/cache.py).
        skip = [config.resolved_backup_dir, destination, config.instance_path / cache.FOLDER]
        if engine.dialect.name == "sqlite":
            skip.append(databases.sqlite_file(engine))
        files = archive.instance_files(config.instance_path, skip)
        return archive.write(destination, manifest, file, config.instance_path, files)


def _capdb_version() -> str:
    try:
        return version("capdb")
    except PackageNotFoundError:
        return "unknown"


def check_revision(manifest: dict[str, Any]) -> bool:
    """Whether the backup needs migrating after restore; refuses one from a newer capdb."""
    revision = manifest["alembic_revision"]
    scripts = ScriptDirectory.from_config(alembic_config())
    try:
        known = revision is not None and scripts.get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for a revision it does not know
        known = False
    if not known:
        raise BackupError(
            f"this backup is at migration {revision!r}, which this capdb does not know: it was "
            "made by a newer capdb. Restore it with that version or a later one."
        )
    return bool(revision != scripts.get_current_head())


def tables_holding_data(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        return sorted(
            table
            for table in tables
            if table not in NOT_DATA
            and connection.scalar(sa.select(sa.literal(1)).select_from(sa.table(table)).limit(1))
        )


def compare(manifest: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """How the database found differs from what the manifest says was backed up."""
    problems = []
    expected_counts, counts = manifest["row_counts"], found["row_counts"]
    for table in sorted(set(expected_counts) | set(counts)):
        if expected_counts.get(table) != counts.get(table):
            problems.append(
                f"table {table}: {counts.get(table)} rows, the manifest says "
                f"{expected_counts.get(table)}"
            )
    if manifest["alembic_revision"] != found["alembic_revision"]:
        problems.append(
            f"migration {found['alembic_revision']}, the manifest says "
            f"{manifest['alembic_revision']}"
        )
    for name, value in found["facts"].items():
        if manifest["facts"].get(name) != value:
            problems.append(
                f"{name} is {value!r}, the manifest says {manifest['facts'].get(name)!r}"
            )
    return problems


def run_checks(engine: Engine) -> list[str]:
    problems = []
    with Session(bind=engine) as session:
        for name, check in hooks().checks.items():
            problem = check(session)
            if problem is not None:
                problems.append(f"{name}: {problem}")
    return problems


def summary_of(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return summarize(connection)
