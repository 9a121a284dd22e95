"""incident states: which States each incident concerns, and why

Revision ID: 9d9355752397
Revises: 5b2f0c8e91d3
Create Date: 2026-12-14 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d9355752397"
down_revision: str | None = "5b2f0c8e91d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The rule as it stands at this revision (incidents.concerned states it for the code);
# written out here so that the migration does not change when the code does.
FILL = """
INSERT INTO incident_states (incident_id, state, reason)
SELECT id, country_code, 'place' FROM incidents
UNION
SELECT incidents.id, mission_hosts.country_code, 'host'
  FROM incidents JOIN mission_hosts ON mission_hosts.mission_code = incidents.mission_code
UNION
SELECT incident_id, nationality_code, 'nationality' FROM victims WHERE deleted_at IS NULL
UNION
SELECT incident_id, contributing_country_code, 'contributor' FROM victims
 WHERE deleted_at IS NULL AND contributing_country_code IS NOT NULL
"""


def upgrade() -> None:
    op.create_table(
        "incident_states",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=11), nullable=False),
        sa.CheckConstraint(
            "reason IN ('host', 'place', 'contributor', 'nationality')",
            name=op.f("ck_incident_states_known_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_states_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "state", "reason", name=op.f("pk_incident_states")),
    )
    with op.batch_alter_table("incident_states", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_states_state_incident", ["state", "incident_id"], unique=False
        )
    op.execute(FILL)


def downgrade() -> None:
    with op.batch_alter_table("incident_states", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_states_state_incident")
    op.drop_table("incident_states")
