"""vocabularies that admins keep

The terms of the vocabularies admins keep (means of attack, contexts, perpetrator types,
personnel categories, outcomes, jurisdictions, stages) move into ``vocabulary_terms``, which
``db upgrade`` fills with the shipped ones; their columns lose the CHECK constraint that
held them to the shipped codes, so that admins add terms without a release.

On SQLite a CHECK constraint goes by rewriting the table's definition in ``sqlite_schema``
(``PRAGMA writable_schema``), as SQLite documents for removing a CHECK constraint, which
changes nothing on disk: rebuilding the incident tables would drop tables others refer to.

Revision ID: 2f7d9b3e5a11
Revises: 8e4a1c2d6f10
Create Date: 2026-12-15 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

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
    if op.get_bind().dialect.name == "sqlite":
        _rewrite_sqlite_tables(_without)
        return
    for table, constraints in CONSTRAINTS.items():
        for name, _column, _vocabulary in constraints:
            op.drop_constraint(op.f(name), table, type_="check")


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
    if bind.dialect.name == "sqlite":
        _rewrite_sqlite_tables(_with)
    else:
        for table, constraints in CONSTRAINTS.items():
            for name, column, vocabulary in constraints:
                op.create_check_constraint(op.f(name), table, _condition(column, vocabulary))
    op.drop_table("vocabulary_terms")


def _condition(column: str, vocabulary: str) -> str:
    codes = ", ".join(f"'{code}'" for code in SHIPPED[vocabulary])
    return f"{column} IN ({codes})"


def _without(sql: str, table: str) -> str:
    for name, _column, _vocabulary in CONSTRAINTS[table]:
        start = sql.index(f"CONSTRAINT {name} CHECK")
        depth, end = 0, len(sql)
        for position in range(sql.index("(", start), len(sql)):
            depth += {"(": 1, ")": -1}.get(sql[position], 0)
            if depth == 0:
                end = position
                break
        before = sql[:start].rstrip()
        sql = before.removesuffix(",") + sql[end + 1 :]
    return sql


def _with(sql: str, table: str) -> str:
    checks = "".join(
        f", CONSTRAINT {name} CHECK ({_condition(column, vocabulary)})"
        for name, column, vocabulary in CONSTRAINTS[table]
    )
    end = sql.rstrip().rindex(")")
    return sql[:end].rstrip() + checks + "\n)"


def _rewrite_sqlite_tables(rewrite: object) -> None:
    """Change the tables' definitions in place (constraints only: nothing on disk moves)."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar() or 0
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    for table in CONSTRAINTS:
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).scalar()
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
            (rewrite(sql, table), table),  # type: ignore[operator]
        )
    bind.exec_driver_sql(f"PRAGMA schema_version={version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")
