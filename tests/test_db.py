"""The engine's settings hold on every connection the pool hands out."""

from __future__ import annotations

import pytest

from capdb.db import make_engine


def test_postgresql_jit_stays_off_after_a_connection_is_returned(database_url: str) -> None:
    engine = make_engine(database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("JIT exists only on PostgreSQL")
    try:
        # The pool rolls back each connection it takes back; the setting must survive.
        for _ in range(3):
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
    finally:
        engine.dispose()
