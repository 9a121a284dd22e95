"""Filling the figure tables from every incident at once, in SQL.

The same rule as :mod:`maps.figure_facts`, which keeps the tables current one change at a
time, stated as set operations so that a million incidents take minutes rather than
hours: the incidents' facts go once into a temporary table (a row for everyone and one
per State concerned), each table's finest rows are counted from it, and the coarser rows
(a grid level up, every year, a coarser grain) are summed from the finer rows. The tests
fill the tables both ways after random changes and compare them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.db import Base
from incidents.models import Incident, IncidentState, JudicialCase, Victim, case_incidents
from maps.figure_facts import (
    AREA_LEVELS,
    BUCKET_DAYS,
    DAY_BY_DAY,
    FINEST_LEVEL,
    NONE,
    OUTCOME_BITS,
    REACHED,
    TABLES,
)
from maps.grid import ORIGIN_X, ORIGIN_Y, SPAN, micro
from maps.ladder import COUNTED_CASE, TIMED_STEPS, Step, stage_progress
from maps.models import (
    BY_COUNTRY,
    BY_MONTH,
    BY_MONTH_AND_COUNTRY,
    BY_MONTH_AND_MEANS,
    BY_YEAR,
    EVERYONE,
)

_SHARES = sa.Table(
    "figure_shares",
    sa.MetaData(),
    sa.Column("incident_id", sa.Integer),
    sa.Column("status", sa.String(12)),
    sa.Column("mission", sa.String(20)),
    sa.Column("country", sa.String(3)),
    sa.Column("means", sa.String(40)),
    sa.Column("occurred_on", sa.Date),
    sa.Column("month", sa.Integer),
    sa.Column("year", sa.Integer),
    sa.Column("outcomes", sa.Integer),
    sa.Column("killed", sa.Integer),
    sa.Column("step", sa.Integer),
    sa.Column("x", sa.BigInteger),
    sa.Column("y", sa.BigInteger),
    sa.Column("admin1", sa.String(40)),
    sa.Column("admin2", sa.String(40)),
    sa.Column("state", sa.String(3)),
    prefixes=["TEMPORARY"],
)
# The cases that cover one incident, whose figures are that incident's (written once: the
# planner cannot estimate a grouped count, and at a million incidents a guess of a few
# hundred rows for some hundred thousand made it loop over every incident per case).
_ALONE = sa.Table(
    "figure_alone_cases",
    sa.MetaData(),
    sa.Column("case_id", sa.Integer, primary_key=True),
    prefixes=["TEMPORARY"],
)


def fill(db: Session) -> None:
    """Write what every incident adds into the (empty) figure tables."""
    connection = db.connection()
    _SHARES.create(connection)
    _ALONE.create(connection)
    try:
        _write_shares(connection)
        _fill_counts(connection)
        _fill_victims(connection)
        _fill_cases(connection)
        _fill_shared_cases(connection)
        _fill_cells(connection)
        _fill_areas(connection)
    finally:
        _ALONE.drop(connection)
        _SHARES.drop(connection)


def _table(name: str) -> sa.Table:
    assert name in TABLES  # noqa: S101 (a programming error otherwise)
    return Base.metadata.tables[name]


def _insert(connection: sa.Connection, name: str, rows: sa.Select[Any]) -> None:
    table = _table(name)
    names = [c.name for c in table.primary_key.columns]
    names += [c.name for c in table.columns if not c.primary_key]
    connection.execute(sa.insert(table).from_select(names, rows))


# The incidents' facts ----------------------------------------------------------------------------


def _victim_sums() -> sa.Subquery:
    """Per incident, a bit per outcome its undeleted victims had, and its fatalities."""
    bit = sa.case(*((Victim.outcome == code, b) for code, b in OUTCOME_BITS.items()), else_=0)
    return (
        sa.select(
            Victim.incident_id,
            sa.func.sum(bit.distinct()).label("outcomes"),
            sa.func.sum(sa.case((Victim.outcome == "killed", 1), else_=0)).label("killed"),
        )
        .where(Victim.deleted_at.is_(None))
        .group_by(Victim.incident_id)
        .subquery("victim_sums")
    )


def _steps() -> sa.Subquery:
    """Per incident, the furthest step one of its counted cases reached."""
    progress = stage_progress(sa.select(case_incidents.c.case_id))
    return (
        sa.select(
            case_incidents.c.incident_id,
            sa.func.max(sa.func.coalesce(progress.c.step, int(Step.CASE_OPENED))).label("step"),
        )
        .join(JudicialCase, JudicialCase.id == case_incidents.c.case_id)
        .outerjoin(progress, progress.c.case_id == case_incidents.c.case_id)
        .where(COUNTED_CASE)
        .group_by(case_incidents.c.incident_id)
        .subquery("steps")
    )


def _write_shares(connection: sa.Connection) -> None:
    victims, steps = _victim_sums(), _steps()
    year = sa.cast(sa.extract("year", Incident.occurred_on), sa.Integer)
    month = year * 100 + sa.cast(sa.extract("month", Incident.occurred_on), sa.Integer)
    facts = (
        sa.select(
            Incident.id,
            Incident.status,
            Incident.mission_code,
            Incident.country_code,
            Incident.means_of_attack,
            Incident.occurred_on,
            month,
            year,
            sa.func.coalesce(victims.c.outcomes, 0),
            sa.func.coalesce(victims.c.killed, 0),
            sa.func.coalesce(steps.c.step, 0),
            micro(Incident.longitude),
            micro(Incident.latitude),
            sa.func.coalesce(Incident.admin1_code, NONE),
            sa.func.coalesce(Incident.admin2_code, NONE),
            sa.literal(EVERYONE),
        )
        .outerjoin(victims, victims.c.incident_id == Incident.id)
        .outerjoin(steps, steps.c.incident_id == Incident.id)
        .where(Incident.deleted_at.is_(None))
    )
    names = [c.name for c in _SHARES.columns]
    connection.execute(sa.insert(_SHARES).from_select(names, facts))
    concerned = sa.select(IncidentState.incident_id, IncidentState.state).distinct().subquery()
    everyone = sa.alias(_SHARES, name="everyone")
    per_state = (
        sa.select(*(everyone.c[name] for name in names[:-1]), concerned.c.state)
        .join(concerned, concerned.c.incident_id == everyone.c.incident_id)
        .where(everyone.c.state == EVERYONE)
    )
    connection.execute(sa.insert(_SHARES).from_select(names, per_state))
    _analyse(connection, _SHARES)


def _analyse(connection: sa.Connection, table: sa.Table) -> None:
    if connection.dialect.name == "postgresql":  # a temporary table has no statistics
        connection.execute(sa.text(f"ANALYZE {table.name}"))


def _constant(value: int) -> sa.ColumnElement[int]:
    """A number written into the statement: PostgreSQL matches a grouped expression to
    the selected one only when both hold the same text, not two parameters."""
    return sa.literal_column(str(value), sa.Integer)


def _scope(rows: Any) -> list[Any]:
    return [rows.c.state, rows.c.status, rows.c.mission]


# Counts and victims ------------------------------------------------------------------------------


def _fill_counts(connection: sa.Connection) -> None:
    s = _SHARES
    keys = (s.c.month, s.c.means, s.c.country, s.c.outcomes, s.c.step)
    finest = sa.select(
        s.c.state, sa.literal(BY_MONTH), s.c.status, s.c.mission, *keys,
        sa.func.count(), sa.func.sum(s.c.killed),
    ).group_by(*_scope(s), *keys)  # fmt: skip
    _insert(connection, "figure_counts", finest)
    counts = _table("figure_counts")
    fine = counts.c.grain == BY_MONTH
    by_country = (counts.c.country, counts.c.step)
    _insert(
        connection,
        "figure_counts",
        sa.select(
            counts.c.state, sa.literal(BY_COUNTRY), counts.c.status, counts.c.mission,
            sa.literal(0), sa.literal(NONE), counts.c.country, sa.literal(0), counts.c.step,
            sa.func.sum(counts.c.incidents), sa.func.sum(counts.c.killed),
        ).where(fine).group_by(*_scope(counts), *by_country),
    )  # fmt: skip
    year = counts.c.month // _constant(100) * _constant(100)
    _insert(
        connection,
        "figure_counts",
        sa.select(
            counts.c.state, sa.literal(BY_YEAR), counts.c.status, counts.c.mission, year,
            counts.c.means, sa.literal(NONE), sa.literal(0), sa.literal(0),
            sa.func.sum(counts.c.incidents), sa.func.sum(counts.c.killed),
        ).where(fine).group_by(*_scope(counts), year, counts.c.means),
    )  # fmt: skip
    # Grain 3 keeps the month and means; grain 4 the month, country and step.
    _insert(connection, "figure_counts", by_month(counts, BY_MONTH_AND_MEANS, counts.c.means))
    _insert(
        connection,
        "figure_counts",
        by_month(counts, BY_MONTH_AND_COUNTRY, counts.c.country, counts.c.step),
    )


def by_month(counts: Any, grain: int, *kept: Any) -> sa.Select[Any]:
    """The rows of a grain by month that keeps the ``kept`` columns of grain 2 (the others
    as a grain leaves them out: ``''`` or 0), summed from those of grain 2."""
    names = {column.name for column in kept}
    dimensions = [
        counts.c[name] if name in names else sa.literal(NONE if name in ("means", "country") else 0)
        for name in ("means", "country", "outcomes", "step")
    ]
    return (
        sa.select(
            counts.c.state, sa.literal(grain), counts.c.status, counts.c.mission, counts.c.month,
            *dimensions, sa.func.sum(counts.c.incidents), sa.func.sum(counts.c.killed),
        )
        .where(counts.c.grain == BY_MONTH)
        .group_by(*_scope(counts), counts.c.month, *kept)
    )  # fmt: skip


def _fill_victims(connection: sa.Connection) -> None:
    s = _SHARES
    v = sa.alias(Victim.__table__, name="counted_victims")
    victim = (
        v.c.category,
        v.c.nationality_code,
        sa.func.coalesce(v.c.contributing_country_code, NONE),
        v.c.outcome,
    )
    by_year = (
        sa.select(s.c.state, s.c.year, s.c.status, s.c.mission, *victim, sa.func.count())
        .join(v, v.c.incident_id == s.c.incident_id)
        .where(v.c.deleted_at.is_(None))
        .group_by(*_scope(s), s.c.year, *victim)
    )
    _insert(connection, "figure_victims", by_year)
    kept = _table("figure_victims")
    held = (kept.c.category, kept.c.nationality, kept.c.contributor, kept.c.outcome)
    every_year = (
        sa.select(kept.c.state, sa.literal(0), kept.c.status, kept.c.mission, *held,
                  sa.func.sum(kept.c.victims))
        .group_by(*_scope(kept), *held)
    )  # fmt: skip
    _insert(connection, "figure_victims", every_year)


# Cases -------------------------------------------------------------------------------------------


def _days_between(later: Any, earlier: Any, dialect: str) -> sa.ColumnElement[int]:
    if dialect == "sqlite":
        return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)
    return sa.cast(later - earlier, sa.Integer)


def _cases_covering(how_many: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """Counted cases by the number of undeleted incidents they cover, and that number."""
    return (
        sa.select(case_incidents.c.case_id, sa.func.count().label("incidents"))
        .join(Incident, Incident.id == case_incidents.c.incident_id)
        .join(JudicialCase, JudicialCase.id == case_incidents.c.case_id)
        .where(Incident.deleted_at.is_(None), COUNTED_CASE)
        .group_by(case_incidents.c.case_id)
        .having(how_many)
    )


def _fill_shared_cases(connection: sa.Connection) -> None:
    _insert(connection, "figure_shared_cases", _cases_covering(sa.func.count() > 1))


def _fill_cases(connection: sa.Connection) -> None:
    s = _SHARES
    links = sa.alias(case_incidents, name="links")
    covering_one = _cases_covering(sa.func.count() == 1).with_only_columns(case_incidents.c.case_id)
    connection.execute(sa.insert(_ALONE).from_select(["case_id"], covering_one))
    _analyse(connection, _ALONE)
    alone = _ALONE
    progress = stage_progress(sa.select(alone.c.case_id))
    dialect = connection.dialect.name
    days = {
        int(step): _days_between(progress.c[f"first_{int(step)}"], s.c.occurred_on, dialect)
        for step in TIMED_STEPS
    }
    measures = sa.union_all(
        sa.select(sa.literal(REACHED).label("measure"), sa.literal(0).label("fine")),
        *(
            sa.select(sa.literal(step).label("measure"), sa.literal(fine).label("fine"))
            for step in days
            for fine in (0, 1)
        ),
    ).subquery("measures")
    taken = sa.case(*((measures.c.measure == step, d) for step, d in days.items()), else_=None)
    reached = sa.func.coalesce(progress.c.step, int(Step.CASE_OPENED))
    rows = (
        sa.select(
            s.c.state,
            s.c.year,
            (measures.c.measure + measures.c.fine * DAY_BY_DAY).label("measure"),
            sa.case((measures.c.measure == REACHED, 0), else_=taken // BUCKET_DAYS).label("bucket"),
            s.c.status,
            s.c.mission,
            s.c.country,
            sa.case(
                (measures.c.measure == REACHED, reached), (measures.c.fine == 1, taken), else_=0
            ).label("value"),
        )
        .select_from(alone)
        .join(JudicialCase, JudicialCase.id == alone.c.case_id)
        .join(links, links.c.case_id == alone.c.case_id)
        .join(s, s.c.incident_id == links.c.incident_id)
        .outerjoin(progress, progress.c.case_id == alone.c.case_id)
        .join(measures, sa.true())
        .where(COUNTED_CASE)
        .where(sa.or_(measures.c.measure == REACHED, taken.is_not(None)))
        .subquery("counted")
    )
    keys = [rows.c[name] for name in ("state", "year", "measure", "bucket", "status",
                                      "mission", "country", "value")]  # fmt: skip
    _insert(connection, "figure_cases", sa.select(*keys, sa.func.count()).group_by(*keys))
    kept = _table("figure_cases")
    rest = (kept.c.measure, kept.c.bucket, kept.c.status, kept.c.mission, kept.c.country,
            kept.c.value)  # fmt: skip
    every_year = sa.select(kept.c.state, sa.literal(0), *rest, sa.func.sum(kept.c.cases))
    _insert(connection, "figure_cases", every_year.group_by(kept.c.state, *rest))


# Places ------------------------------------------------------------------------------------------


def _fill_cells(connection: sa.Connection) -> None:
    s = _SHARES
    gx = ((s.c.x + ORIGIN_X) * (1 << FINEST_LEVEL) // SPAN).label("gx")
    gy = ((s.c.y + ORIGIN_Y) * (1 << FINEST_LEVEL) // SPAN).label("gy")
    located = sa.select(*_scope(s), gx, gy, s.c.means, s.c.killed, s.c.x, s.c.y, s.c.incident_id)
    located_rows = located.where(s.c.x.is_not(None)).subquery("located")
    r = located_rows
    keys = (r.c.gx, r.c.gy)
    finest = sa.select(
        r.c.state, sa.literal(FINEST_LEVEL), *keys, r.c.status, r.c.mission, r.c.means,
        sa.func.count(), sa.func.sum(r.c.killed), sa.func.sum(r.c.x), sa.func.sum(r.c.y),
        sa.func.sum(r.c.incident_id),
    ).group_by(*_scope(r), *keys, r.c.means)  # fmt: skip
    _insert(connection, "figure_cells", finest)
    cells = _table("figure_cells")
    for level in range(FINEST_LEVEL - 1, -1, -1):
        x, y = cells.c.gx // _constant(2), cells.c.gy // _constant(2)
        coarser = (
            sa.select(
                cells.c.state, sa.literal(level), x, y, cells.c.status, cells.c.mission,
                cells.c.means, sa.func.sum(cells.c.incidents), sa.func.sum(cells.c.killed),
                sa.func.sum(cells.c.sum_x), sa.func.sum(cells.c.sum_y),
                sa.func.sum(cells.c.sum_id),
            )
            .where(cells.c.level == level + 1)
            .group_by(*_scope(cells), x, y, cells.c.means)
        )  # fmt: skip
        _insert(connection, "figure_cells", coarser)


def _fill_areas(connection: sa.Connection) -> None:
    s = _SHARES
    unlocated = sa.func.sum(sa.case((s.c.y.is_(None), 1), else_=0))
    for level, code in zip(AREA_LEVELS, (s.c.country, s.c.admin1, s.c.admin2), strict=True):
        rows = sa.select(
            s.c.state, sa.literal(level), code, s.c.status, s.c.mission, s.c.means,
            sa.func.count(), sa.func.sum(s.c.killed), unlocated,
        ).group_by(*_scope(s), code, s.c.means)  # fmt: skip
        _insert(connection, "figure_areas", rows)
