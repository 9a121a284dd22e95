"""incident and case states: which States each incident and case concerns, and why

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
INSERT INTO incident_states
    (incident_id, state, occurred_on, host, place, contributor, nationality)
SELECT reasons.incident_id, reasons.state, incidents.occurred_on,
       max(reasons.host) = 1, max(reasons.place) = 1,
       max(reasons.contributor) = 1, max(reasons.nationality) = 1
  FROM (
    SELECT id AS incident_id, country_code AS state,
           0 AS host, 1 AS place, 0 AS contributor, 0 AS nationality
      FROM incidents
    UNION ALL
    SELECT incidents.id, mission_hosts.country_code, 1, 0, 0, 0
      FROM incidents JOIN mission_hosts ON mission_hosts.mission_code = incidents.mission_code
    UNION ALL
    SELECT incident_id, nationality_code, 0, 0, 0, 1 FROM victims WHERE deleted_at IS NULL
    UNION ALL
    SELECT incident_id, contributing_country_code, 0, 0, 1, 0 FROM victims
     WHERE deleted_at IS NULL AND contributing_country_code IS NOT NULL
  ) AS reasons
  JOIN incidents ON incidents.id = reasons.incident_id
 GROUP BY reasons.incident_id, reasons.state, incidents.occurred_on
"""


FILL_CASES = """
INSERT INTO case_states (case_id, state, prosecutor, through_incident)
SELECT reasons.case_id, reasons.state,
       max(reasons.prosecutor) = 1, max(reasons.through_incident) = 1
  FROM (
    SELECT id AS case_id, prosecuting_state_code AS state,
           1 AS prosecutor, 0 AS through_incident
      FROM judicial_cases
    UNION ALL
    SELECT case_incidents.case_id, incident_states.state, 0, 1
      FROM incidents
      JOIN case_incidents ON case_incidents.incident_id = incidents.id
      JOIN incident_states ON incident_states.incident_id = incidents.id
     WHERE incidents.status = 'validated' AND incidents.deleted_at IS NULL
  ) AS reasons
 GROUP BY reasons.case_id, reasons.state
"""


def upgrade() -> None:
    # A mission's incidents newest first, in the list's order (date, then id): read as one
    # index range, however many newer incidents other missions have.
    op.drop_index("ix_incidents_mission_occurred_on", table_name="incidents")
    op.create_index(
        "ix_incidents_mission_occurred_on", "incidents", ["mission_code", "occurred_on", "id"]
    )
    op.create_table(
        "incident_states",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("host", sa.Boolean(), nullable=False),
        sa.Column("place", sa.Boolean(), nullable=False),
        sa.Column("contributor", sa.Boolean(), nullable=False),
        sa.Column("nationality", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "host OR place OR contributor OR nationality",
            name=op.f("ck_incident_states_some_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_incident_states_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "state", name=op.f("pk_incident_states")),
    )
    with op.batch_alter_table("incident_states", schema=None) as batch_op:
        batch_op.create_index(
            "ix_incident_states_state_date", ["state", "occurred_on", "incident_id"], unique=False
        )
    op.execute(FILL)
    op.create_table(
        "case_states",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=3), nullable=False),
        sa.Column("prosecutor", sa.Boolean(), nullable=False),
        sa.Column("through_incident", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "prosecutor OR through_incident", name=op.f("ck_case_states_some_reason")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["judicial_cases.id"],
            name=op.f("fk_case_states_case_id_judicial_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "state", name=op.f("pk_case_states")),
    )
    with op.batch_alter_table("case_states", schema=None) as batch_op:
        batch_op.create_index("ix_case_states_state_case", ["state", "case_id"], unique=False)
    op.execute(FILL_CASES)


def downgrade() -> None:
    op.drop_index("ix_incidents_mission_occurred_on", table_name="incidents")
    op.create_index(
        "ix_incidents_mission_occurred_on", "incidents", ["mission_code", "occurred_on"]
    )
    with op.batch_alter_table("case_states", schema=None) as batch_op:
        batch_op.drop_index("ix_case_states_state_case")
    op.drop_table("case_states")
    with op.batch_alter_table("incident_states", schema=None) as batch_op:
        batch_op.drop_index("ix_incident_states_state_date")
    op.drop_table("incident_states")
