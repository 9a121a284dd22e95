"""Time of a 10,000-row XLSX import, and time and memory of a 100,000-row CSV export.

    .venv/bin/python bench/import_export.py --incidents 100000 --rows 10000

Seeds a scratch PostgreSQL schema with demo data, builds an XLSX file of new incidents
(English headers, vocabulary labels, country names, up to three victims each) and imports
it as an administrator: reading, checking and writing in one transaction, as the command
does. Then, for each export format, in a fresh process, downloads the export of every incident
through the application as an administrator, and measures the Python heap's peak
(tracemalloc) and the process's resident memory before and at its peak. The issue's
budgets: the import under 15 s, the export streamed with a peak under 200 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import multiprocessing
import random
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from openpyxl import Workbook
from scratch import scratch_app, settle, signed_in_client

from auth.models import User
from capdb.app import create_app
from capdb.config import Config
from demo.seed import seed_demo
from incidents.transfer import exporting, importing

SCHEMA = "capdb_bench_transfer"
ADMIN = "admin@capdb.example"
# mission -> (country, latitude, longitude, first year)
MISSIONS = {
    "MINUSMA": ("Mali", 16.27, -0.04, 2014),
    "MINUSCA": ("Central African Republic", 4.36, 18.56, 2015),
    "MONUSCO": ("COD", -1.68, 29.22, 2011),
    "UNMISS": ("South Sudan", 4.85, 31.58, 2012),
    "UNIFIL": ("Lebanon", 33.27, 35.20, 2007),
}
MEANS = ["Improvised explosive device", "Small arms fire", "Rocket-propelled grenade"]
CONTEXTS = ["Ambush", "Attack on a convoy", "During a patrol", "Attack on a camp or base"]
OUTCOMES = ["Killed", "Injured", "Injured", "Abducted"]


def import_file(rows: int, seed: int = 7) -> bytes:
    """An XLSX file of ``rows`` new incidents, as a mission would fill the template in."""
    rng = random.Random(seed)
    columns = importing.template_columns(3)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Incidents")
    sheet.append([column.en for column in columns])
    for number in range(rows):
        mission = rng.choice(list(MISSIONS))
        country, latitude, longitude, first_year = MISSIONS[mission]
        day = date(first_year, 1, 1) + timedelta(days=rng.randrange(2500))
        values: dict[str, Any] = {
            "source_reference": f"BENCH-{number:06d}", "mission": mission, "occurred_on": day,
            "date_precision": "Day known", "country": country, "place": f"Town {number % 97}",
            "latitude": round(latitude + rng.uniform(-1, 1), 4),
            "longitude": round(longitude + rng.uniform(-1, 1), 4),
            "geo_precision": "Nearby town", "means_of_attack": rng.choice(MEANS),
            "attack_context": rng.choice(CONTEXTS), "location_type": "Road or supply route",
            "perpetrator_type": "Unknown", "narrative": f"Bench incident {number}.",
            "status": rng.choice(["Draft", "Submitted"]),
        }  # fmt: skip
        for victim in range(1, rng.randrange(1, 4) + 1):
            outcome = rng.choice(OUTCOMES)
            values |= {
                f"victim{victim}_category": "Contingent military",
                f"victim{victim}_nationality": "Chad",
                f"victim{victim}_contributing_country": "TCD",
                f"victim{victim}_sex": "Male",
                f"victim{victim}_outcome": outcome,
                f"victim{victim}_date_of_death": day if outcome == "Killed" else None,
            }
        sheet.append([values.get(column.key) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def time_import(app: Flask, data: bytes) -> None:
    sessionmaker = app.extensions["capdb.db"].sessionmaker
    timings: dict[str, float] = {}
    started, cpu = time.perf_counter(), time.process_time()
    with app.test_request_context(), sessionmaker.begin() as session:
        user = session.scalars(sa.select(User).where(User.email == ADMIN)).one()
        mark = time.perf_counter()
        sheet = importing.read_spreadsheet(data, "bench.xlsx")
        timings["read"], mark = time.perf_counter() - mark, time.perf_counter()
        plan = importing.check(
            session, user, sheet, filename="bench.xlsx", sha256=hashlib.sha256(data).hexdigest()
        )
        assert plan.ok, plan.problems[:5]
        timings["check"], mark = time.perf_counter() - mark, time.perf_counter()
        created = importing.write(session, user, plan)
        timings["write"], mark = time.perf_counter() - mark, time.perf_counter()
    timings["commit"] = time.perf_counter() - mark
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    parts = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items())
    print(f"import of {len(sheet.rows)} rows ({len(data) / 1e6:.1f} MB XLSX):")
    print(f"  {len(created)} incidents created in {total:.2f} s ({parts}); budget 15 s")
    print(f"  (CPU of the application's process {cpu:.2f} s)")


def memory_mb() -> tuple[float, float]:
    """This process's resident memory now, and its peak since the last reset."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def reset_peak_memory() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def export_in_fresh_process(config: Config, export_format: str) -> None:
    """Downloads an export of every incident through the application, as an administrator,
    and reports its time and the process's memory."""
    app = create_app(config)
    client = signed_in_client(app, ADMIN)
    url = f"/incidents/export.{export_format}"
    with client.get(f"{url}?q=zz-no-match") as warm:  # the libraries imported, caches filled
        assert warm.status_code == 200

    def download() -> tuple[int, float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        size = 0
        with client.get(url, buffered=False) as response:
            assert response.status_code == 200
            for chunk in response.iter_encoded():
                size += len(chunk)
        return size, time.perf_counter() - started, time.process_time() - cpu

    before, _peak = memory_mb()
    reset_peak_memory()
    size, seconds, cpu = download()
    _now, peak = memory_mb()
    tracemalloc.start()
    download()
    _current, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{export_format:>7}: {size / 1e6:5.1f} MB in {seconds:5.2f} s (CPU {cpu:5.2f} s);"
        f" resident {before:3.0f} MB before, peak {peak:3.0f} MB (+{peak - before:3.0f} MB);"
        f" Python heap peak {heap_peak / 1e6:5.1f} MB"
    )
    app.extensions["capdb.db"].engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--formats", nargs="+", choices=exporting.FORMATS, default=exporting.FORMATS
    )
    args = parser.parse_args()
    with scratch_app(SCHEMA) as app:
        with app.extensions["capdb.db"].sessionmaker.begin() as session:
            seed_demo(session, args.incidents - args.rows, 2589)
        data = import_file(args.rows)
        settle(app)
        time_import(app, data)
        settle(app)
        print(f"exports of all {args.incidents} incidents, each in a fresh process (budget:"
              " streamed, peak under 200 MB):")  # fmt: skip
        for export_format in args.formats:
            # A fresh process, so that the peak memory is the export's and not the seeding's.
            context = multiprocessing.get_context("spawn")
            child = context.Process(
                target=export_in_fresh_process,
                args=(app.extensions["capdb.config"], export_format),
            )
            child.start()
            child.join()
            assert child.exitcode == 0, child.exitcode


if __name__ == "__main__":
    main()
