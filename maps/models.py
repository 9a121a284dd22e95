"""Administrative boundaries: the base layer of maps and the source of incidents' areas."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from capdb.db import Base, utcnow
from capdb.vocabularies import Term, Vocabulary

AREA_LEVEL = Vocabulary(
    "area_level",
    "boundary level",
    "niveau administratif",
    Term("admin0", "Country", "Pays"),
    Term("admin1", "First-level administrative area", "Division administrative de premier niveau"),
    Term("admin2", "Second-level administrative area", "Division administrative de second niveau"),
)


class Area(Base):
    """One administrative area, with its exact geometry and lighter ones for display."""

    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(AREA_LEVEL.column_type())
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    country_code: Mapped[str | None] = mapped_column(String(3), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(40))
    # Bounding box, so that point-in-area work starts from a cheap index lookup.
    min_x: Mapped[float]
    min_y: Mapped[float]
    max_x: Mapped[float]
    max_y: Mapped[float]
    # Exact geometry as WKB (EPSG:4326); portable between SQLite and PostgreSQL.
    geometry: Mapped[bytes] = mapped_column(sa.LargeBinary)
    # Simplified GeoJSON geometries for the world, region and local zoom bands.
    display_low: Mapped[str] = mapped_column(Text)
    display_mid: Mapped[str] = mapped_column(Text)
    display_high: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("level", "code", name="uq_areas_level_code"),
        sa.Index("ix_areas_level_bbox", "level", "min_x", "max_x", "min_y", "max_y"),
    )


# Figures kept current: what maps and trends count, summed ahead ----------------------------
#
# Each table below holds sums over the undeleted incidents, split by what the access rule
# needs (the verification status, the mission, and a State the incidents concern, or
# ``EVERYONE``) and by what a figure groups or filters on. :mod:`maps.figure_facts` says
# in SQL what each incident adds to each table, :mod:`maps.figure_upkeep` keeps the sums
# current on every write, and :mod:`maps.figure_reads` answers figures from them. Each
# primary key leads with what every reading names (the State's share, the grain or
# level), then the columns read as ranges.

# The rows that count every incident, rather than one State's share.
EVERYONE = ""


def _scope() -> tuple[Mapped[str], Mapped[str], Mapped[str]]:
    return (
        mapped_column(String(3)),  # a State, or EVERYONE
        mapped_column(String(12)),  # the verification status
        mapped_column(String(20)),  # the mission
    )


# The grains of figure_counts (FigureCount).
BY_COUNTRY, BY_YEAR, BY_MONTH, BY_MONTH_AND_MEANS, BY_MONTH_AND_COUNTRY = 0, 1, 2, 3, 4


class FigureCount(Base):
    """Incidents and fatalities, at five grains: ``0`` by country and justice step;
    ``1`` by year (``month`` is ``YYYY00``) and means of attack; ``2`` by month
    (``YYYYMM``), means, country, outcomes (a bit per outcome a victim had) and step; ``3``
    by month and means, which the time chart reads, and ``4`` by month, country and step,
    which the States and steps under a date filter read (their rows stop growing with the
    incidents once each combination has one, where grain 2's go on filling in theirs). A
    dimension a grain leaves out holds ``0`` or ``''``."""

    __tablename__ = "figure_counts"

    state, status, mission = _scope()
    grain: Mapped[int] = mapped_column(sa.SmallInteger)
    month: Mapped[int]
    means: Mapped[str] = mapped_column(String(40))
    country: Mapped[str] = mapped_column(String(3))
    outcomes: Mapped[int] = mapped_column(sa.SmallInteger)
    step: Mapped[int] = mapped_column(sa.SmallInteger)
    incidents: Mapped[int]
    killed: Mapped[int]

    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "state", "grain", "status", "mission", "month", "means", "country", "outcomes",
            "step",
        ),
    )  # fmt: skip


class FigureVictims(Base):
    """Victims by category, nationality, contributing country (``''`` for none) and
    outcome, in every year (``year`` 0) and in the year of their incident."""

    __tablename__ = "figure_victims"

    state, status, mission = _scope()
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    category: Mapped[str] = mapped_column(String(40))
    nationality: Mapped[str] = mapped_column(String(3))
    contributor: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[str] = mapped_column(String(20))
    victims: Mapped[int]

    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "state", "year", "status", "mission", "category", "nationality", "contributor",
            "outcome",
        ),
    )  # fmt: skip


class FigureCases(Base):
    """Judicial cases of a single undeleted incident, by the incident's country and year
    (``0`` for every year). ``measure`` 0 counts them by the step reached (``value``);
    ``measure`` N counts those that reached step N by bucket of days taken; ``measure``
    N + 10 the same day by day (``value``, the days). A median reads the buckets, then the
    days of the one or two buckets that hold it: a few rows whatever the cases."""

    __tablename__ = "figure_cases"

    state, status, mission = _scope()
    year: Mapped[int] = mapped_column(sa.SmallInteger)
    country: Mapped[str] = mapped_column(String(3))
    measure: Mapped[int] = mapped_column(sa.SmallInteger)
    bucket: Mapped[int]
    value: Mapped[int]
    cases: Mapped[int]

    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "state", "year", "measure", "bucket", "status", "mission", "country", "value"
        ),
    )


class FigureSharedCase(Base):
    """A judicial case that covers several undeleted incidents, and how many: counted case
    by case when a figure needs it (its start and its countries depend on which of its
    incidents the viewer sees), rather than in ``figure_cases``."""

    __tablename__ = "figure_shared_cases"

    case_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    incidents: Mapped[int]


class FigureCell(Base):
    """Located incidents per cell of the map's grid at each level (a cell is 90 / 2^level
    degrees wide) and means of attack. Coordinates are summed in millionths of a degree
    and ids as they are, so that a cell's centre and its only incident read exactly."""

    __tablename__ = "figure_cells"

    state, status, mission = _scope()
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    gx: Mapped[int]
    gy: Mapped[int]
    means: Mapped[str] = mapped_column(String(40))
    incidents: Mapped[int]
    killed: Mapped[int]
    sum_x: Mapped[int] = mapped_column(sa.BigInteger)
    sum_y: Mapped[int] = mapped_column(sa.BigInteger)
    sum_id: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (
        sa.PrimaryKeyConstraint("state", "level", "gx", "gy", "status", "mission", "means"),
    )


