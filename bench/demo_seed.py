"""How long ``demo seed`` takes on PostgreSQL, and how large the database becomes.

.venv/bin/python bench/demo_seed.py --incidents 100000
"""

from __future__ import annotations

import argparse
import time

from scratch import schema_size, scratch_app

from demo.seed import seed_demo

SCHEMA = "capdb_bench_seed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2589)
    args = parser.parse_args()
    with scratch_app(SCHEMA) as app:
        started = time.perf_counter()
        with app.extensions["capdb.db"].sessionmaker.begin() as session:
            report = seed_demo(session, args.incidents, args.seed)
        elapsed = time.perf_counter() - started
        print(f"seeded {report}")
        size = schema_size(app, SCHEMA) / 2**20
        print(f"time: {elapsed:.1f} s; size of the schema on disk: {size:.0f} MiB")


if __name__ == "__main__":
    main()
