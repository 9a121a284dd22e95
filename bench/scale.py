"""The same paths at 100,000 and at 1,000,000 incidents: does ten times the data cost more?

    .venv/bin/python bench/scale.py                      # both sizes (seeds what is missing)
    .venv/bin/python bench/scale.py --sizes 100000       # one size
    .venv/bin/python bench/scale.py --reseed             # seed again even if a schema is there
    .venv/bin/python bench/scale.py --seed-only          # seed what is missing, measure nothing
    .venv/bin/python bench/scale.py --memory 1000        # and a worker's memory after 1,000
                                                         # mixed requests (largest size)

Each size has a PostgreSQL schema of its own (``capdb_bench_scale_100k``,
``capdb_bench_scale_1m``), seeded with ``demo seed`` data (which fills the scope and
figure tables) and kept afterwards, so that a run on an idle machine reuses them (``--drop``
removes them at the end).

For an analyst, a MINUSMA officer and the focal points of Chad (the largest contributor)
and of Mali (a host State), it prints the median server time at each size and their ratio
of: the incident list page, the API's incident and case lists, a case's page and dossier
PDF; the map's clusters and heat layer at the world view; the trends time chart (its
counts) and every figure of the trends page (their counts, without drawing) for the
page's default view and for 2017 by month, and what counting the cases of several
incidents costs the first reading after a change to one of them; the trends page itself;
and the CSV export of 2017's incidents (whose rows grow with the data: its time per 1,000
rows is what should hold). Then the time to record an incident with 20 victims through the
API, to submit it and to validate it. Load averages are printed with every size. The
issue's budgets: 1M at most 1.5x the 100k time; lists under 30 ms (Chad's incident list
included), map under 300 ms, trends under 100 ms; each write under 100 ms at 1M; a worker
under 250 MB after 1,000 mixed requests.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

import checkout  # noqa: F401 (first: this checkout's packages)
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from scratch import median_ms, seeded_app, signed_in_client

from auth import accounts
from auth.models import AuditEvent, User
from incidents.filters import IncidentFilters
from incidents.models import JudicialCase
from incidents.policy import visible_cases
from maps import shared_cases
from maps.charts import Figures
from maps.figure_upkeep import new_shared_cases_version
from maps.models import FigureSharedCase
from maps.stats import Period
from maps.trend_data import TrendData

REPEATS = 20
PDF_REPEATS = 5
EXPORT_REPEATS = 3
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
WORLD = "zoom=2&bbox=-180,-85,180,85"
YEAR_2017 = {"date_from": "2017-01-01", "date_to": "2017-12-31"}
VIEWS = (
    ("default view", {}, Period.YEAR),
    ("2017 by month", YEAR_2017, Period.MONTH),
)
OFFICER, VALIDATOR = "minusma@capdb.example", "minusma.validator@capdb.example"
NATIONALITIES = ("TCD", "SEN", "BGD", "EGY", "TGO", "NER", "BFA", "GIN", "CIV", "MLI")

Results = dict[str, dict[int, float]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--reseed", action="store_true", help="seed even if already seeded")
    parser.add_argument("--drop", action="store_true", help="drop the schemas at the end")
    parser.add_argument("--seed-only", action="store_true", help="seed, measure nothing")
    parser.add_argument("--memory", type=int, default=0, metavar="REQUESTS",
                        help="then a worker's memory after this many mixed requests")  # fmt: skip
    args = parser.parse_args()
    results: Results = {}
    for size in args.sizes:
        # The export is measured in the request, not handed to the job worker past 10,000 rows.
        exports_in_request = {"job_export_rows": 100 * size}
        schema = schema_for(size)
        with seeded_app(
            schema, size, reseed=args.reseed, drop=args.drop, **exports_in_request
        ) as app:
            if args.seed_only:
                continue
            print(f"\n{size:,} incidents: load average before {load_average()}", flush=True)
            for measure in (measure_lists, measure_figures, measure_writes):
                for name, value in measure(app).items():
                    results.setdefault(name, {})[size] = value
                    print(f"  {name:70} {value:9.1f}", flush=True)
            print(f"{size:,} incidents: load average after {load_average()}", flush=True)
            if args.memory and size == max(args.sizes):
                from worker_memory import measure_memory

                measure_memory(app, args.memory)
    if not args.seed_only:
        report(results, args.sizes)


def schema_for(size: int) -> str:
    label = f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"
    return f"capdb_bench_scale_{label}"


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


# Lists and a case ---------------------------------------------------------------------------


def measure_lists(app: Flask) -> dict[str, float]:
    results = {}
    for viewer, email in VIEWERS:
        client = signed_in_client(app, email)
        case = newest_case(app, email)
        for path, url, repeats in PATHS:
            if "{case}" in url and case is None:
                continue
            results[f"{path}, {viewer} (ms)"] = timed_get(client, url.format(case=case), repeats)
    return results


def newest_case(app: Flask, email: str) -> int | None:
    """The newest case the viewer sees, by the application's own rule, that no earlier run
    opened: each opening adds to the audit history that its page and dossier show, and
    the same case, run after run, made a longer dossier each time (125 to 734 ms)."""
    opened = sa.exists().where(
        AuditEvent.target_type == "judicial_cases",
        AuditEvent.target_id == sa.cast(JudicialCase.id, sa.String),
    )
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker() as db:
        user = db.scalars(sa.select(User).where(User.email == email)).one()
        statement = (
            sa.select(JudicialCase.id)
            .where(visible_cases(user), ~opened)
            .order_by(JudicialCase.id.desc())
            .limit(1)
        )
        return db.scalar(statement)


# Maps, trends and the export ----------------------------------------------------------------


def measure_figures(app: Flask) -> dict[str, float]:
    results: dict[str, float] = {}
    for viewer, email in VIEWERS:
        client = signed_in_client(app, email)
        for layer in ("clusters", "heat"):
            url = f"/maps/data/{layer}?{WORLD}"
            results[f"map {layer}, world view, {viewer} (ms)"] = timed_get(client, url, REPEATS)
        for view, args, period in VIEWS:
            chart, every, shared, changed = counts(app, email, args, period)
            results[f"trends time chart, {view}, {viewer} (ms)"] = chart
            results[f"trends all figures, {view}, {viewer} (ms)"] = every
            results[f"trends shared cases, all counted, {view}, {viewer} (ms)"] = shared
            results[f"trends shared cases, after one changed, {view}, {viewer} (ms)"] = changed
        url = "/trends/?" + "&".join(f"{k}={v}" for k, v in YEAR_2017.items())
        results[f"trends page, default view, {viewer} (ms)"] = timed_get(client, "/trends/", 10)
        results[f"trends page, 2017 by month, {viewer} (ms)"] = timed_get(client, url, 10)
        total, rows = export(client)
        results[f"CSV export of 2017, {viewer} (ms)"] = total
        results[f"CSV export of 2017, {viewer} (ms per 1,000 rows)"] = total / max(rows, 1) * 1000
    return results


def counts(
    app: Flask, email: str, args: dict[str, str], period: Period
) -> tuple[float, float, float, float]:
    """Median times of the time chart's counts, and of every figure's and the summary's
    (without drawing), each made afresh as a request makes them; and of the first reading
    of the sums of the cases of several incidents after a rebuild (all counted, then shared
    with other processes) and after a change to one of them (the others reuse the sums
    kept: :mod:`maps.shared_cases`). Each change is made in the bench's transaction only."""
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker() as db:
        user = db.scalars(sa.select(User).where(User.email == email)).one()
        filters, errors = IncidentFilters.parse(db, args)
        assert not errors, errors

        def chart() -> None:
            TrendData(db, user, filters, period).over_time  # noqa: B018 (reads the counts)

        def every_figure() -> None:
            figures = Figures(db, user, filters, period, "en")
            figures.all()
            figures.summary()

        def shared() -> None:
            # A rebuild's new version (every case changed), then the reading after it.
            new_shared_cases_version(db)
            shared_cases.shared_case_sums(db, user, filters)

        # A change to one shared case, as a validated step of it makes (its version moves
        # on, in this transaction only), then the reading after it. The cases are drawn
        # beforehand: drawing one among them all grows with them.
        drawn = sa.select(FigureSharedCase.case_id).order_by(sa.func.random()).limit(REPEATS + 1)
        changing = iter(db.scalars(drawn).all())

        def after_a_change() -> None:
            new_shared_cases_version(db, {next(changing)})
            shared_cases.shared_case_sums(db, user, filters)

        return (
            median_ms(chart, REPEATS),
            median_ms(every_figure, REPEATS),
            median_ms(shared, PDF_REPEATS),
            median_ms(after_a_change, REPEATS),
        )


