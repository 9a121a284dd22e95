"""figure_counts by month, country and step: the States and steps under a date filter

Revision ID: 8a2c4e6f1b57
Revises: 3e9b6d2f7c40
Create Date: 2026-12-07 15:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "8a2c4e6f1b57"
down_revision: str | None = "3e9b6d2f7c40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Grain 4 is grain 2 summed over means and outcomes (maps.figure_fill).
    op.execute(
        "INSERT INTO figure_counts (state, grain, status, mission, month, means, country,"
        " outcomes, step, incidents, killed)"
        " SELECT state, 4, status, mission, month, '', country, 0, step, sum(incidents),"
        " sum(killed)"
        " FROM figure_counts WHERE grain = 2"
        " GROUP BY state, status, mission, month, country, step"
    )


def downgrade() -> None:
    op.execute("DELETE FROM figure_counts WHERE grain = 4")
