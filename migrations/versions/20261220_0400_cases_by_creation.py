"""cases by creation: the oldest stalled cases of a work queue first

Revision ID: 3e9b6d2f7c40
Revises: 0d5a7c3b9e21
Create Date: 2026-12-07 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "3e9b6d2f7c40"
down_revision: str | None = "0d5a7c3b9e21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_judicial_cases_created_at", "judicial_cases", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_judicial_cases_created_at", table_name="judicial_cases")
