"""Backup and restore of a seeded PostgreSQL database: time and size.

    .venv/bin/python bench/backup.py --incidents 100000

Seeds a scratch schema, then runs the commands an operator runs, each in its own process:
``flask --app wsgi backup FILE``, and, once the schema is emptied,
``flask --app wsgi restore FILE`` (which ends with the audit check). Prints the time of
each, the file's size, the load average before and after, and checks that every table
holds the same number of rows afterwards.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from scratch import seeded_app
from serving import ROOT, load_average

SCHEMA = "capdb_bench_backup"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    with seeded_app(SCHEMA, args.incidents, reseed=True, drop=True) as app:
        environ = command_environment(app)
        file = Path(tempfile.mkdtemp(prefix="capdb-bench-backup-")) / "capdb.tar"
        rows = row_counts(app)
        backup = timed(["backup", str(file)], environ)
        empty_schema(app)
        restore = timed(["restore", str(file)], environ)
        assert row_counts(app) == rows, "the restored tables differ"
        print(f"\n{args.incidents} incidents, {sum(rows.values())} rows in {len(rows)} tables")
        print(f"backup file: {file.stat().st_size / 2**20:.1f} MiB")
        for name, (seconds, before, after) in (("backup", backup), ("restore", restore)):
            print(f"{name}: {seconds:.1f} s; load average before {before}, after {after}")
        file.unlink()


def command_environment(app: Flask) -> dict[str, str]:
    """The settings of ``flask --app wsgi`` for the scratch schema (its own instance folder)."""
    config = app.extensions["capdb.config"]
    environ = {key: value for key, value in os.environ.items() if not key.startswith("CAPDB_")}
    return environ | {
        "CAPDB_ENV": "development",
        "CAPDB_DATABASE_URL": config.database_url,
        "CAPDB_SECRET_KEY": config.resolved_secret_key(),
        "CAPDB_INSTANCE_PATH": str(config.instance_path),
        "CAPDB_LOG_LEVEL": "WARNING",
    }


def timed(arguments: list[str], environ: dict[str, str]) -> tuple[float, str, str]:
    """Seconds the command took, and the load average before and after it."""
    before = load_average()
    started = time.perf_counter()
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *arguments]
    subprocess.run(command, cwd=ROOT, env=environ, check=True)  # noqa: S603
    return time.perf_counter() - started, before, load_average()


def row_counts(app: Flask) -> dict[str, int]:
    engine = app.extensions["capdb.db"].engine
    with engine.connect() as connection:
        tables = sa.inspect(connection).get_table_names()
        return {
            table: connection.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
            for table in tables
        }


def empty_schema(app: Flask) -> None:
    """Drop the schema and create it again, empty: a fresh database for ``restore``."""
    engine = app.extensions["capdb.db"].engine
    engine.dispose()
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {SCHEMA} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    engine.dispose()


if __name__ == "__main__":
    main()
