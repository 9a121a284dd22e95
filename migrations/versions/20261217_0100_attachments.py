"""attachments on incidents, cases and stage events, and their files

Revision ID: 80182952a60c
Revises: bcd9da0c9a73
Create Date: 2026-12-07 04:10:06.817942
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "80182952a60c"
down_revision: str | None = "bcd9da0c9a73"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("stage_event_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "report",
                "judgment",
                "photo",
                "other",
                name="attachment_kind",
                native_enum=False,
                create_constraint=True,
                length=40,
            ),
            nullable=False,
        ),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN incident_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN case_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN stage_event_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_attachments_one_subject"),
        ),
        sa.CheckConstraint("revision > 0", name=op.f("ck_attachments_revision_positive")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["judicial_cases.id"], name=op.f("fk_attachments_case_id_judicial_cases")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_attachments_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by_id"], ["users.id"], name=op.f("fk_attachments_deleted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name=op.f("fk_attachments_incident_id_incidents")
        ),
        sa.ForeignKeyConstraint(
            ["stage_event_id"],
            ["stage_events.id"],
            name=op.f("fk_attachments_stage_event_id_stage_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_attachments_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attachments_stage_event_id"), ["stage_event_id"], unique=False
        )

    op.create_table(
        "attachment_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("metadata_kept", sa.Boolean(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("text_state", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "text_state IN ('pending', 'done', 'none', 'failed')",
            name=op.f("ck_attachment_files_known_text_state"),
        ),
        sa.CheckConstraint("number > 0", name=op.f("ck_attachment_files_number_positive")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_attachment_files_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_attachment_files_attachment_id_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_attachment_files_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_files")),
        sa.UniqueConstraint("attachment_id", "number", name="uq_attachment_files_number"),
    )
    with op.batch_alter_table("attachment_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachment_files_attachment_id"), ["attachment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attachment_files_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachment_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_files_sha256"))
        batch_op.drop_index(batch_op.f("ix_attachment_files_attachment_id"))

    op.drop_table("attachment_files")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_stage_event_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_incident_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_case_id"))

    op.drop_table("attachments")
