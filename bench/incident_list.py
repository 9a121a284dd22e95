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
from typing import Any

import sqlalchemy as sa
from flask import Flask
from scratch import median_ms, scratch_app, settle, signed_in_client

from auth.models import User
from demo.seed import seed_demo
from incidents.filters import DEFAULT_PER_PAGE, IncidentFilters, page_of, scoped_incidents
from incidents.models import Incident

SCHEMA = "capdb_bench_list"
REPEATS = 40
SCENARIOS: list[tuple[str, str, dict[str, str]]] = [
    ("analyst, no filter", "analyst@capdb.example", {}),
    ("analyst, MINUSMA IEDs", "analyst@capdb.example", {"mission": "MINUSMA", "means_of_attack": "ied"}),  # noqa: E501
    ("Chad's focal point, no filter", "chad@capdb.example", {}),
    (
        "Chad's focal point, 2017, killed",
        "chad@capdb.example",
        {"date_from": "2017-01-01", "date_to": "2017-12-31", "outcome": "killed"},
    ),
    ("MINUSMA officer, text search", "minusma@capdb.example", {"q": "Gao"}),
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    with scratch_app(SCHEMA) as app:
        with app.extensions["capdb.db"].sessionmaker.begin() as session:
            seed_demo(session, args.incidents, 2589)
        settle(app)
        print(f"{args.incidents} incidents; median of {REPEATS} requests each")
        header = ("scenario", "page ms", "SQL ms", "ratio", "page KB", "gzip KB")
        print("{:36} {:>8} {:>7} {:>6} {:>8} {:>8}".format(*header))
        for name, email, filters in SCENARIOS:
            page_ms, sql_ms, body = measure(app, email, filters)
            print(
                f"{name:36} {page_ms:8.1f} {sql_ms:7.1f} {page_ms / sql_ms:6.1f}"
                f" {len(body) / 1024:8.1f} {len(gzip.compress(body)) / 1024:8.1f}"
            )


def measure(app: Flask, email: str, filters: dict[str, str]) -> tuple[float, float, bytes]:
    """Median page time, median bare SQL time, and the page itself."""
    client = signed_in_client(app, email)
    url = "/incidents/?" + "&".join(f"{k}={v}" for k, v in filters.items())

    def request() -> bytes:
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        return response.data

    page_ms = median_ms(request, REPEATS)
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker() as session:
        user = session.scalars(sa.select(User).where(User.email == email)).one()
        parsed, errors = IncidentFilters.parse(session, filters)
        assert not errors, errors
        statement, parameters = page_statement(session, scoped_incidents(user, parsed))
    with app.extensions["capdb.db"].engine.connect() as connection:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        sql_ms = median_ms(lambda: cursor.execute(statement, parameters).fetchall(), REPEATS)
    return page_ms, sql_ms, request()


def page_statement(
    session: sa.orm.Session,
    query: sa.Select[Incident],
    *,
    sort: str = "-date",
    q: str | None = None,
) -> tuple[str, Any]:
    """The first page's query exactly as the driver receives it, with its parameters."""
    captured: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def capture(
        _conn: object, _cursor: object, statement: str, parameters: Any, *_: object
    ) -> None:
        captured.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        page_of(session, query, per_page=DEFAULT_PER_PAGE, sort=sort, q=q)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    return captured[-1]


if __name__ == "__main__":
    main()
