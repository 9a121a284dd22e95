"""national cases under review

A Member State's focal point opens cases on incidents that concern its State and adds
their defendants; both wait, pending, until the mission validates them. Existing cases and
defendants were entered by the United Nations side: validated.

Revision ID: 7e4a2c9d1f60
Revises: 5b2f0c8e91d3
Create Date: 2026-12-15 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e4a2c9d1f60"
down_revision: str | None = "5b2f0c8e91d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("judicial_cases", "defendants")


def review_status() -> sa.Enum:
    return sa.Enum(
        "pending",
        "validated",
        "rejected",
        name="review_status",
        native_enum=False,
        create_constraint=True,
        length=40,
    )


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table == "defendants":
                batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
                batch_op.create_foreign_key(
                    batch_op.f("fk_defendants_created_by_id_users"),
                    "users",
                    ["created_by_id"],
                    ["id"],
                )
            batch_op.add_column(
                sa.Column(
                    "review_status", review_status(), nullable=False, server_default="validated"
                )
            )
            batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True))
            batch_op.add_column(sa.Column("review_reason", sa.Text(), nullable=True))
            batch_op.create_foreign_key(
                batch_op.f(f"fk_{table}_reviewed_by_id_users"), "users", ["reviewed_by_id"], ["id"]
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(
                batch_op.f(f"fk_{table}_reviewed_by_id_users"), type_="foreignkey"
            )
            batch_op.drop_column("review_reason")
            batch_op.drop_column("reviewed_at")
            batch_op.drop_column("reviewed_by_id")
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_review_status"), type_="check")
            batch_op.drop_column("review_status")
            if table == "defendants":
                batch_op.drop_constraint(
                    batch_op.f("fk_defendants_created_by_id_users"), type_="foreignkey"
                )
                batch_op.drop_column("created_by_id")
