"""figure_changes: which shared cases each version of them changed, so that a reader counts
those again rather than all of them

Revision ID: 5d8e1f3a7c29
Revises: 8a2c4e6f1b57
Create Date: 2026-12-07 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d8e1f3a7c29"
down_revision: str | None = "8a2c4e6f1b57"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "figure_versions",
        sa.Column("serial", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.create_table(
        "figure_changes",
        sa.Column("serial", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("serial", "case_id", name=op.f("pk_figure_changes")),
    )
    # The version in place changed every case (0): what was kept before is counted again.
    op.execute(
        "INSERT INTO figure_changes (serial, case_id, version)"
        " SELECT serial, 0, version FROM figure_versions WHERE name = 'shared_cases'"
    )


def downgrade() -> None:
    op.drop_table("figure_changes")
    op.drop_column("figure_versions", "serial")
