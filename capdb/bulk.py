"""Writing many rows at once: COPY on PostgreSQL, batched multi-row INSERTs elsewhere.

For seeding and imports of tens of thousands of rows, where the ORM's unit of work costs
more than the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.orm import Session

BATCH = 5_000


def insert_rows(
    db: Session, table: sa.Table, rows: Sequence[Mapping[str, Any]], *, returning_ids: bool = False
) -> list[int]:
    """Insert the rows into the table in the session's transaction.

    With ``returning_ids`` the new primary keys come back in the order of the rows. Python
    column defaults are applied to the columns a row leaves out; the rows are not validated.
    """
    if not rows:
        return []
    complete = [_with_defaults(table, row) for row in rows]
    if db.get_bind().dialect.name == "postgresql":
        return _copy(db, table, complete, returning_ids)
    ids: list[int] = []
    statement = table.insert()
    if returning_ids:
        statement = statement.returning(table.c.id, sort_by_parameter_order=True)
    for start in range(0, len(complete), BATCH):
        result = db.execute(statement, complete[start : start + BATCH])
        if returning_ids:
            ids.extend(result.scalars())
    return ids


def _with_defaults(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(row)
    for column in table.columns:
        default = column.default
        if column.name in values or default is None or not isinstance(default, sa.ColumnDefault):
            continue
        values[column.name] = default.arg(None) if default.is_callable else default.arg
    return values


def _copy(
    db: Session, table: sa.Table, rows: list[dict[str, Any]], returning_ids: bool
) -> list[int]:
    ids: list[int] = []
    if returning_ids:
        ids = list(
            db.scalars(
                sa.text(
                    "SELECT nextval(pg_get_serial_sequence(:table, 'id'))"
                    " FROM generate_series(1, :n)"
                ),
                {"table": table.name, "n": len(rows)},
            )
        )
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver_connection = db.connection().connection.driver_connection
    assert driver_connection is not None  # noqa: S101 (a live connection always has one)
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
    return ids
