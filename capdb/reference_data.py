"""The reference data capdb ships: every country with its names, and every UN operation.

Plain rows read from ISO 3166 (through pycountry) and from ``capdb/data/missions.json``;
:func:`capdb.reference.load_reference` writes them into the database, where admins keep
them from then on.

The missions are every UN peacekeeping operation since 1948 and the special political
missions, offices and support offices whose personnel have been attacked, as the UN lists
them (peacekeeping.un.org, "List of peacekeeping operations 1948-2024"; the UN's open data
list of operations, DPPADPOSS-PKO; the Security Council resolutions that opened and closed
them). Dates are those of the establishing and terminating decisions; where the UN's list
gives only a month, the end of that month. Host countries are today's States, so that a
State's focal points see what happened on its territory. ``aliases`` are other names the
UN's data uses for an operation (``UNEF`` for both emergency forces, ``IPTF`` for the police
task force within UNMIBH).
"""

from __future__ import annotations

import gettext
import json
from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import pycountry


@dataclass(frozen=True)
class CountryRow:
    code: str
    name_en: str
    name_fr: str
    kind: str = "current"
    valid_until: date | None = None
    # The State today that figures count a former one under, when the user asks for it.
    successor: str | None = None


# Territories the United Nations uses that ISO 3166 has no code for; codes from the
# user-assigned range, as the spec asks.
EXTRA_COUNTRIES = (
    CountryRow("XKX", "Kosovo", "Kosovo"),
    CountryRow("XAB", "Abyei", "Abyei"),
)

# Nationalities that are not a State, as explicit values rather than free text; the codes
# are ICAO's (Doc 9303): XXA a stateless person, XXX a nationality not determined.
NATIONALITY_STATUSES = (
    CountryRow("XXA", "Stateless", "Apatride", kind="nationality_status"),
    CountryRow("XXX", "Nationality undetermined", "Nationalité indéterminée", "nationality_status"),
)

# Former States that old incidents and their victims name (ISO 3166-3 codes, and a
# user-assigned one for Sudan before South Sudan's independence), each with the State
# that continues it today.
HISTORICAL_COUNTRIES = (
    CountryRow("YUG", "Yugoslavia", "Yougoslavie", "historical", date(2003, 2, 3), "SRB"),
    CountryRow(
        "SCG", "Serbia and Montenegro", "Serbie-et-Monténégro", "historical", date(2006, 6, 3),
        "SRB",
    ),
    CountryRow("ZAR", "Zaire", "Zaïre", "historical", date(1997, 5, 17), "COD"),
    CountryRow(
        "XSD", "Sudan (before 9 July 2011)", "Soudan (avant le 9 juillet 2011)", "historical",
        date(2011, 7, 8), "SDN",
    ),
    CountryRow("SUN", "Soviet Union", "Union soviétique", "historical", date(1991, 12, 26), "RUS"),
    CountryRow(
        "CSK", "Czechoslovakia", "Tchécoslovaquie", "historical", date(1992, 12, 31), "CZE"
    ),
    CountryRow(
        "DDR", "German Democratic Republic", "République démocratique allemande", "historical",
        date(1990, 10, 2), "DEU",
    ),
    CountryRow(
        "YMD", "South Yemen", "Yémen du Sud", "historical", date(1990, 5, 21), "YEM"
    ),
    CountryRow("BUR", "Burma", "Birmanie", "historical", date(1989, 6, 17), "MMR"),
    CountryRow("DHY", "Dahomey", "Dahomey", "historical", date(1975, 11, 29), "BEN"),
    CountryRow("HVO", "Upper Volta", "Haute-Volta", "historical", date(1984, 8, 3), "BFA"),
    CountryRow("TMP", "East Timor", "Timor oriental", "historical", date(2002, 5, 19), "TLS"),
)  # fmt: skip


def country_rows() -> list[CountryRow]:
    """Every ISO 3166-1 country with its English and French short names, and the extra,
    nationality and historical codes."""
    french = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    rows = [
        CountryRow(c.alpha_3, getattr(c, "common_name", c.name), french.gettext(c.name))
        for c in pycountry.countries
    ]
    extra = (*EXTRA_COUNTRIES, *NATIONALITY_STATUSES, *HISTORICAL_COUNTRIES)
    return sorted([*rows, *extra], key=lambda row: row.code)


@dataclass(frozen=True)
class HostRow:
    country: str
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class MissionRow:
    code: str
    kind: str
    name_en: str
    name_fr: str
    started_on: date
    ended_on: date | None
    hosts: tuple[HostRow, ...]
    predecessor: str | None
    aliases: tuple[str, ...]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _host(value: str | dict[str, Any]) -> HostRow:
    if isinstance(value, str):
        return HostRow(value)
    return HostRow(value["country"], _day(value.get("since")), _day(value.get("until")))


def mission_rows() -> list[MissionRow]:
    text = resources.files("capdb").joinpath("data/missions.json").read_text(encoding="utf-8")
    return [
        MissionRow(
            code=row["code"],
            kind=row["kind"],
            name_en=row["name_en"],
            name_fr=row["name_fr"],
            started_on=date.fromisoformat(row["start"]),
            ended_on=_day(row["end"]),
            hosts=tuple(_host(host) for host in row["hosts"]),
            predecessor=row.get("predecessor"),
            aliases=tuple(row.get("aliases") or ()),
        )
        for row in json.loads(text)
    ]
