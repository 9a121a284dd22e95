"""How long ``demo seed`` takes on PostgreSQL, and how large the database becomes.

    .venv/bin/python bench/demo_seed.py --incidents 100000

Works in a scratch schema of the database at CAPDB_BENCH_DATABASE_URL (by default the
local ``test`` database) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import make_url

from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.config import Config, Environment
from capdb.reference import load_reference
from incidents.demo import seed_demo

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "capdb_bench_seed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2589)
    args = parser.parse_args()

    base = make_url(os.environ.get("CAPDB_BENCH_DATABASE_URL", DEFAULT_URL))
    admin = sa.create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        connection.exec_driver_sql(f"CREATE SCHEMA {SCHEMA}")
    url = base.update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    config = Config(
        env=Environment.TEST,
        database_url=url.render_as_string(hide_password=False),
        secret_key="bench" * 8,
        instance_path=Path(tempfile.mkdtemp()),
    )
    app = create_app(config)
    with app.app_context():
        command.upgrade(alembic_config(), "head")
    sessionmaker = app.extensions["capdb.db"].sessionmaker
    with sessionmaker.begin() as session:
        load_reference(session)

    started = time.perf_counter()
    with sessionmaker.begin() as session:
        report = seed_demo(session, args.incidents, args.seed)
    elapsed = time.perf_counter() - started

    with admin.connect() as connection:
        size = connection.execute(
            sa.text(
                "SELECT sum(pg_total_relation_size(format('%I.%I', schemaname, tablename))) "
                "FROM pg_tables WHERE schemaname = :schema"
            ),
            {"schema": SCHEMA},
        ).scalar_one()
    print(f"seeded {report}")
    print(f"time: {elapsed:.1f} s; size of the schema on disk: {size / 2**20:.0f} MiB")
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {SCHEMA} CASCADE")
    admin.dispose()


if __name__ == "__main__":
    main()
