"""The same paths at 100,000 and at 1,000,000 incidents: does ten times the data cost more?

    .venv/bin/python bench/scale.py                      # both sizes (seeds what is missing)
    .venv/bin/python bench/scale.py --sizes 100000       # one size
    .venv/bin/python bench/scale.py --reseed             # seed again even if a schema is there
    .venv/bin/python bench/scale.py --seed-only          # seed what is missing, measure nothing

Each size has a PostgreSQL schema of its own (``capdb_bench_scale_100k``,
``capdb_bench_scale_1m``), seeded with ``demo seed`` data and kept afterwards, so that a
run on an idle machine reuses them (``--drop`` removes them at the end). For the incident
list page, the API's incident and case lists, and a case's page and dossier PDF, each
viewed by an analyst, a MINUSMA officer and the focal points of Chad and of Mali, it
prints the median server time at each size and their ratio; then the time to record an
incident with 20 victims through the API, to submit it and to validate it. The issue's
budgets: 1M at most 1.5x the 100k time; Chad's incident list under 30 ms at 1M; each write
under 100 ms at 1M.
"""

from __future__ import annotations

import argparse
import os
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from flask import Flask
from flask.testing import FlaskClient
from scratch import DEFAULT_URL, median_ms, settle, signed_in_client
from sqlalchemy.engine import make_url

from auth import accounts
from auth.models import User
from capdb.app import create_app
from capdb.cli import alembic_config
from capdb.config import Config, Environment
from capdb.reference import load_reference
from demo.seed import seed_demo
from incidents.models import Incident, JudicialCase
from incidents.policy import visible_cases

REPEATS = 30
PDF_REPEATS = 5
WRITES = 15
VIEWERS = (
    ("analyst", "analyst@capdb.example"),
    ("MINUSMA officer", "minusma@capdb.example"),
    ("Chad's focal point", "chad@capdb.example"),
    ("Mali's focal point", "mali@capdb.example"),
)
# (path, URL with {case} for the viewer's newest case, repeats)
PATHS = (
    ("incident list", "/incidents/", REPEATS),
    ("API incident list", "/api/v1/incidents", REPEATS),
    ("API case list", "/api/v1/cases", REPEATS),
    ("case page (dossier)", "/cases/{case}", REPEATS),
    ("case dossier PDF", "/cases/{case}/dossier.pdf", PDF_REPEATS),
)
OFFICER, VALIDATOR = "minusma@capdb.example", "minusma.validator@capdb.example"
NATIONALITIES = ("TCD", "SEN", "BGD", "EGY", "TGO", "NER", "BFA", "GIN", "CIV", "MLI")

