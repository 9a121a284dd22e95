"""Full-text search on PostgreSQL: server time of the incident list searched with two words.

    .venv/bin/python bench/search.py --incidents 100000

Seeds a scratch PostgreSQL schema with demo data (the search index is filled by its
triggers as the rows are written), then times, for several users and two-word queries, the
whole list request in the server (access rule, search, ranking, the total, the template)
and the first page's query alone as plain SQL. The budget: a median under 50 ms.
"""

from __future__ import annotations

import argparse
import time

import sqlalchemy as sa
from incident_list import page_statement
from scratch import median_ms, scratch_app, settle, signed_in_client

from auth.models import User
from demo.seed import seed_demo
from incidents.filters import IncidentFilters, scoped_incidents

SCHEMA = "capdb_bench_search"
REPEATS = 40
SCENARIOS: list[tuple[str, str, str]] = [
    ("analyst", "analyst@capdb.example", "convoy Gao"),
    ("analyst", "analyst@capdb.example", "patrol Kidal"),
    ("analyst, accents folded", "analyst@capdb.example", "menaka ambush"),
    ("Chad's focal point", "chad@capdb.example", "convoy Gao"),
    ("MINUSMA officer", "minusma@capdb.example", "ambush Timbuktu"),
    ("analyst, every incident matches", "analyst@capdb.example", "peacekeepers attacked"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    with scratch_app(SCHEMA) as app:
        started = time.perf_counter()
        with app.extensions["capdb.db"].sessionmaker.begin() as session:
            seed_demo(session, args.incidents, 2589)
        print(f"seeded and indexed in {time.perf_counter() - started:.1f} s")
        settle(app)
        print(f"{args.incidents} incidents; median of {REPEATS} requests each")
        header = ("who", "query", "found", "page ms", "SQL ms")
        print("{:32} {:24} {:>7} {:>8} {:>7}".format(*header))
        for name, email, q in SCENARIOS:
            found, page_ms, sql_ms = measure(app, email, q)
            print(f"{name:32} {q:24} {found:7} {page_ms:8.1f} {sql_ms:7.1f}")


def measure(app: object, email: str, q: str) -> tuple[int, float, float]:
    """How many incidents the query finds, the median page time and the bare SQL time."""
    client = signed_in_client(app, email)  # type: ignore[arg-type]

    def request() -> bytes:
        response = client.get("/incidents/", query_string={"q": q})
        assert response.status_code == 200, response.status_code
        return response.data

    page_ms = median_ms(request, REPEATS)
    flask_app = app  # type: ignore[assignment]
    with (
        flask_app.test_request_context(),
        flask_app.extensions["capdb.db"].sessionmaker() as session,
    ):  # type: ignore[attr-defined]
        user = session.scalars(sa.select(User).where(User.email == email)).one()
        filters, errors = IncidentFilters.parse(session, {"q": q})
        assert not errors, errors
        query = scoped_incidents(user, filters)
        found = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        statement, parameters = page_statement(session, query, sort="relevance", q=q)
    with flask_app.extensions["capdb.db"].engine.connect() as connection:  # type: ignore[attr-defined]
        cursor = connection.connection.driver_connection.cursor()
        sql_ms = median_ms(lambda: cursor.execute(statement, parameters).fetchall(), REPEATS)
    return found, page_ms, sql_ms


if __name__ == "__main__":
    main()
