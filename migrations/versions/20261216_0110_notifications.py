"""notifications and the language of each user's mail

Revision ID: f18fe0967d30
Revises: 9a8c4f7a5079
Create Date: 2026-12-07 03:45:25.288903
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f18fe0967d30"
down_revision: str | None = "9a8c4f7a5079"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KNOWN_KIND = (
    "kind IN ('incident_submitted', 'incident_validated', 'incident_returned', "
    "'stage_changed', 'update_pending', 'update_validated', 'update_rejected', "
    "'clarification_requested', 'clarification_answered')"
)


def upgrade() -> None:
    op.create_table(
        "notification_defaults",
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "delivery IN ('immediate', 'daily', 'weekly', 'never')",
            name=op.f("ck_notification_defaults_known_delivery"),
        ),
        sa.CheckConstraint(
            KNOWN_KIND,
            name=op.f("ck_notification_defaults_known_kind"),
        ),
        sa.PrimaryKeyConstraint("role", "kind", name=op.f("pk_notification_defaults")),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "delivery IN ('immediate', 'daily', 'weekly', 'never')",
            name=op.f("ck_notification_preferences_known_delivery"),
        ),
        sa.CheckConstraint(
            KNOWN_KIND,
            name=op.f("ck_notification_preferences_known_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("mission_code", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "delivery IN ('immediate', 'daily', 'weekly', 'never')",
            name=op.f("ck_notifications_known_delivery"),
        ),
        sa.CheckConstraint(
            KNOWN_KIND,
            name=op.f("ck_notifications_known_kind"),
        ),
        sa.CheckConstraint(
            "(incident_id IS NULL) <> (case_id IS NULL)", name=op.f("ck_notifications_one_subject")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["judicial_cases.id"], name=op.f("fk_notifications_case_id_judicial_cases")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_notifications_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_notifications_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            "ix_notifications_to_mail",
            ["delivery", "id"],
            unique=False,
            postgresql_where=sa.text("mailed_at IS NULL"),
            sqlite_where=sa.text("mailed_at IS NULL"),
        )
        batch_op.create_index("ix_notifications_user_id_id", ["user_id", "id"], unique=False)

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locale")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_id_id")
        batch_op.drop_index(
            "ix_notifications_to_mail",
            postgresql_where=sa.text("mailed_at IS NULL"),
            sqlite_where=sa.text("mailed_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_notifications_incident_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_case_id"))

    op.drop_table("notifications")
    op.drop_table("notification_preferences")
    op.drop_table("notification_defaults")
