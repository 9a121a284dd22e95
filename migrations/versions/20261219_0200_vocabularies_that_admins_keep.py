"""vocabularies that admins keep

The terms of the vocabularies admins keep (means of attack, contexts, perpetrator types,
personnel categories, outcomes, jurisdictions, stages) move into ``vocabulary_terms``, which
``db upgrade`` fills with the shipped ones; their columns lose the CHECK constraint that
held them to the shipped codes, so that admins add terms without a release.

On SQLite a CHECK constraint goes with a rebuild of its table: Alembic's batch mode copies
the table without it and puts the copy in its place, with the table's indexes. The triggers
(the search index's) are set aside meanwhile and created again from their own definitions:
those of a table go with it, and SQLite refuses to rename a copy into place while a trigger
names a table that is missing at that moment. Foreign keys are not enforced while
migrations run on SQLite, then checked (``migrations/env.py``): dropping the old table
would otherwise fail, or delete what refers to it.

Revision ID: 2f7d9b3e5a11
Revises: 8e4a1c2d6f10
Create Date: 2026-12-19 02:00:00.000000
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal

import sqlalchemy as sa
from alembic import op

revision: str = "2f7d9b3e5a11"
down_revision: str | None = "8e4a1c2d6f10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGES = (
    "reported", "investigation_opened", "suspect_identified", "warrant_issued", "arrested",
    "charged", "referred_to_court", "trial_opened", "convicted", "acquitted", "sentenced",
    "appeal", "final", "closed_without_action", "suspended", "transferred",
)  # fmt: skip
SHIPPED = {
    "means_of_attack": (
        "ied", "vbied", "suicide_attack", "landmine", "small_arms", "indirect_fire", "rpg",
        "grenade", "bladed_weapon", "arson", "mob_violence", "abduction", "complex_attack",
        "other",
    ),
    "attack_context": (
        "ambush", "convoy", "camp_attack", "patrol", "checkpoint", "escort", "demining",
        "crowd", "criminal", "off_duty", "other",
    ),
    "perpetrator_type": (
        "armed_group", "terrorist_group", "militia", "state_forces", "criminal_group", "mob",
        "individual", "unknown",
    ),
    "personnel_category": (
        "contingent_military", "military_expert", "individual_police", "formed_police_unit",
        "international_civilian", "national_civilian", "un_volunteer", "contractor",
    ),
    "outcome": ("killed", "injured", "abducted", "detained"),
    "judicial_stage": STAGES,
    "jurisdiction": ("ordinary", "military", "special_court", "international"),
}  # fmt: skip
# table: (constraint name, column, vocabulary)
CONSTRAINTS = {
    "incidents": (
        ("ck_incidents_means_of_attack", "means_of_attack", "means_of_attack"),
        ("ck_incidents_attack_context", "attack_context", "attack_context"),
        ("ck_incidents_perpetrator_type", "perpetrator_type", "perpetrator_type"),
    ),
    "victims": (
        ("ck_victims_personnel_category", "category", "personnel_category"),
        ("ck_victims_outcome", "outcome", "outcome"),
    ),
    "judicial_cases": (
        ("ck_judicial_cases_jurisdiction", "jurisdiction", "jurisdiction"),
        ("ck_judicial_cases_judicial_stage", "current_stage", "judicial_stage"),
    ),
    "defendants": (("ck_defendants_judicial_stage", "current_stage", "judicial_stage"),),
    "stage_events": (("ck_stage_events_judicial_stage", "stage", "judicial_stage"),),
}


def upgrade() -> None:
    op.create_table(
        "vocabulary_terms",
        sa.Column("vocabulary", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label_en", sa.String(length=200), nullable=False),
        sa.Column("label_fr", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uniformed", sa.Boolean(), nullable=False),
        sa.Column("curated", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vocabulary", "code", name=op.f("pk_vocabulary_terms")),
    )
    with _triggers_set_aside():
        for table, constraints in CONSTRAINTS.items():
            with op.batch_alter_table(table, recreate=_recreate()) as batch_op:
                for name, _column, _vocabulary in constraints:
                    batch_op.drop_constraint(batch_op.f(name), type_="check")


def downgrade() -> None:
    """Puts the CHECK constraints back; refused while a record holds a code an admin added."""
    bind = op.get_bind()
    for table, constraints in CONSTRAINTS.items():
        for _name, column, vocabulary in constraints:
            shipped = ", ".join(f"'{code}'" for code in SHIPPED[vocabulary])
            added = bind.exec_driver_sql(
                f"SELECT count(*) FROM {table} WHERE {column} NOT IN ({shipped})"  # noqa: S608
            ).scalar()
            if added:
                raise RuntimeError(f"{table}.{column} holds codes that capdb did not ship")
    with _triggers_set_aside():
        for table, constraints in CONSTRAINTS.items():
            with op.batch_alter_table(table, recreate=_recreate()) as batch_op:
                for name, column, vocabulary in constraints:
                    condition = _condition(column, vocabulary)
                    batch_op.create_check_constraint(batch_op.f(name), condition)
    op.drop_table("vocabulary_terms")


def _condition(column: str, vocabulary: str) -> str:
    codes = ", ".join(f"'{code}'" for code in SHIPPED[vocabulary])
    return f"{column} IN ({codes})"


def _recreate() -> Literal["always", "never"]:
    """SQLite cannot drop or add a CHECK constraint: its tables are rebuilt."""
    return "always" if op.get_bind().dialect.name == "sqlite" else "never"


@contextmanager
def _triggers_set_aside() -> Iterator[None]:
    """SQLite: every trigger dropped while tables are rebuilt, then created again as it was."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    triggers = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    ).all()
    for name, _definition in triggers:
        op.execute(f'DROP TRIGGER "{name}"')
    yield
    for _name, definition in triggers:
        op.execute(definition)
