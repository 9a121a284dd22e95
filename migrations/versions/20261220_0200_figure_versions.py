"""figure_versions: the version of the shared cases' figures, counted outside the tables

Revision ID: 6c1f8a3e5d92
Revises: 4b7e2d9c1a38
Create Date: 2026-12-07 14:10:00
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6c1f8a3e5d92"
down_revision: str | None = "4b7e2d9c1a38"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    versions = op.create_table(
        "figure_versions",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_figure_versions")),
    )
    op.bulk_insert(versions, [{"name": "shared_cases", "version": secrets.randbits(63)}])


def downgrade() -> None:
    op.drop_table("figure_versions")
