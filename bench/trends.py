"""Server time of the trend statistics, on PostgreSQL with demo data.

    .venv/bin/python bench/trends.py --incidents 100000

Seeds a scratch PostgreSQL schema with demo data, then times, for several viewers, the
statistics behind the trends page's time charts (a year by month x mission x means of
attack: one query), every figure and the summary of the dashboard (their queries, without
drawing), and the whole page in the server (with its charts drawn, then served from the
chart cache). The spec's budget: the trend statistics under 100 ms.

The application turns PostgreSQL's JIT off on its connections (:mod:`capdb.db`): compiling
these plans to machine code takes longer than running them.
"""

from __future__ import annotations

import argparse
import gzip
import time

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from scratch import median_ms, scratch_app, settle, signed_in_client

from auth.models import User
from demo.seed import seed_demo
from incidents.filters import IncidentFilters
from maps import stats
from maps.charts import Figures
from maps.stats import Period

SCHEMA = "capdb_bench_trends"
REPEATS = 30
SCENARIOS = [
    ("2017 by month", {"date_from": "2017-01-01", "date_to": "2017-12-31", "period": "month"}),
    ("every date by year (the page's default)", {"period": "year"}),
]
VIEWERS = [
    ("admin", "admin@capdb.example"),
    ("analyst", "analyst@capdb.example"),
    ("Chad's focal point", "chad@capdb.example"),
    ("Mali's focal point", "mali@capdb.example"),
    ("MINUSMA officer", "minusma@capdb.example"),
]


def dashboard_statistics(
    session: sa.orm.Session, user: User, filters: IncidentFilters, period: Period
) -> None:
    """Every figure and the summary of the dashboard, without drawing the charts."""
    figures = Figures(session, user, filters, period, "en")
    figures.all()
    figures.summary()


def measure(app: Flask, scenario: str, args: dict[str, str]) -> None:
    sessionmaker = app.extensions["capdb.db"].sessionmaker
    print(f"\n{scenario}; median of {REPEATS} runs (10 for the last three columns)")
    print(
        f"{'viewer':22} {'incidents':>9} {'time chart ms':>13} {'all figures ms':>14}"
        f" {'page ms':>8} {'page, cached charts ms':>22} {'gzip KB':>8}"
    )
    for name, email in VIEWERS:
        with app.test_request_context(), sessionmaker() as session:
            user = session.scalars(sa.select(User).where(User.email == email)).one()
            filters, errors = IncidentFilters.parse(session, args)
            assert not errors, errors
            period = Period(args["period"])
            incidents = stats.summary(session, user, filters)["incidents"]
            chart_ms = median_ms(
                lambda: stats.counts_over_time(session, user, filters, period),  # noqa: B023
                REPEATS,
            )
            all_ms = median_ms(lambda: dashboard_statistics(session, user, filters, period), 10)  # noqa: B023
        client = signed_in_client(app, email)
        url = "/trends/?" + "&".join(f"{k}={v}" for k, v in args.items())

        def page(url: str = url, client: FlaskClient = client) -> bytes:
            response = client.get(url)
            assert response.status_code == 200, response.status_code
            return response.data

        started = time.perf_counter()
        body = page()  # the first time, every chart is drawn
        first_ms = (time.perf_counter() - started) * 1000
        cached_ms = median_ms(page, 10)
        print(
            f"{name:22} {incidents:9} {chart_ms:13.1f} {all_ms:14.1f}"
            f" {first_ms:8.0f} {cached_ms:22.1f} {len(gzip.compress(body)) / 1024:8.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    with scratch_app(SCHEMA) as app:
        started = time.perf_counter()
        with app.extensions["capdb.db"].sessionmaker.begin() as session:
            report = seed_demo(session, args.incidents, 2589)
        print(f"seeded {report} in {time.perf_counter() - started:.0f} s")
        settle(app)
        print(f"{args.incidents} incidents")
        for scenario, query in SCENARIOS:
            measure(app, scenario, query)


if __name__ == "__main__":
    main()
