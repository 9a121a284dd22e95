"""Copying the database out and back in: SQLite's online backup API, PostgreSQL's tools.

Both copies are consistent while the application runs: SQLite's backup reads one
snapshot, and pg_dump reads the snapshot exported by the transaction in which the
manifest's counts are taken, so the counts describe exactly the rows dumped.

On PostgreSQL the dump holds the application's schema only. The extensions it uses live in
a schema of their own, ``capdb_ext`` (an extension exists once per database, whichever
schemas use it): the manifest names them, and a restore creates them there before loading
the dump, whose objects name them ``capdb_ext.<name>``, and never drops that schema.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from capdb.backup.archive import BackupError

Summarize = Callable[[sa.Connection], dict[str, Any]]
# The schema's own entries in a dump's table of contents: restore creates the schema itself.
_SCHEMA_ENTRY = re.compile(r"^\d+; \d+ \d+ (SCHEMA - |COMMENT - SCHEMA )")
# The schema of the extensions, as the migrations create it (full-text search's unaccent).
EXTENSION_SCHEMA = "capdb_ext"
# One migration or restore at a time creates it and its extensions; the migrations' key.
EXTENSION_LOCK = 25890017


def dump(engine: Engine, folder: Path, summarize: Summarize) -> tuple[dict[str, Any], Path]:
    """Copy the database into ``folder``: its description for the manifest, and the file.

    ``summarize`` reads the facts of the manifest from a connection on the copied state.
    """
    if engine.dialect.name == "sqlite":
        return _dump_sqlite(engine, folder, summarize)
    if engine.dialect.name == "postgresql":
        return _dump_postgresql(engine, folder, summarize)
    raise BackupError(f"capdb cannot back up a {engine.dialect.name} database.")


def check_kind(engine: Engine, manifest: dict[str, Any]) -> None:
    kind = manifest["database"].get("kind")
    if kind != engine.dialect.name:
        raise BackupError(
            f"this backup is of a {kind} database; it cannot be restored into "
            f"{engine.dialect.name}."
        )


def restore(engine: Engine, manifest: dict[str, Any], file: Path) -> None:
    """Replace the whole content of the database with the backup's, in one transaction."""
    check_kind(engine, manifest)
    if manifest["database"]["kind"] == "sqlite":
        _restore_sqlite(engine, file)
    else:
        database = manifest["database"]
        extensions = [str(name) for name in database.get("extensions", [])]
        _restore_postgresql(engine, str(database["schema"]), extensions, file)


# SQLite -------------------------------------------------------------------------------------


def sqlite_file(engine: Engine) -> Path:
    name = engine.url.database
    if not name or name == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up.")
    return Path(name)


def _dump_sqlite(engine: Engine, folder: Path, summarize: Summarize) -> tuple[dict[str, Any], Path]:
    copy = folder / "database.sqlite"
    source = sqlite3.connect(sqlite_file(engine), timeout=30)
    with closing(source), closing(sqlite3.connect(copy)) as target:
        source.backup(target)
        # One self-contained file, with no write-ahead log beside it.
        target.execute("PRAGMA journal_mode=DELETE")
    reader = sa.create_engine(f"sqlite:///{copy}", poolclass=sa.pool.NullPool)
    try:
        with reader.connect() as connection:
            summary = summarize(connection)
    finally:
        reader.dispose()
    return {"kind": "sqlite", "file": copy.name, **summary}, copy


def _restore_sqlite(engine: Engine, file: Path) -> None:
    # The application's own connections would hold the file open during the copy.
    engine.dispose()
    source = sqlite3.connect(file)
    with closing(source), closing(sqlite3.connect(sqlite_file(engine), timeout=30)) as target:
        source.backup(target)


# PostgreSQL ---------------------------------------------------------------------------------


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install Debian's postgresql-client package "
            "(apt-get install postgresql-client)."
        )
    return path


def libpq_target(engine: Engine) -> tuple[str, dict[str, str]]:
    """The database as a libpq URI, and the environment carrying its password.

    The password stays out of the command line, which any user of the machine can read.
    """
    url = engine.url
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def check_client_version(engine: Engine, name: str) -> str:
    """The tool's path, once sure it is not older than the server (it would refuse)."""
    path = tool(name)
    # The PostgreSQL client tools, found on PATH, with arguments of our making (as below).
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)  # noqa: S603
    found = re.search(r"(\d+)", output.stdout)
    client = int(found.group(1)) if found else 0
    with engine.connect() as connection:
        server = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
    if client < server:
        raise BackupError(
            f"{name} {client} is older than the PostgreSQL {server} server: install "
            f"postgresql-client {server} or later."
        )
    return path


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    finished = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if finished.returncode != 0:
        raise BackupError(f"{what} failed: {finished.stderr.strip()}")


def _dump_postgresql(
    engine: Engine, folder: Path, summarize: Summarize
) -> tuple[dict[str, Any], Path]:
    pg_dump = check_client_version(engine, "pg_dump")
    file = folder / "database.dump"
    uri, env = libpq_target(engine)
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
            summary = summarize(connection)
            extensions = _extensions(connection)
            # The transaction stays open while pg_dump reads the snapshot it exported.
            command = [pg_dump, "--format=custom", f"--snapshot={snapshot}"]
            command += [f"--schema={_quoted(schema)}", "--no-owner", "--no-privileges"]
            _run([*command, f"--file={file}", f"--dbname={uri}"], env, "pg_dump")
    server = engine.dialect.server_version_info
    description = {
        "kind": "postgresql",
        "file": file.name,
        "schema": schema,
        "extensions": extensions,
    }
    return {**description, "server_version": ".".join(map(str, server or ())), **summary}, file


