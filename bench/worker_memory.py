"""A web worker's resident memory after a number of mixed requests.

Used by ``scale.py --memory N``: gunicorn with the shipped configuration and one
worker serves the bench schema; an analyst, a MINUSMA officer and Chad's focal point, each
signed in through the pages, take turns asking for the pages, map layers, charts, API
lists, a dossier PDF and exports that users ask for. The worker's resident set size is
read before, every tenth of the way, and at the end; the budget is 250 MB.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time

import psutil
from flask import Flask
from serving import create_accounts, gunicorn, load_average, signed_in, visible_ids

from incidents.models import Incident, JudicialCase
from maps.charts import NAMES

PORT = 8741
BUDGET_MB = 250
WORLD = "zoom=2&bbox=-180,-85,180,85"
SAHEL = "zoom=5&bbox=-12,8,20,24"


def measure_memory(app: Flask, count: int) -> None:
    # Accounts of this run's own: the schema is kept, with the accounts of earlier runs.
    run = f"memory-{secrets.token_hex(3)}"
    analyst = create_accounts(app, "analyst", 1, missions=[], state=None, purpose=run)[0]
    officer = create_accounts(app, "mission", 1, missions=["MINUSMA"], state=None,
                              purpose=run)[0]  # fmt: skip
    chad = create_accounts(app, "member_state", 1, missions=[], state="TCD", purpose=run)[0]
    incidents = visible_ids(app, chad.email, Incident, 50)
    cases = visible_ids(app, chad.email, JudicialCase, 20)
    rng = random.Random(14)
    with gunicorn(app, PORT, workers=1) as base:
        worker = _worker()
        clients = [signed_in(base, account) for account in (analyst, officer, chad)]
        urls = _urls(rng, incidents, cases)
        print(f"\nworker memory, {count} mixed requests; load average {load_average()}")
        print(f"  before: {_rss(worker):6.1f} MB", flush=True)
        started = time.perf_counter()
        for number, client in zip(range(1, count + 1), itertools.cycle(clients), strict=False):
            url = next(urls)
            response = client.get(base + url, timeout=300)
            if response.status_code not in (200, 404):  # 404: another viewer's record
                raise RuntimeError(f"{url}: {response.status_code}")
            if number % max(1, count // 10) == 0:
                print(f"  after {number:5}: {_rss(worker):6.1f} MB", flush=True)
        seconds = time.perf_counter() - started
        rss = _rss(worker)
        verdict = "within" if rss < BUDGET_MB else "OVER"
        print(f"  {count} requests in {seconds:.0f} s; worker at {rss:.1f} MB ({verdict} the"
              f" {BUDGET_MB} MB budget); load average {load_average()}")  # fmt: skip


def _worker() -> psutil.Process:
    """The one gunicorn worker this process started (a child of its master)."""
    for child in psutil.Process().children(recursive=True):
        parent = child.parent()
        if parent is not None and "gunicorn" in " ".join(parent.cmdline()):
            return child
    raise RuntimeError("no gunicorn worker found")


def _rss(worker: psutil.Process) -> float:
    return float(worker.memory_info().rss) / 2**20


def _urls(rng: random.Random, incidents: list[int], cases: list[int]) -> itertools.cycle[str]:
    year = rng.choice(range(2014, 2024))
    urls = [
        "/incidents/",
        f"/incidents/?date_from={year}-01-01&date_to={year}-12-31",
        "/maps/",
        f"/maps/data/clusters?{WORLD}",
        f"/maps/data/heat?{WORLD}",
        f"/maps/data/choropleth?{WORLD}",
        f"/maps/data/clusters?{SAHEL}&mission=MINUSMA",
        "/trends/",
        f"/trends/?period=month&date_from={year}-01-01&date_to={year}-12-31",
        *(f"/trends/{name}.svg" for name in NAMES[:6]),
        "/trends/incidents-by-mission.csv",
        "/api/v1/incidents?per_page=50",
        "/api/v1/cases",
        "/api/v1/stats/summary",
        f"/incidents/export.csv?date_from={year}-06-01&date_to={year}-06-30",
        *(f"/incidents/{i}" for i in incidents[:10]),
        *(f"/cases/{c}" for c in cases[:5]),
        f"/cases/{cases[0]}/dossier.pdf",
    ]
    rng.shuffle(urls)
    return itertools.cycle(urls)
