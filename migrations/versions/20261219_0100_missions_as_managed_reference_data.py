"""missions as managed reference data

Missions get a kind, a predecessor, aliases, a version and the mark of an admin's change,
host countries their dates, and every change of a mission its previous state in
``mission_versions``. Countries get a kind (former States, nationality statuses), the
State that continues a former one, a version and the mark of an admin's change.

On SQLite the columns are added with ``ALTER TABLE ... ADD COLUMN`` and their constraints
inline, and dropped again with ``DROP COLUMN``: rebuilding ``countries`` or ``missions``
would drop tables that every incident refers to. ``predecessor_code`` and ``successor_code``
name rows of their own table without a foreign key, which SQLite could not drop.

Revision ID: 8e4a1c2d6f10
Revises: 2792352e9d74
Create Date: 2026-12-19 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e4a1c2d6f10"
down_revision: str | None = "2792352e9d74"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MISSION_KINDS = "kind IN ('peacekeeping', 'political', 'support_office', 'other_presence')"
COUNTRY_KINDS = "kind IN ('current', 'historical', 'nationality_status')"
HOSTS_ORDERED = "since IS NULL OR until IS NULL OR until >= since"
NOT_OWN = "predecessor_code IS NULL OR predecessor_code <> code"

SQLITE = (
    "ALTER TABLE countries ADD COLUMN kind VARCHAR(40) NOT NULL DEFAULT 'current'"
    f" CONSTRAINT ck_countries_country_kind CHECK ({COUNTRY_KINDS})",
    "ALTER TABLE countries ADD COLUMN valid_until DATE",
    "ALTER TABLE countries ADD COLUMN successor_code VARCHAR(3)",
    "ALTER TABLE countries ADD COLUMN curated BOOLEAN NOT NULL DEFAULT 0",
    "ALTER TABLE countries ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
    "ALTER TABLE missions ADD COLUMN kind VARCHAR(40) NOT NULL DEFAULT 'peacekeeping'"
    f" CONSTRAINT ck_missions_mission_kind CHECK ({MISSION_KINDS})",
    "ALTER TABLE missions ADD COLUMN predecessor_code VARCHAR(16)"
    f" CONSTRAINT ck_missions_not_own CHECK ({NOT_OWN})",
    "ALTER TABLE missions ADD COLUMN aliases VARCHAR(200) NOT NULL DEFAULT ''",
    "ALTER TABLE missions ADD COLUMN curated BOOLEAN NOT NULL DEFAULT 0",
    "ALTER TABLE missions ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
    # SQLite adds a column only with a constant default; the rows get the time just after.
    "ALTER TABLE missions ADD COLUMN created_at DATETIME NOT NULL DEFAULT '2026-12-15 00:00:00'",
    "ALTER TABLE missions ADD COLUMN updated_at DATETIME NOT NULL DEFAULT '2026-12-15 00:00:00'",
    "UPDATE missions SET created_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP",
    "ALTER TABLE mission_hosts ADD COLUMN since DATE",
    f"ALTER TABLE mission_hosts ADD COLUMN until DATE CONSTRAINT ck_mission_hosts_ordered"
    f" CHECK ({HOSTS_ORDERED})",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)
    else:
        _upgrade_postgresql()
    op.create_table(
        "mission_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mission_code", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["replaced_by_id"], ["users.id"], name=op.f("fk_mission_versions_replaced_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mission_versions")),
    )
    op.create_index(op.f("ix_mission_versions_mission_code"), "mission_versions", ["mission_code"])


def _upgrade_postgresql() -> None:
    now = sa.text("CURRENT_TIMESTAMP")
    op.add_column(
        "countries",
        sa.Column("kind", sa.String(40), nullable=False, server_default="current"),
    )
    op.add_column("countries", sa.Column("valid_until", sa.Date(), nullable=True))
    op.add_column("countries", sa.Column("successor_code", sa.String(3), nullable=True))
    op.add_column(
        "countries", sa.Column("curated", sa.Boolean(), nullable=False, server_default="false")
    )
    op.add_column(
        "countries", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    op.create_check_constraint(op.f("ck_countries_country_kind"), "countries", COUNTRY_KINDS)
    op.add_column(
        "missions",
        sa.Column("kind", sa.String(40), nullable=False, server_default="peacekeeping"),
    )
    op.add_column("missions", sa.Column("predecessor_code", sa.String(16), nullable=True))
    op.add_column(
        "missions", sa.Column("aliases", sa.String(200), nullable=False, server_default="")
    )
    op.add_column(
        "missions", sa.Column("curated", sa.Boolean(), nullable=False, server_default="false")
    )
    op.add_column(
        "missions", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    for name in ("created_at", "updated_at"):
        op.add_column(
            "missions",
            sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=now),
        )
    op.create_check_constraint(op.f("ck_missions_mission_kind"), "missions", MISSION_KINDS)
    op.create_check_constraint(op.f("ck_missions_not_own"), "missions", NOT_OWN)
    op.add_column("mission_hosts", sa.Column("since", sa.Date(), nullable=True))
    op.add_column("mission_hosts", sa.Column("until", sa.Date(), nullable=True))
    op.create_check_constraint(op.f("ck_mission_hosts_ordered"), "mission_hosts", HOSTS_ORDERED)


def downgrade() -> None:
    op.drop_index(op.f("ix_mission_versions_mission_code"), table_name="mission_versions")
    op.drop_table("mission_versions")
    columns = {
        "mission_hosts": ("until", "since"),
        "missions": (
            "updated_at", "created_at", "version", "curated", "aliases", "predecessor_code",
            "kind",
        ),
        "countries": ("version", "curated", "successor_code", "valid_until", "kind"),
    }  # fmt: skip
    # Each column's constraints go with it (SQLite drops a column whose own CHECK it is);
    # no table is rebuilt, which on SQLite would drop tables every incident refers to.
    for table, names in columns.items():
        for name in names:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
