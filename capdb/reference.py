"""Reference data: the countries and the UN operations, and their idempotent loading.

Both are seeded from the data capdb ships (:mod:`capdb.reference_data`) and then kept by
admins in the application. A row an admin changed is ``curated``: loading the data again
(every ``db upgrade``) leaves it as the admin left it, and a mission an admin deleted is not
brought back. Every change of a mission keeps its previous state in ``mission_versions``.

A mission's host countries change through :func:`set_mission_hosts` only, whoever changes
them (the loader, the admin pages, the API, the command line).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from capdb.db import Base, utcnow
from capdb.reference_data import CountryRow, MissionRow, country_rows, mission_rows
from capdb.vocabularies import COUNTRY_KIND, MISSION_KIND
from capdb.vocabulary_terms import load_vocabularies


class Country(Base):
    __tablename__ = "countries"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(COUNTRY_KIND.column_type(), default="current")
    # A former State: the day it ceased, and the State today that figures count it under
    # (a code of this table, kept by the loader; no foreign key, so that the column can be
    # dropped again on SQLite without rebuilding the table every record refers to).
    valid_until: Mapped[date | None]
    successor_code: Mapped[str | None] = mapped_column(String(3))
    # Changed by an admin: loading the shipped data leaves it alone.
    curated: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(sa.Integer)

    __table_args__ = (sa.CheckConstraint("length(code) = 3", name="code_alpha3"),)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    def name(self, locale: str) -> str:
        return self.name_fr if locale.startswith("fr") else self.name_en

    @property
    def is_state(self) -> bool:
        """A place or a State (today's or a former one), not a nationality status."""
        return self.kind != "nationality_status"

    def __repr__(self) -> str:
        return f"<Country {self.code}>"


class MissionHost(Base):
    """A country hosting a mission, from ``since`` until ``until`` (open when None: for
    the whole of the mission's period)."""

    __tablename__ = "mission_hosts"

    mission_code: Mapped[str] = mapped_column(
        ForeignKey("missions.code", ondelete="CASCADE"), primary_key=True
    )
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), primary_key=True)
    since: Mapped[date | None]
    until: Mapped[date | None]

    country: Mapped[Country] = relationship(lazy="joined")

    __table_args__ = (
        sa.CheckConstraint("since IS NULL OR until IS NULL OR until >= since", name="ordered"),
    )


# The table as the access rule and the maps read it.
mission_hosts = cast(sa.Table, MissionHost.__table__)

# A mission's acronym: capitals and digits, words separated by a space or a hyphen.
ACRONYM = re.compile(r"[A-Z][A-Z0-9]*(?:[ -][A-Z0-9]+)*")
ACRONYM_MAX = 16
NAME_MAX = 200
ALIASES_MAX = 200


