from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.bulk import insert_rows
from incidents.models import JudicialCase


def test_ids_come_back_in_row_order_with_defaults_applied(db: Session) -> None:
    table = cast(sa.Table, JudicialCase.__table__)
    rows = [
        {"prosecuting_state_code": code, "jurisdiction": "ordinary", "version": 1}
        for code in ("MLI", "CAF", "COD", "SSD")
    ]
    ids = insert_rows(db, table, rows, returning_ids=True)
    assert len(set(ids)) == 4
    stored = {case.id: case for case in db.scalars(sa.select(JudicialCase))}
    assert [stored[i].prosecuting_state_code for i in ids] == ["MLI", "CAF", "COD", "SSD"]
    assert all(stored[i].charges == "" and stored[i].created_at.tzinfo for i in ids)
    # The sequence moved past the reserved ids: the ORM can still add a case.
    case = JudicialCase(prosecuting_state_code="MLI", jurisdiction="military")
    db.add(case)
    db.flush()
    assert case.id not in ids


def test_nothing_to_insert_is_fine(db: Session) -> None:
    table = cast(sa.Table, JudicialCase.__table__)
    assert insert_rows(db, table, [], returning_ids=True) == []