def timed_get(client: FlaskClient, url: str, repeats: int) -> float:
    def request() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return median_ms(request, repeats)


def export(client: FlaskClient) -> tuple[float, int]:
    """Median time of the CSV export of 2017's incidents, streamed; and its rows."""
    url = "/incidents/export.csv?" + "&".join(f"{k}={v}" for k, v in YEAR_2017.items())
    lines = 0

    def download() -> None:
        nonlocal lines
        lines = 0
        with client.get(url, buffered=False) as response:
            assert response.status_code == 200
            for chunk in response.iter_encoded():
                lines += chunk.count(b"\n")

    return median_ms(download, EXPORT_REPEATS), lines - 1


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
        "record an incident with 20 victims (API, ms)": median_writes(record),
        "submit it (API, ms)": median_writes(submit),
        "validate it (API, ms)": median_writes(validate),
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


def report(results: Results, sizes: list[int]) -> None:
    labels = [f"{size:,}" for size in sizes]
    header = f"{'path, viewer':70}" + "".join(f"{label:>12}" for label in labels)
    if len(sizes) == 2:
        header += f"{'ratio':>8}"
    print(f"\nmedian ms\n{header}")
    for name, by_size in results.items():
        line = f"{name:70}" + "".join(f"{by_size.get(size, float('nan')):12.1f}" for size in sizes)
        if len(sizes) == 2 and all(size in by_size for size in sizes):
            line += f"{by_size[sizes[1]] / by_size[sizes[0]]:7.2f}x"
        print(line)


if __name__ == "__main__":
    main()
