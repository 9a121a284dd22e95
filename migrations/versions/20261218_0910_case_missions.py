"""case_missions: the missions whose officers see each case, kept like case_states

Revision ID: 2792352e9d74
Revises: 7120ad16a4ca
Create Date: 2026-12-07 10:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2792352e9d74"
down_revision: str | None = "7120ad16a4ca"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_missions",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("mission_code", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["judicial_cases.id"],
            name=op.f("fk_case_missions_case_id_judicial_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "mission_code", name=op.f("pk_case_missions")),
    )
    op.create_index("ix_case_missions_mission_case", "case_missions", ["mission_code", "case_id"])
    # The rule of incidents.concerned.case_mission_rows, over what is already there.
    op.execute(
        "INSERT INTO case_missions (case_id, mission_code) "
        "SELECT DISTINCT case_incidents.case_id, incidents.mission_code "
        "FROM case_incidents JOIN incidents ON incidents.id = case_incidents.incident_id"
    )


def downgrade() -> None:
    op.drop_index("ix_case_missions_mission_case", table_name="case_missions")
    op.drop_table("case_missions")
