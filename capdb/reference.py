"""Reference data: the countries and the peacekeeping missions, and their idempotent loading."""

from __future__ import annotations

import gettext
import json
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import pycountry
import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from capdb.db import Base

mission_hosts = sa.Table(
    "mission_hosts",
    Base.metadata,
    sa.Column("mission_code", ForeignKey("missions.code", ondelete="CASCADE"), primary_key=True),
    sa.Column("country_code", ForeignKey("countries.code"), primary_key=True),
)


class Country(Base):
    __tablename__ = "countries"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(120))
    name_fr: Mapped[str] = mapped_column(String(120))

    __table_args__ = (sa.CheckConstraint("length(code) = 3", name="code_alpha3"),)

    def name(self, locale: str) -> str:
        return self.name_fr if locale.startswith("fr") else self.name_en

    def __repr__(self) -> str:
        return f"<Country {self.code}>"


class Mission(Base):
    __tablename__ = "missions"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    hosts: Mapped[list[Country]] = relationship(
        secondary=mission_hosts, order_by=Country.code, lazy="selectin"
    )

    __table_args__ = (
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_ordered"),
    )

    @property
    def is_closed(self) -> bool:
        return self.ended_on is not None and self.ended_on <= date.today()

    def name(self, locale: str) -> str:
        return self.name_fr if locale.startswith("fr") else self.name_en

    def __repr__(self) -> str:
        return f"<Mission {self.code}>"


# Territories the United Nations uses that ISO 3166 has no code for; codes from the
# user-assigned range, as the spec asks.
EXTRA_COUNTRIES = (
    ("XKX", "Kosovo", "Kosovo"),
    ("XAB", "Abyei", "Abyei"),
)


@dataclass(frozen=True)
class LoadReport:
    added: int
    updated: int

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated"


def country_rows() -> list[tuple[str, str, str]]:
    """Every ISO 3166-1 country with its English and French short names."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    rows = [
        (c.alpha_3, getattr(c, "common_name", c.name), french.gettext(c.name))
        for c in pycountry.countries
    ]
    return sorted(rows + list(EXTRA_COUNTRIES))


def mission_rows() -> list[dict[str, Any]]:
    text = resources.files("capdb").joinpath("data/missions.json").read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


def load_reference(db: Session) -> LoadReport:
    """Insert or update the countries and missions; running it twice changes nothing."""
    added = updated = 0
    countries = {c.code: c for c in db.scalars(select(Country))}
    for code, name_en, name_fr in country_rows():
        country = countries.get(code)
        if country is None:
            countries[code] = Country(code=code, name_en=name_en, name_fr=name_fr)
            db.add(countries[code])
            added += 1
        elif (country.name_en, country.name_fr) != (name_en, name_fr):
            country.name_en, country.name_fr = name_en, name_fr
            updated += 1
    db.flush()

    missions = {m.code: m for m in db.scalars(select(Mission))}
    for row in mission_rows():
        values = {
            "name_en": row["name_en"],
            "name_fr": row["name_fr"],
            "started_on": date.fromisoformat(row["start"]),
            "ended_on": date.fromisoformat(row["end"]) if row["end"] else None,
        }
        hosts = [countries[code] for code in row["hosts"]]
        mission = missions.get(row["code"])
        if mission is None:
            db.add(Mission(code=row["code"], hosts=hosts, **values))
            added += 1
            continue
        current = {key: getattr(mission, key) for key in values}
        if current != values or mission.hosts != hosts:
            for key, value in values.items():
                setattr(mission, key, value)
            mission.hosts = hosts
            updated += 1
    db.flush()
    return LoadReport(added=added, updated=updated)


def missions_among(db: Session, codes: frozenset[str] | None) -> list[Mission]:
    """The missions of these codes (every mission for None), by code."""
    statement = sa.select(Mission).order_by(Mission.code)
    if codes is not None:
        statement = statement.where(Mission.code.in_(sorted(codes)))
    return list(db.scalars(statement))
