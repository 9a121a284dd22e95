"""audit chain linked after commit

Audit entries are written during a request without a place in the chain, and linked into
it (position, prev_hash, hash) in a short transaction after the request commits. The
append-only triggers now allow exactly that one change: an unlinked entry becoming the
next link at the tail of the chain, its content untouched.

Revision ID: 5d2b8c41e7a9
Revises: 9c3e1d2a7b40
Create Date: 2026-12-07 01:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2b8c41e7a9"
down_revision: str | None = "9c3e1d2a7b40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
REFUSAL = "the audit trail is append-only"
LINKED_WHOLE = (
    "(position IS NULL AND prev_hash IS NULL AND hash IS NULL)"
    " OR (position IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL)"
)
UNCHANGED_COLUMNS = (
    "id",
    "occurred_at",
    "user_id",
    "actor",
    "action",
    "target_type",
    "target_id",
    "remote_addr",
    "detail",
)

# PostgreSQL: only the linking of an unlinked entry, at the tail, passes. The content is
# compared as JSON without the chain columns (the json type has no equality of its own).
# Built from this module's constants only.
POSTGRESQL_LINK_ONCE = f"""
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE'
     AND OLD.position IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
     AND NEW.position IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
     AND to_jsonb(NEW) - 'position' - 'prev_hash' - 'hash'
         = to_jsonb(OLD) - 'position' - 'prev_hash' - 'hash'
     AND NEW.position = COALESCE((SELECT max(position) FROM audit_events), 0) + 1
     AND NEW.prev_hash = COALESCE(
         (SELECT hash FROM audit_events WHERE position = NEW.position - 1), '{GENESIS}')
  THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '{REFUSAL}';
END $$
"""  # noqa: S608
POSTGRESQL_REFUSE_ALL = (
    "CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
)

_SQLITE_SAME = " AND ".join(f"NEW.{name} IS OLD.{name}" for name in UNCHANGED_COLUMNS)
SQLITE_LINK_ONCE = f"""
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (
  OLD.position IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
  AND NEW.position IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
  AND {_SQLITE_SAME}
  AND NEW.position = COALESCE((SELECT max(position) FROM audit_events), 0) + 1
  AND NEW.prev_hash = COALESCE(
      (SELECT hash FROM audit_events WHERE position = NEW.position - 1), '{GENESIS}')
)
BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END
"""  # noqa: S608
SQLITE_REFUSE_ALL = {
    "audit_events_no_update": "BEFORE UPDATE",
    "audit_events_no_delete": "BEFORE DELETE",
}


def _sqlite_refuse_all(name: str) -> str:
    return (
        f"CREATE TRIGGER {name} {SQLITE_REFUSE_ALL[name]} ON audit_events "
        f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # The batch copy below recreates the table, which drops its triggers anyway.
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.BigInteger(), nullable=True))
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=True)
    # The entries so far were chained in id order: that order becomes their position.
    op.execute(
        "UPDATE audit_events SET position = numbered.position FROM ("
        " SELECT id, row_number() OVER (ORDER BY id) AS position FROM audit_events"
        ") AS numbered WHERE audit_events.id = numbered.id"
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_position"), ["position"])
        batch_op.create_check_constraint(op.f("ck_audit_events_linked_whole"), LINKED_WHOLE)
    op.create_index(
        "ix_audit_events_unlinked",
        "audit_events",
        ["id"],
        postgresql_where=sa.text("position IS NULL"),
        sqlite_where=sa.text("position IS NULL"),
    )
    if sqlite:
        op.execute(SQLITE_LINK_ONCE)
        op.execute(_sqlite_refuse_all("audit_events_no_delete"))
    else:
        op.execute(POSTGRESQL_LINK_ONCE)
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # Unlinked entries cannot be put back into a chain ordered by id without rewriting
    # linked ones: run `flask --app wsgi audit link` first; this refuses otherwise.
    unlinked = op.get_bind().scalar(
        sa.text("SELECT count(*) FROM audit_events WHERE position IS NULL")
    )
    if unlinked:
        raise RuntimeError(f"{unlinked} audit entries are not linked: run `audit link` first")
    # The chain before this revision is read in id order; it holds only if linking kept it.
    out_of_order = op.get_bind().scalar(
        sa.text(
            "SELECT count(*) FROM (SELECT position, lag(position) OVER (ORDER BY id) AS before"
            " FROM audit_events) AS steps WHERE steps.before > steps.position"
        )
    )
    if out_of_order:
        raise RuntimeError("audit entries were linked out of id order: the chain cannot go back")
    if sqlite:
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute("DROP TRIGGER audit_events_no_delete")
    op.drop_index("ix_audit_events_unlinked", table_name="audit_events")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_audit_events_linked_whole"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_audit_events_position"), type_="unique")
        batch_op.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("position")
    if sqlite:
        op.execute(_sqlite_refuse_all("audit_events_no_update"))
        op.execute(_sqlite_refuse_all("audit_events_no_delete"))
    else:
        op.execute(POSTGRESQL_REFUSE_ALL)
