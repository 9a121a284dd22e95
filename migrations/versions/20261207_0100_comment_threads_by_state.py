"""comment threads by State

Revision ID: 9c3e1d2a7b40
Revises: 4613f1757e36
Create Date: 2026-12-07 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9c3e1d2a7b40"
down_revision: str | None = "4613f1757e36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("thread_state_code", sa.String(length=3), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_comments_thread_state_code_countries"),
            "countries",
            ["thread_state_code"],
            ["code"],
        )
    # A focal point's comments were always its State's; the mission's stay open to all
    # readers, as they were written.
    op.execute(
        "UPDATE comments SET thread_state_code = (SELECT users.state_code FROM users"
        " WHERE users.id = comments.author_id AND users.role = 'member_state')"
    )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_comments_thread_state_code_countries"), type_="foreignkey"
        )
        batch_op.drop_column("thread_state_code")