class Mission(Base):
    __tablename__ = "missions"

    code: Mapped[str] = mapped_column(String(ACRONYM_MAX), primary_key=True)
    kind: Mapped[str] = mapped_column(MISSION_KIND.column_type(), default="peacekeeping")
    name_en: Mapped[str] = mapped_column(String(NAME_MAX))
    name_fr: Mapped[str] = mapped_column(String(NAME_MAX))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    # The mission it followed: a code of this table, checked by the service that changes
    # missions (no foreign key, for the reason given for countries.successor_code).
    predecessor_code: Mapped[str | None] = mapped_column(String(ACRONYM_MAX))
    # Other acronyms the UN's data names the mission by, space-separated words joined by
    # commas ("UNEF" for both emergency forces).
    aliases: Mapped[str] = mapped_column(String(ALIASES_MAX), default="")
    curated: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    host_periods: Mapped[list[MissionHost]] = relationship(
        order_by=MissionHost.country_code, cascade="all, delete-orphan", lazy="selectin"
    )
    # Every country that hosts or hosted it; changed through set_mission_hosts only.
    hosts: Mapped[list[Country]] = relationship(
        secondary=mission_hosts, order_by=Country.code, lazy="selectin", viewonly=True
    )

    __table_args__ = (
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_ordered"),
        sa.CheckConstraint("predecessor_code IS NULL OR predecessor_code <> code", name="not_own"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    @property
    def is_closed(self) -> bool:
        return self.ended_on is not None and self.ended_on <= date.today()

    @property
    def alias_list(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.aliases.split(",") if a.strip())

    def operated_on(self, day: date) -> bool:
        return self.started_on <= day and (self.ended_on is None or day <= self.ended_on)

    def name(self, locale: str) -> str:
        return self.name_fr if locale.startswith("fr") else self.name_en

    def __repr__(self) -> str:
        return f"<Mission {self.code}>"


class MissionVersion(Base):
    """The state a mission had before one of its changes (or its deletion)."""

    __tablename__ = "mission_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_code: Mapped[str] = mapped_column(String(ACRONYM_MAX), index=True)
    version: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
    # None: the data capdb ships, loaded by ``db upgrade``.
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


# What a country code may name where a record takes one: where something happened or who
# contributed a unit (today's States and former ones), a State that acts today (prosecutes,
# receives assistance, hosts a mission, has focal points), and a person's nationality
# (which may also be undetermined or none).
PLACES = frozenset({"current", "historical"})
STATES = frozenset({"current"})
NATIONALITIES = frozenset({"current", "historical", "nationality_status"})


def successors(db: Session) -> dict[str, str]:
    """Each former State (Yugoslavia, Zaire...) and the State today that continues it."""
    rows = db.execute(
        select(Country.code, Country.successor_code).where(Country.successor_code.is_not(None))
    )
    return {code: successor for code, successor in rows if successor}


def countries_of(db: Session, kinds: frozenset[str]) -> list[Country]:
    """The countries of these kinds, by code."""
    statement = select(Country).where(Country.kind.in_(sorted(kinds))).order_by(Country.code)
    return list(db.scalars(statement))


# Host countries ----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class HostPeriod:
    country: str
    since: date | None = None
    until: date | None = None

    def as_json(self) -> dict[str, str | None]:
        return {
            "country": self.country,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }


def host_periods(mission: Mission) -> list[HostPeriod]:
    return sorted(HostPeriod(h.country_code, h.since, h.until) for h in mission.host_periods)


def set_mission_hosts(db: Session, mission: Mission, hosts: Iterable[HostPeriod]) -> bool:
    """Give the mission these host countries: the one way they ever change. Whether they
    changed; a change makes a new version of the mission.

    The States its incidents concern and the figures kept for them follow in the same
    flush, by the session hooks that keep them (``incidents.concerned_hook``,
    ``maps.figure_upkeep``), which see the mission's ``host_periods`` change."""
    before = host_periods(mission)
    after = sorted(set(hosts))
    if before == after:
        return False
    mission.host_periods = [
        MissionHost(country_code=h.country, since=h.since, until=h.until) for h in after
    ]
    if sa.inspect(mission).persistent:
        mission.updated_at = utcnow()
    db.flush()
    db.expire(mission, ["hosts"])
    return True


# Versions -----------------------------------------------------------------------------------


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime) else value


def mission_snapshot(mission: Mission) -> dict[str, Any]:
    """The mission as stored: its columns and its host countries."""
    columns = sa.inspect(Mission).column_attrs
    data = {a.key: _json(getattr(mission, a.key)) for a in columns}
    data["hosts"] = [h.as_json() for h in host_periods(mission)]
    return data


def keep_mission_version(db: Session, mission: Mission, by_id: int | None) -> None:
    """Keep the mission's current state before it is changed or deleted."""
    db.add(
        MissionVersion(
            mission_code=mission.code,
            version=mission.version,
            data=mission_snapshot(mission),
            replaced_by_id=by_id,
        )
    )


# Loading the shipped data -------------------------------------------------------------------


@dataclass(frozen=True)
class LoadReport:
    added: int
    updated: int

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated"


def load_reference(db: Session) -> LoadReport:
    """Insert or update the countries, missions and vocabularies' terms; running it twice
    changes nothing. What an admin changed (``curated``) or deleted stays as the admin left
    it. (A changed shipped term counts as added.)"""
    countries = _load_countries(db)
    missions = _load_missions(db)
    terms = load_vocabularies(db)
    return LoadReport(
        countries.added + missions.added + terms, countries.updated + missions.updated
    )


def _country_values(row: CountryRow) -> dict[str, Any]:
    return {
        "name_en": row.name_en,
        "name_fr": row.name_fr,
        "kind": row.kind,
        "valid_until": row.valid_until,
        "successor_code": row.successor,
    }


def _load_countries(db: Session) -> LoadReport:
    countries = {c.code: c for c in db.scalars(select(Country))}
    rows = country_rows()
    new = [row for row in rows if row.code not in countries]
    for row in new:
        values = _country_values(row) | {"successor_code": None}
        countries[row.code] = Country(code=row.code, **values)
        db.add(countries[row.code])
    db.flush()
    # Successors second: a former State may sort before the State that continues it.
    updated = 0
    for row in rows:
        country = countries[row.code]
        values = _country_values(row)
        if not country.curated and _differs(country, values):
            for key, value in values.items():
                setattr(country, key, value)
            updated += int(row not in new)
    db.flush()
    return LoadReport(len(new), updated)


def _differs(record: object, values: dict[str, Any]) -> bool:
    return any(getattr(record, key) != value for key, value in values.items())


def _mission_values(row: MissionRow, known: set[str]) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "name_en": row.name_en,
        "name_fr": row.name_fr,
        "started_on": row.started_on,
        "ended_on": row.ended_on,
        "predecessor_code": row.predecessor if row.predecessor in known else None,
        "aliases": ", ".join(row.aliases),
    }