def _extensions(connection: sa.Connection) -> list[str]:
    found = connection.exec_driver_sql(
        "SELECT extname FROM pg_extension WHERE extnamespace = to_regnamespace(%s)"
        " ORDER BY extname",
        (EXTENSION_SCHEMA,),
    )
    return list(found.scalars())


def _ensure_extensions(engine: Engine, extensions: list[str]) -> None:
    """Make the extensions schema and the dump's extensions in it, as the migrations do.

    Each step only when needed (a role may use what a superuser made ready beforehand
    without being allowed to make it), and committed apart from the restore: other
    schemas of the database may use them.
    """
    schema = _quoted(EXTENSION_SCHEMA)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({EXTENSION_LOCK})")
        found = connection.exec_driver_sql("SELECT to_regnamespace(%s)", (EXTENSION_SCHEMA,))
        if found.scalar() is None:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
        for name in extensions:
            installed = connection.exec_driver_sql(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n"
                " ON n.oid = e.extnamespace WHERE e.extname = %s",
                (name,),
            ).scalar()
            if installed is None:
                connection.exec_driver_sql(f"CREATE EXTENSION {_quoted(name)} WITH SCHEMA {schema}")
            elif installed != EXTENSION_SCHEMA:
                # Installed before in another schema: what uses it refers to it by identity.
                connection.exec_driver_sql(f"ALTER EXTENSION {_quoted(name)} SET SCHEMA {schema}")


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _restore_postgresql(
    engine: Engine, dump_schema: str, extensions: list[str], file: Path
) -> None:
    """Empty the target schema and load the dump into it, all in one transaction.

    The dump names its schema in every statement; when the target schema is called
    otherwise, the dump is loaded under its own name and the schema renamed at the end.
    The extensions' schema is made ready first, and kept.
    """
    pg_restore = check_client_version(engine, "pg_restore")
    psql = tool("psql")
    with engine.connect() as connection:
        target = connection.exec_driver_sql("SELECT current_schema()").scalar()
        existing = set(connection.exec_driver_sql("SELECT nspname FROM pg_namespace").scalars())
    if target is None:
        raise BackupError("the database's search_path names no schema that exists.")
    if EXTENSION_SCHEMA in (target, dump_schema):
        raise BackupError(
            f"the schema {EXTENSION_SCHEMA!r} holds the database's extensions, not capdb's data."
        )
    if dump_schema != target and dump_schema in existing:
        raise BackupError(
            f"the backup's schema {dump_schema!r} already exists in this database: restore "
            "into a database of its own."
        )
    _ensure_extensions(engine, extensions)
    engine.dispose()
    before = f"BEGIN;\nDROP SCHEMA IF EXISTS {_quoted(target)} CASCADE;\n"
    before += f"CREATE SCHEMA {_quoted(dump_schema)};\n"
    after = "" if dump_schema == target else f"ALTER SCHEMA {_quoted(dump_schema)} "
    after += "" if dump_schema == target else f"RENAME TO {_quoted(target)};\n"
    uri, env = libpq_target(engine)
    with tempfile.TemporaryDirectory() as scratch:
        contents = subprocess.run(  # noqa: S603
            [pg_restore, "--list", str(file)], capture_output=True, text=True, check=False
        )
        if contents.returncode != 0:
            raise BackupError(f"pg_restore cannot read the dump: {contents.stderr.strip()}")
        listing = Path(scratch) / "contents.list"
        kept = [line for line in contents.stdout.splitlines() if not _SCHEMA_ENTRY.match(line)]
        listing.write_text("\n".join(kept) + "\n")
        script = [pg_restore, "--no-owner", "--no-privileges", f"--use-list={listing}"]
        _pipe([*script, "--file=-", str(file)], [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
              f"--dbname={uri}"], env, before, after + "COMMIT;\n")  # fmt: skip


def _pipe(
    producer: list[str], consumer: list[str], env: dict[str, str], before: str, after: str
) -> None:
    """Feed ``before``, the producer's output and ``after`` to the consumer.

    When the producer fails, ``after`` (which commits) is never sent: the consumer reaches
    the end of its input inside the transaction, which PostgreSQL then rolls back.
    """
    with (
        tempfile.TemporaryFile() as produce_errors,
        tempfile.TemporaryFile() as consume_errors,
        # Unbuffered: closing the input of a consumer that stopped early must not raise.
        subprocess.Popen(  # noqa: S603
            consumer, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=consume_errors,
            env=env, bufsize=0,
        ) as sink,
        subprocess.Popen(  # noqa: S603
            producer, stdout=subprocess.PIPE, stderr=produce_errors, env=env
        ) as source,
    ):  # fmt: skip
        into, out_of = sink.stdin, source.stdout
        if into is None or out_of is None:
            raise BackupError("could not start pg_restore and psql.")
        try:
            into.write(before.encode())
            shutil.copyfileobj(out_of, into, 1 << 20)
            if source.wait() == 0:
                into.write(after.encode())
            into.close()
        except BrokenPipeError:
            source.kill()
        source.wait()
        sink.wait()
        if sink.returncode != 0:
            consume_errors.seek(0)
            raise BackupError(f"loading the dump failed: {consume_errors.read().decode().strip()}")
        if source.returncode != 0:
            produce_errors.seek(0)
            raise BackupError(f"pg_restore failed: {produce_errors.read().decode().strip()}")
