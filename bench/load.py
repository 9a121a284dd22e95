"""Load test: simulated users of the three journeys against gunicorn on PostgreSQL.

    .venv/bin/python bench/load.py --incidents 100000 --users 50 --minutes 5

Seeds a scratch PostgreSQL schema, creates one account per simulated user (with its own
TOTP secret, and an API token for mission officers), starts gunicorn with the shipped
``gunicorn.conf.py`` on 127.0.0.1, and runs locust headless (``bench/locustfile.py``) for
the given time. Prints, per kind of request, the count, failures, p50 and p95, and the
load average before and after. The issue's budget: no error; p95 under 500 ms for pages,
under 2 s for PDFs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from scratch import seeded_app
from serving import (
    as_dict,
    create_accounts,
    gunicorn,
    load_average,
    signed_in,
    visible_ids,
    warm_up,
)

from incidents.models import Incident, JudicialCase

SCHEMA = "capdb_bench_load"
HERE = Path(__file__).resolve().parent
# Member States whose focal points review; each has incidents and cases in the demo data.
STATES = ("TCD", "MLI", "BGD")
YEARS = list(range(2014, 2025))
MISSIONS = ["MINUSMA", "MONUSCO", "MINUSCA", "UNMISS"]
PAGE_BUDGET_MS, PDF_BUDGET_MS = 500, 2000
# As many as the shipped configuration's workers (twice the processors plus one).
WARM_UP_CLIENTS = 2 * len(os.sched_getaffinity(0)) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--port", type=int, default=8731)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args()
    with seeded_app(SCHEMA, args.incidents, reseed=True, drop=True) as app:
        plan_file = write_plan(app, args.users)
        warming = warm_up_visits(app)
        with gunicorn(app, args.port) as base:
            warming(base)
            before = load_average()
            stats = run_locust(base, plan_file, args)
            after = load_average()
    report(stats, args, before, after)


def split(users: int) -> tuple[int, int, int]:
    """Officers, focal points and analysts: about 30%, 40% and 30% of the users."""
    officers = max(1, round(users * 0.3))
    analysts = max(1, round(users * 0.3))
    return officers, max(1, users - officers - analysts), analysts


def write_plan(app: Flask, users: int) -> Path:
    """The accounts and record ids the simulated users take, in a file for locust."""
    officers, focal_points, analysts = split(users)
    plan: dict[str, Any] = {"years": YEARS, "missions": MISSIONS}
    plan["officers"] = [
        as_dict(a)
        for a in create_accounts(app, "mission", officers, missions=["MINUSMA"], state=None)
    ]
    plan["analysts"] = [
        as_dict(a) for a in create_accounts(app, "analyst", analysts, missions=[], state=None)
    ]
    plan["focal_points"] = []
    for index, state in enumerate(STATES):
        count = len(range(index, focal_points, len(STATES)))
        for account in create_accounts(app, "member_state", count, missions=[], state=state):
            entry = as_dict(account)
            entry["incidents"] = visible_ids(app, account.email, Incident, 500)
            entry["cases"] = visible_ids(app, account.email, JudicialCase, 200)
            assert entry["incidents"], f"{state} sees no incident"
            assert entry["cases"], f"{state} sees no case"
            plan["focal_points"].append(entry)
    handle, name = tempfile.mkstemp(prefix="capdb-load-", suffix=".json")
    with os.fdopen(handle, "w") as file:
        json.dump(plan, file)
    return Path(name)


def warm_up_visits(app: Flask) -> Callable[[str], None]:
    """Visits of the heavy pages (map, trends, PDFs) by accounts outside the plan, to be
    made before the run so that its figures are not those of workers' first imports."""
    analyst = create_accounts(app, "analyst", 1, missions=[], state=None, purpose="warm")[0]
    focal_point = create_accounts(app, "member_state", 1, missions=[], state="TCD", purpose="warm")[
        0
    ]
    incident = visible_ids(app, focal_point.email, Incident, 1)[0]
    case = visible_ids(app, focal_point.email, JudicialCase, 1)[0]

    def warm(base: str) -> None:
        started = time.perf_counter()
        urls = ["/maps/?mission=MINUSMA", "/trends/?period=month&date_from=2020-01-01"]
        warm_up(base, signed_in(base, analyst), urls, WARM_UP_CLIENTS)
        urls = [f"/incidents/{incident}/dossier.pdf", f"/cases/{case}/dossier.pdf"]
        warm_up(base, signed_in(base, focal_point), urls, WARM_UP_CLIENTS)
        print(f"workers warmed up in {time.perf_counter() - started:.0f} s", flush=True)

    return warm


def run_locust(base: str, plan_file: Path, args: argparse.Namespace) -> list[dict[str, str]]:
    """Run locust headless; its per-kind statistics, as rows of its CSV file."""
    prefix = Path(tempfile.mkdtemp(prefix="capdb-locust-")) / "load"
    seconds = int(args.minutes * 60)
    command = [
        sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
        "--host", base, "--users", str(args.users), "--spawn-rate", "5",
        "--run-time", f"{seconds}s", "--stop-timeout", "30", "--csv", str(prefix),
        "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    environ = os.environ | {
        "BENCH_PLAN": str(plan_file),
        "BENCH_MAX_REQUESTS": str(args.max_requests),
    }
    # locust answers 1 when any request failed; the statistics say which.
    subprocess.run(command, env=environ, timeout=seconds + 300, check=False)  # noqa: S603
    with open(f"{prefix}_stats.csv", newline="") as file:
        return list(csv.DictReader(file))


def report(stats: list[dict[str, str]], args: argparse.Namespace, before: str, after: str) -> None:
    print(
        f"\n{args.incidents} incidents, {args.users} users, {args.minutes:g} min;"
        f" load average before {before}, after {after}"
    )
    print(
        "{:28} {:>8} {:>7} {:>7} {:>7} {:>7}".format(
            "kind", "requests", "errors", "p50 ms", "p95 ms", "budget"
        )
    )
    for row in sorted(stats, key=lambda r: r["Name"]):
        budget = budget_of(row["Name"])
        within = "" if budget is None else ("ok" if float(row["95%"]) <= budget else "OVER")
        print(
            f"{row['Name']:28} {row['Request Count']:>8} {row['Failure Count']:>7}"
            f" {row['50%']:>7} {row['95%']:>7} {within:>7}"
        )


def budget_of(name: str) -> int | None:
    """The p95 budget of a kind of request: PDFs 2 s, pages and API calls 500 ms; exports
    and sign-in have none in the issue."""
    if name.startswith("PDF"):
        return PDF_BUDGET_MS
    if name.startswith(("page", "API", "data")):
        return PAGE_BUDGET_MS
    return None


if __name__ == "__main__":
    main()
