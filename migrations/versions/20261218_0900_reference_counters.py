"""reference_counters: the last number of each mission and year's incident references

Revision ID: 7120ad16a4ca
Revises: 8d1b6e3f4a25
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7120ad16a4ca"
down_revision: str | None = "8d1b6e3f4a25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows start when a mission and year's first incident is recorded after this, from the
    # highest number used then (incidents.recording.service.reserve_references).
    op.create_table(
        "reference_counters",
        sa.Column("mission_code", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mission_code"],
            ["missions.code"],
            name=op.f("fk_reference_counters_mission_code_missions"),
        ),
        sa.PrimaryKeyConstraint("mission_code", "year", name=op.f("pk_reference_counters")),
    )


def downgrade() -> None:
    op.drop_table("reference_counters")