def _host_periods(row: MissionRow) -> list[HostPeriod]:
    return [HostPeriod(h.country, h.since, h.until) for h in row.hosts]


def _load_missions(db: Session) -> LoadReport:
    added = updated = 0
    missions = {m.code: m for m in db.scalars(select(Mission))}
    ever_changed = set(db.scalars(select(MissionVersion.mission_code).distinct()))
    # Predecessors first, so that each names a mission already there.
    rows = sorted(mission_rows(), key=lambda row: (row.started_on, row.code))
    for row in rows:
        if row.code not in missions and row.code not in ever_changed:
            values = _mission_values(row, set(missions))
            missions[row.code] = mission = Mission(code=row.code, **values)
            db.add(mission)
            set_mission_hosts(db, mission, _host_periods(row))
            added += 1
            continue
        mission_or_none = missions.get(row.code)
        if mission_or_none is None or mission_or_none.curated:
            continue
        if _refresh(db, mission_or_none, row, set(missions)):
            updated += 1
    db.flush()
    return LoadReport(added, updated)


def _refresh(db: Session, mission: Mission, row: MissionRow, known: set[str]) -> bool:
    values = _mission_values(row, known)
    hosts = sorted(set(_host_periods(row)))
    if not _differs(mission, values) and host_periods(mission) == hosts:
        return False
    keep_mission_version(db, mission, None)
    for key, value in values.items():
        setattr(mission, key, value)
    set_mission_hosts(db, mission, hosts)
    db.flush()
    return True


# Reading ------------------------------------------------------------------------------------


def missions_among(db: Session, codes: frozenset[str] | None) -> list[Mission]:
    """The missions of these codes (every mission for None), by code."""
    return list(db.scalars(_among(sa.select(Mission), codes)))


def mission_codes_among(db: Session, codes: frozenset[str] | None) -> list[str]:
    """The codes alone of :func:`missions_among` (which loads each mission's hosts too)."""
    return list(db.scalars(_among(sa.select(Mission.code), codes)))


def _among(statement: sa.Select[Any], codes: frozenset[str] | None) -> sa.Select[Any]:
    statement = statement.order_by(Mission.code)
    if codes is not None:
        statement = statement.where(Mission.code.in_(sorted(codes)))
    return statement


def acronym_key(acronym: str) -> str:
    """An acronym as the UN's data and a spreadsheet may spell it, reduced to compare:
    "UNEF I", "UNEF-I" and "unef i" are the same."""
    return re.sub(r"[^A-Z0-9]", "", acronym.upper())


def mission_named(missions: Sequence[Mission], acronym: str, on: date | None) -> Mission | None:
    """The mission an acronym names on a day: its own acronym, else an alias shared by
    operations one after the other ("UNEF" in 1960 is UNEF I), the one operating that day."""
    key = acronym_key(acronym)
    if not key:
        return None
    for mission in missions:
        if acronym_key(mission.code) == key:
            return mission
    named = [m for m in missions if key in {acronym_key(a) for a in m.alias_list}]
    if on is not None:
        named = [m for m in named if m.operated_on(on)] or named
    return named[0] if len(named) == 1 else None
