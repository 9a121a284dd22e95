"""figures kept current for maps and trends

The tables start empty. A database that holds no incident yet is marked as holding the
sums of every incident (which it does); any other is counted from its incidents until
``flask --app wsgi figures rebuild`` fills them.

Revision ID: 505c60fc8a7d
Revises: 9d9355752397
Create Date: 2026-12-15 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "505c60fc8a7d"
down_revision: str | None = "9d9355752397"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK_EMPTY = """
INSERT INTO figure_marks (name, made_at)
SELECT 'built', CURRENT_TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM incidents)
"""


def upgrade() -> None:
    op.create_table(
        "figure_areas",
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("mission", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=6), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("means", sa.String(length=40), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("killed", sa.Integer(), nullable=False),
        sa.Column("unlocated", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "state", "level", "code", "status", "mission", "means", name=op.f("pk_figure_areas")
        ),
    )
    op.create_table(
        "figure_cases",
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("mission", sa.String(length=20), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("measure", sa.SmallInteger(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "state",
            "year",
            "measure",
            "bucket",
            "status",
            "mission",
            "country",
            "value",
            name=op.f("pk_figure_cases"),
        ),
    )
    op.create_table(
        "figure_shared_cases",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_figure_shared_cases")),
    )
    op.create_table(
        "figure_cells",
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("mission", sa.String(length=20), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("gx", sa.Integer(), nullable=False),
        sa.Column("gy", sa.Integer(), nullable=False),
        sa.Column("means", sa.String(length=40), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("killed", sa.Integer(), nullable=False),
        sa.Column("sum_x", sa.BigInteger(), nullable=False),
        sa.Column("sum_y", sa.BigInteger(), nullable=False),
        sa.Column("sum_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "state", "level", "gx", "gy", "status", "mission", "means", name=op.f("pk_figure_cells")
        ),
    )
    op.create_table(
        "figure_counts",
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("mission", sa.String(length=20), nullable=False),
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("means", sa.String(length=40), nullable=False),
        sa.Column("country", sa.String(length=3), nullable=False),
        sa.Column("outcomes", sa.SmallInteger(), nullable=False),
        sa.Column("step", sa.SmallInteger(), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("killed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "state",
            "grain",
            "status",
            "mission",
            "month",
            "means",
            "country",
            "outcomes",
            "step",
            name=op.f("pk_figure_counts"),
        ),
    )
    op.create_table(
        "figure_marks",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_figure_marks")),
    )
    op.create_table(
        "figure_victims",
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("mission", sa.String(length=20), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("nationality", sa.String(length=3), nullable=False),
        sa.Column("contributor", sa.String(length=3), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("victims", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "state",
            "year",
            "status",
            "mission",
            "category",
            "nationality",
            "contributor",
            "outcome",
            name=op.f("pk_figure_victims"),
        ),
    )
    op.execute(MARK_EMPTY)


def downgrade() -> None:
    op.drop_table("figure_victims")
    op.drop_table("figure_marks")
    op.drop_table("figure_counts")
    op.drop_table("figure_cells")
    op.drop_table("figure_shared_cases")
    op.drop_table("figure_cases")
    op.drop_table("figure_areas")
