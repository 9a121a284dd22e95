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
    # readers, as they were written...
    op.execute(
        "UPDATE comments SET thread_state_code = (SELECT users.state_code FROM users"
        " WHERE users.id = comments.author_id AND users.role = 'member_state')"
    )
    # ...but for its answers to a State's requests for clarification, which join the thread
    # of the request they answered, as the mission's answers do from now on.
    _answers_join_the_thread_they_answered(op.get_bind())


COMMENTS = sa.table(
    "comments", sa.column("id", sa.Integer), sa.column("thread_state_code", sa.String)
)
AUDIT_EVENTS = sa.table(
    "audit_events",
    sa.column("action", sa.String),
    sa.column("target_type", sa.String),
    sa.column("target_id", sa.String),
    sa.column("detail", sa.JSON),
)


def _answers(connection: sa.Connection) -> list[dict[str, int]]:
    """Each answer and the request it answered: the only record of the pair is the answer's
    audit entry (``answers``: the request's id), written since answers exist."""
    entries = connection.execute(
        sa.select(AUDIT_EVENTS.c.target_id, AUDIT_EVENTS.c.detail).where(
            AUDIT_EVENTS.c.action == "create", AUDIT_EVENTS.c.target_type == "comments"
        )
    )
    pairs = []
    for target_id, detail in entries:
        request_id = detail.get("answers") if isinstance(detail, dict) else None
        if isinstance(request_id, int) and target_id is not None and target_id.isdigit():
            pairs.append({"answer_id": int(target_id), "request_id": request_id})
    return pairs


def _answers_join_the_thread_they_answered(connection: sa.Connection) -> None:
    pairs = _answers(connection)
    if not pairs:
        return
    request = COMMENTS.alias("request")
    thread_of_request = (
        sa.select(request.c.thread_state_code)
        .where(request.c.id == sa.bindparam("request_id"))
        .scalar_subquery()
    )
    connection.execute(
        COMMENTS.update()
        .where(
            COMMENTS.c.id == sa.bindparam("answer_id"),
            COMMENTS.c.thread_state_code.is_(None),
        )
        .values(thread_state_code=thread_of_request),
        pairs,
    )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_comments_thread_state_code_countries"), type_="foreignkey"
        )
        batch_op.drop_column("thread_state_code")
