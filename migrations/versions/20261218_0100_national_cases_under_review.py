"""national cases under review

A Member State's focal point opens cases on incidents that concern its State and adds
their defendants; both wait, pending, until the mission validates them. Existing cases and
defendants were entered by the United Nations side: validated.

Revision ID: 7e4a2c9d1f60
Revises: 80182952a60c
Create Date: 2026-12-18 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e4a2c9d1f60"
down_revision: str | None = "80182952a60c"
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


# SQLite: the columns added in place. A batch would rebuild both tables, and dropping the
# old ``judicial_cases`` while foreign keys are enforced fails (defendants, stage events and
# attachments refer to it) or deletes what cascades (its incidents' links, its States).
SQLITE_COLUMNS = (
    "ALTER TABLE {table} ADD COLUMN created_by_id INTEGER"
    " CONSTRAINT fk_{table}_created_by_id_users REFERENCES users (id)",
    "ALTER TABLE {table} ADD COLUMN review_status VARCHAR(40) DEFAULT 'validated' NOT NULL"
    " CONSTRAINT ck_{table}_review_status"
    " CHECK (review_status IN ('pending', 'validated', 'rejected'))",
    "ALTER TABLE {table} ADD COLUMN reviewed_by_id INTEGER"
    " CONSTRAINT fk_{table}_reviewed_by_id_users REFERENCES users (id)",
    "ALTER TABLE {table} ADD COLUMN reviewed_at DATETIME",
    "ALTER TABLE {table} ADD COLUMN review_reason TEXT",
)


def _sqlite_upgrade() -> None:
    for table in TABLES:
        for statement in SQLITE_COLUMNS:
            # judicial_cases has had its created_by_id from the start.
            if table == "defendants" or "created_by_id" not in statement:
                op.execute(statement.format(table=table))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_upgrade()
        return
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
    # On SQLite the foreign keys added in place have no name the batch can find; dropping
    # their column drops them.
    named_keys = op.get_bind().dialect.name != "sqlite"
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if named_keys:
                batch_op.drop_constraint(
                    batch_op.f(f"fk_{table}_reviewed_by_id_users"), type_="foreignkey"
                )
            batch_op.drop_column("review_reason")
            batch_op.drop_column("reviewed_at")
            batch_op.drop_column("reviewed_by_id")
            batch_op.drop_constraint(batch_op.f(f"ck_{table}_review_status"), type_="check")
            batch_op.drop_column("review_status")
            if table == "defendants":
                if named_keys:
                    batch_op.drop_constraint(
                        batch_op.f("fk_defendants_created_by_id_users"), type_="foreignkey"
                    )
                batch_op.drop_column("created_by_id")