class FigureArea(Base):
    """Incidents per country, first- and second-level area (``''`` for none) and means;
    ``unlocated`` those of them without coordinates."""

    __tablename__ = "figure_areas"

    state, status, mission = _scope()
    level: Mapped[str] = mapped_column(String(6))
    code: Mapped[str] = mapped_column(String(40))
    means: Mapped[str] = mapped_column(String(40))
    incidents: Mapped[int]
    killed: Mapped[int]
    unlocated: Mapped[int]

    __table_args__ = (
        sa.PrimaryKeyConstraint("state", "level", "code", "status", "mission", "means"),
    )


class FigureMark(Base):
    """Present when the figure tables hold the sums of every incident: set by a rebuild,
    and by the migration of a database that holds no incident yet. Without it, every
    figure is counted from the incidents themselves."""

    __tablename__ = "figure_marks"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    made_at: Mapped[datetime] = mapped_column(default=utcnow)


class FigureVersion(Base):
    """A version of figures counted outside the tables. ``shared_cases`` is the version of
    the cases that cover several incidents, which every figure of cases counts one by one:
    each change to one of them or to their incidents gives it the next ``serial`` and a new
    random value (random, so that a database restored from a backup never meets a value
    another state of the data had), and notes the cases it changed (:class:`FigureChange`).
    What was counted of them for a version holds while it stands; after it, only the cases
    changed since are counted again (:mod:`maps.shared_cases`)."""

    __tablename__ = "figure_versions"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger)
    serial: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")


# In ``figure_changes``, a change to every shared case (a rebuild of the tables).
EVERY_CASE = 0


class FigureChange(Base):
    """A shared case that the version of this serial and value changed (``EVERY_CASE``:
    all of them); a reader that kept an earlier version finds here what changed since, and
    that its version was one this database had (its serial and value are here)."""

    __tablename__ = "figure_changes"

    serial: Mapped[int] = mapped_column(sa.BigInteger)
    case_id: Mapped[int] = mapped_column()
    version: Mapped[int] = mapped_column(sa.BigInteger)

    __table_args__ = (sa.PrimaryKeyConstraint("serial", "case_id"),)
