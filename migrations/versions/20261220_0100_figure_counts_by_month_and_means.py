"""figure_counts by month and means: the time chart's own grain

Revision ID: 4b7e2d9c1a38
Revises: 918608ef7f0e
Create Date: 2026-12-07 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "4b7e2d9c1a38"
down_revision: str | None = "918608ef7f0e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Grain 3 is grain 2 summed over country, outcomes and step (maps.figure_fill).
    op.execute(
        "INSERT INTO figure_counts (state, grain, status, mission, month, means, country,"
        " outcomes, step, incidents, killed)"
        " SELECT state, 3, status, mission, month, means, '', 0, 0, sum(incidents), sum(killed)"
        " FROM figure_counts WHERE grain = 2"
        " GROUP BY state, status, mission, month, means"
    )


def downgrade() -> None:
    op.execute("DELETE FROM figure_counts WHERE grain = 3")
