"""the UN's fatality figures, kept apart as a reference set, and the explanations of the
differences with capdb's

Revision ID: 918608ef7f0e
Revises: 2f7d9b3e5a11
Create Date: 2026-12-19 03:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "918608ef7f0e"
down_revision: str | None = "2f7d9b3e5a11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_code", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("nationality_code", sa.String(length=3), nullable=False),
        sa.Column("personnel_type", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_reconciliation_notes_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_notes")),
        sa.UniqueConstraint(
            "mission_code",
            "year",
            "nationality_code",
            "personnel_type",
            name="uq_reconciliation_notes_key",
        ),
    )
    op.create_table(
        "un_fatality_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("malicious", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["loaded_by_id"], ["users.id"], name=op.f("fk_un_fatality_sets_loaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_un_fatality_sets")),
    )
    op.create_table(
        "un_fatalities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("casualty_id", sa.String(length=40), nullable=False),
        sa.Column("incident_date", sa.Date(), nullable=False),
        sa.Column("mission_acronym", sa.String(length=40), nullable=False),
        sa.Column("mission_code", sa.String(length=16), nullable=True),
        sa.Column("type_of_casualty", sa.String(length=40), nullable=False),
        sa.Column("gender", sa.String(length=20), nullable=False),
        sa.Column("nationality", sa.String(length=120), nullable=False),
        sa.Column("nationality_code", sa.String(length=3), nullable=False),
        sa.Column("personnel_type", sa.String(length=40), nullable=False),
        sa.Column("type_of_incident", sa.String(length=40), nullable=False),
        sa.Column("m49_code", sa.String(length=10), nullable=False),
        sa.Column("isocode3", sa.String(length=10), nullable=False),
        sa.Column("last_update", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["set_id"],
            ["un_fatality_sets.id"],
            name=op.f("fk_un_fatalities_set_id_un_fatality_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_un_fatalities")),
    )
    with op.batch_alter_table("un_fatalities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_un_fatalities_mission_code"), ["mission_code"], unique=False
        )
        batch_op.create_index(
            "ix_un_fatalities_set_mission", ["set_id", "mission_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("un_fatalities", schema=None) as batch_op:
        batch_op.drop_index("ix_un_fatalities_set_mission")
        batch_op.drop_index(batch_op.f("ix_un_fatalities_mission_code"))

    op.drop_table("un_fatalities")
    op.drop_table("un_fatality_sets")
    op.drop_table("reconciliation_notes")
