"""Restoring a backup, and verifying one in a scratch database."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine

from capdb import db
from capdb.backup import archive, databases, service
from capdb.backup.archive import BackupError, Contents
from capdb.backup.service import Outcome
from capdb.cli import alembic_config
from capdb.config import current_config
from capdb.reference import load_reference


def restore(source: Path, *, force: bool) -> Outcome:
    """Replace the database and the instance files with the backup's.

    Nothing is changed when the file is damaged, of another database, from a newer
    capdb, or (without ``force``) when the database already holds data. A backup from
    an older capdb is migrated after it is restored.
    """
    engine, config = db.database().engine, current_config()
    with tempfile.TemporaryDirectory(prefix="capdb-restore-") as scratch:
        contents = archive.read(source, Path(scratch))
        databases.check_kind(engine, contents.manifest)
        upgrade = service.check_revision(contents.manifest)
        held = service.tables_holding_data(engine)
        if held and not force:
            raise BackupError(
                f"the database already holds data (in {', '.join(held)}): nothing was "
                "changed. Give --force to replace it with the backup."
            )
        databases.restore(engine, contents.manifest, contents.database_file)
        problems = service.compare(contents.manifest, service.summary_of(engine))
        restore_instance_files(contents, config.instance_path)
    if upgrade:
        command.upgrade(alembic_config(), "head")
        with db.database().sessionmaker.begin() as session:
            load_reference(session)
    problems += service.run_checks(engine)
    return Outcome(contents.manifest["alembic_revision"], upgrade, problems)


def restore_instance_files(contents: Contents, instance: Path) -> None:
    for name in contents.instance_files:
        relative = Path(name).relative_to(archive.INSTANCE)
        target = instance / relative
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copyfile(contents.folder / name, target)
        target.chmod(0o600)


def verify(source: Path, scratch_url: str | None = None) -> Outcome:
    """Restore the backup into a scratch database and compare it with its manifest."""
    with tempfile.TemporaryDirectory(prefix="capdb-verify-") as scratch:
        contents = archive.read(source, Path(scratch))
        if not scratch_url:
            # The scratch database is made beside the application's.
            databases.check_kind(db.database().engine, contents.manifest)
        with _scratch_database(Path(scratch), contents, scratch_url) as engine:
            if scratch_url and service.tables_holding_data(engine):
                raise BackupError("the scratch database holds data: give an empty one.")
            databases.restore(engine, contents.manifest, contents.database_file)
            problems = service.compare(contents.manifest, service.summary_of(engine))
            problems += service.run_checks(engine)
    return Outcome(contents.manifest["alembic_revision"], False, problems)


@contextmanager
def _scratch_database(folder: Path, contents: Contents, url: str | None) -> Iterator[Engine]:
    """An empty database of the backup's kind, dropped afterwards unless it was given."""
    if url:
        engine = db.make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    if contents.manifest["database"]["kind"] == "sqlite":
        engine = db.make_engine(f"sqlite:///{folder / 'scratch.sqlite'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    # A database of its own on the same server: the backup's schema may have the name of
    # one in use in the application's database.
    server = db.database().engine.url
    name = f"capdb_verify_{secrets.token_hex(6)}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    query = {key: value for key, value in server.query.items() if key != "options"}
    engine = db.make_engine(server.set(database=name, query=query).render_as_string(False))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
