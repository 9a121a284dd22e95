"""Server time of the filtered incident list page against the bare SQL that answers it.

    .venv/bin/python bench/incident_list.py --incidents 100000

Seeds a scratch PostgreSQL schema with demo data, then times, for several users and
filters, the whole request in the server (routing, access rule, queries, template) and
the page query alone run as plain SQL. The spec's budget: a median under 30 ms, and no
more than 3x the bare SQL.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections.abc import Callable

import sqlalchemy as sa
from scratch import scratch_app, signed_in_client

from auth.models import User
from incidents.demo import seed_demo
from incidents.filters import DEFAULT_PER_PAGE, IncidentFilters, page_of, scoped_incidents

SCHEMA = "capdb_bench_list"
REPEATS = 40
SCENARIOS = [
    ("analyst, no filter", "analyst@capdb.example", {}),
    ("analyst, MINUSMA IEDs", "analyst@capdb.example", {"mission": "MINUSMA", "means_of_attack": "ied"}),
    ("Chad's focal point, no filter", "chad@capdb.example", {}),
    ("Chad's focal point, 2017, killed", "chad@capdb.example", {"date_from": "2017-01-01", "date_to": "2017-12-31", "outcome": "killed"}),
    ("MINUSMA officer, text search", "minusma@capdb.example", {"q": "Gao"}),
]  # fmt: skip


def median_ms(action: Callable[[], object]) -> float:
    action()  # warm caches and connections
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    with scratch_app(SCHEMA) as app:
        sessionmaker = app.extensions["capdb.db"].sessionmaker
        with sessionmaker.begin() as session:
            seed_demo(session, args.incidents, 2589)
        with app.extensions["capdb.db"].engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        print(f"{args.incidents} incidents; median of {REPEATS} requests each")
        print(f"{'scenario':36} {'page ms':>8} {'SQL ms':>7} {'ratio':>6} {'page KB':>8} {'gzip KB':>8}")
        for name, email, filters in SCENARIOS:
            client = signed_in_client(app, email)
            query_string = "&".join(f"{k}={v}" for k, v in filters.items())
            url = f"/incidents/?{query_string}"

            def request(url: str = url) -> bytes:
                response = client.get(url)
                assert response.status_code == 200, response.status_code
                return response.data

            page_ms = median_ms(request)
            body = request()
            with app.test_request_context(), sessionmaker() as session:
                user = session.scalars(sa.select(User).where(User.email == email)).one()
                parsed, errors = IncidentFilters.parse(session, filters)
                assert not errors, errors
                query = scoped_incidents(user, parsed)
                statement = page_statement(session, query)
            with app.extensions["capdb.db"].engine.connect() as connection:
                sql_ms = median_ms(lambda: connection.exec_driver_sql(statement).fetchall())
            print(
                f"{name:36} {page_ms:8.1f} {sql_ms:7.1f} {page_ms / sql_ms:6.1f}"
                f" {len(body) / 1024:8.1f} {len(gzip.compress(body)) / 1024:8.1f}"
            )


def page_statement(session: sa.orm.Session, query: sa.Select[object]) -> str:
    """The first page's query as the literal SQL PostgreSQL receives."""
    captured: list[str] = []

    @sa.event.listens_for(session.get_bind(), "before_cursor_execute")
    def capture(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        captured.append(session.get_bind().dialect.compiler  # noqa: B018 (keeps mypy quiet)
                        and statement % _quoted(parameters))

    page_of(session, query, per_page=DEFAULT_PER_PAGE)  # type: ignore[arg-type]
    sa.event.remove(session.get_bind(), "before_cursor_execute", capture)
    return captured[-1]


def _quoted(parameters: object) -> object:
    from psycopg import sql

    if isinstance(parameters, dict):
        return {k: sql.Literal(v).as_string(None) for k, v in parameters.items()}
    return tuple(sql.Literal(v).as_string(None) for v in parameters)  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
