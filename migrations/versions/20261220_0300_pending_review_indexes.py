"""pending review indexes: what waits for review, found without reading the rest

Revision ID: 0d5a7c3b9e21
Revises: 6c1f8a3e5d92
Create Date: 2026-12-07 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0d5a7c3b9e21"
down_revision: str | None = "6c1f8a3e5d92"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("review_status = 'pending' AND deleted_at IS NULL")
INDEXES = (
    ("ix_judicial_cases_pending", "judicial_cases", "id"),
    ("ix_defendants_pending", "defendants", "case_id"),
    ("ix_stage_events_pending", "stage_events", "case_id"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column], postgresql_where=PENDING, sqlite_where=PENDING)


def downgrade() -> None:
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