Figures = dict[str, dict[int, float]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--reseed", action="store_true", help="seed even if already seeded")
    parser.add_argument("--drop", action="store_true", help="drop the schemas at the end")
    parser.add_argument("--seed-only", action="store_true", help="seed, measure nothing")
    args = parser.parse_args()
    figures: Figures = {}
    for size in args.sizes:
        with bench_app(schema_for(size), size, reseed=args.reseed, drop=args.drop) as app:
            if args.seed_only:
                continue
            print(f"{size:,} incidents: load average before {load_average()}", flush=True)
            for name, value in measure_reads(app).items():
                figures.setdefault(name, {})[size] = value
            for name, value in measure_writes(app).items():
                figures.setdefault(name, {})[size] = value
            print(f"{size:,} incidents: load average after {load_average()}", flush=True)
    report(figures, args.sizes)


def schema_for(size: int) -> str:
    label = f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"
    return f"capdb_bench_scale_{label}"


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


@contextmanager
def bench_app(schema: str, size: int, *, reseed: bool, drop: bool) -> Iterator[Flask]:
    """The application on the schema, seeded with ``size`` incidents unless it holds them."""
    base = make_url(os.environ.get("CAPDB_BENCH_DATABASE_URL", DEFAULT_URL))
    admin = sa.create_engine(base)
    if reseed:
        run(admin, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    run(admin, f"CREATE SCHEMA IF NOT EXISTS {schema}")
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    app = create_app(
        Config(
            env=Environment.TEST,
            database_url=url.render_as_string(hide_password=False),
            secret_key=secrets.token_urlsafe(32),
            instance_path=Path(tempfile.mkdtemp()),
        )
    )
    try:
        with app.app_context():
            command.upgrade(alembic_config(), "head")
        sessions = app.extensions["capdb.db"].sessionmaker
        with sessions.begin() as session:
            load_reference(session)
            held = session.scalar(sa.select(sa.func.count()).select_from(Incident)) or 0
        if held < size:
            seed(app, schema, size, held)
        settle(app)
        yield app
    finally:
        app.extensions["capdb.db"].engine.dispose()
        if drop:
            run(admin, f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


def run(engine: sa.Engine, statement: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql(statement)


def seed(app: Flask, schema: str, size: int, held: int) -> None:
    if held:
        raise SystemExit(f"{schema} holds {held} incidents, fewer than {size}: use --reseed")
    started = time.perf_counter()
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        report = seed_demo(session, size, 2589)
    print(f"seeded {schema} in {time.perf_counter() - started:.0f} s: {report}", flush=True)


# Reading ------------------------------------------------------------------------------------


def measure_reads(app: Flask) -> dict[str, float]:
    figures = {}
    for viewer, email in VIEWERS:
        client = signed_in_client(app, email)
        case = newest_case(app, email)
        for path, url, repeats in PATHS:
            if "{case}" in url and case is None:
                continue
            figures[f"{path}, {viewer}"] = timed_get(client, url.format(case=case), repeats)
    return figures


def newest_case(app: Flask, email: str) -> int | None:
    """The newest case the viewer sees, by the application's own rule."""
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker() as db:
        user = db.scalars(sa.select(User).where(User.email == email)).one()
        statement = (
            sa.select(JudicialCase.id)
            .where(visible_cases(user))
            .order_by(JudicialCase.id.desc())
            .limit(1)
        )
        return db.scalar(statement)


def timed_get(client: FlaskClient, url: str, repeats: int) -> float:
    def request() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return median_ms(request, repeats)


# Writing ------------------------------------------------------------------------------------


def measure_writes(app: Flask) -> dict[str, float]:
    """Median times to record an incident with 20 victims, submit it and validate it,
    each a request through the API as the mission's officers make it."""
    officer, validator = token(app, OFFICER), token(app, VALIDATOR)
    client = app.test_client()
    created: list[dict[str, Any]] = []
    submitted: list[dict[str, Any]] = []

    def record() -> None:
        created.append(post(client, officer, "/api/v1/incidents", new_incident(len(created))))

    def submit() -> None:
        incident = created.pop()
        submitted.append(step(client, officer, incident, "submit"))

    def validate() -> None:
        step(client, validator, submitted.pop(), "validate")

    return {
        "record an incident with 20 victims (API)": median_writes(record),
        "submit it (API)": median_writes(submit),
        "validate it (API)": median_writes(validate),
    }


def median_writes(action: Callable[[], None]) -> float:
    # One more than the repeats: median_ms runs the action once to warm up.
    return median_ms(action, WRITES)


def token(app: Flask, email: str) -> str:
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker.begin() as db:
        user = db.scalars(sa.select(User).where(User.email == email)).one()
        return accounts.issue_token(db, user, days=1)[1]


def post(client: FlaskClient, token: str, url: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code in (200, 201), (url, response.status_code, response.json)
    answer: dict[str, Any] = response.json or {}
    return answer


def step(client: FlaskClient, token: str, incident: dict[str, Any], name: str) -> dict[str, Any]:
    url = f"/api/v1/incidents/{incident['id']}/{name}"
    return post(client, token, url, {"version": incident["version"]})


def new_incident(number: int) -> dict[str, Any]:
    """A MINUSMA incident with 20 victims of ten nationalities."""
    victims = [
        {
            "category": "contingent_military",
            "nationality": NATIONALITIES[n % len(NATIONALITIES)],
            "contributing_country": NATIONALITIES[n % len(NATIONALITIES)],
            "sex": "male",
            "outcome": "injured",
            "name": f"Soldier {n}",
        }
        for n in range(20)
    ]
    return {
        "mission": "MINUSMA",
        "occurred_on": f"2022-{number % 12 + 1:02d}-{number % 28 + 1:02d}",
        "date_precision": "day",
        "country": "MLI",
        "place": "Gao",
        "latitude": 16.27,
        "longitude": -0.04,
        "geo_precision": "exact",
        "means_of_attack": "indirect_fire",
        "attack_context": "camp_attack",
        "location_type": "camp",
        "perpetrator_type": "armed_group",
        "narrative": "Mortar rounds on the camp (scale bench).",
        "victims": victims,
    }


# Reporting ----------------------------------------------------------------------------------


def report(figures: Figures, sizes: list[int]) -> None:
    labels = [f"{size:,}" for size in sizes]
    header = f"{'path, viewer':58}" + "".join(f"{label:>12}" for label in labels)
    if len(sizes) == 2:
        header += f"{'ratio':>8}"
    print(f"\nmedian ms\n{header}")
    for name, by_size in figures.items():
        line = f"{name:58}" + "".join(f"{by_size.get(size, float('nan')):12.1f}" for size in sizes)
        if len(sizes) == 2 and all(size in by_size for size in sizes):
            line += f"{by_size[sizes[1]] / by_size[sizes[0]]:7.2f}x"
        print(line)


if __name__ == "__main__":
    main()
