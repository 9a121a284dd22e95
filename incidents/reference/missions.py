"""Missions kept by admins: adding one, changing it, closing it, deleting it, and the
"other UN presence" of a country, for UN staff not attached to a mission.

The admin pages, the API and the command line share these rules. Input is refused field by
field (:class:`MissionError`) and nothing is written unless all of it is valid. Every change
keeps the mission's previous state (``mission_versions``), is audited, and marks the mission
as an admin's (``curated``), so that loading the shipped data no longer changes it. A
mission some record names (an incident, even deleted, an assistance record, an account, a
successor) is never deleted: it is closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from auth import audit
from auth.models import User, user_missions
from capdb.reference import (
    ACRONYM,
    ACRONYM_MAX,
    ALIASES_MAX,
    NAME_MAX,
    Country,
    HostPeriod,
    Mission,
    host_periods,
    keep_mission_version,
    mission_snapshot,
    set_mission_hosts,
)
from capdb.vocabularies import MISSION_KIND
from incidents.errors import InputError, StaleEditError
from incidents.models import CapacityAssistance, Incident

# The United Nations Charter came into force; no operation is older.
EARLIEST_START = date(1945, 10, 24)
PRESENCE_PREFIX = "UNP-"


class MissionError(InputError):
    """The input is invalid; ``problems`` maps each field to the reason."""


class MissionInUseError(Exception):
    """The mission is named by records: it can be closed, not deleted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MissionInput:
    """A mission as the user gave it; None where a value is missing or unreadable (the
    interface that read it reports that itself, or the rules here do)."""

    code: str
    kind: str
    name_en: str
    name_fr: str
    started_on: date | None
    ended_on: date | None
    hosts: tuple[HostPeriod, ...]
    predecessor: str | None = None
    aliases: tuple[str, ...] = field(default=())

    @classmethod
    def of(cls, mission: Mission) -> MissionInput:
        return cls(
            code=mission.code,
            kind=mission.kind,
            name_en=mission.name_en,
            name_fr=mission.name_fr,
            started_on=mission.started_on,
            ended_on=mission.ended_on,
            hosts=tuple(host_periods(mission)),
            predecessor=mission.predecessor_code,
            aliases=mission.alias_list,
        )


# The rules ----------------------------------------------------------------------------------


def mission_problems(db: Session, values: MissionInput, mission: Mission | None) -> dict[str, str]:
    """What is wrong with the values, for a new mission (None) or a change of ``mission``."""
    problems: dict[str, str] = {}
    if mission is None:
        _note(problems, "code", _code_problem(db, values.code))
    if values.kind not in MISSION_KIND:
        problems["kind"] = _("Choose the kind of mission.")
    for name in ("name_en", "name_fr"):
        text = getattr(values, name).strip()
        if not text:
            problems[name] = _("Give the mission's name.")
        elif len(text) > NAME_MAX:
            problems[name] = _("Use at most %(max)d characters.", max=NAME_MAX)
    _note(problems, "started_on", _start_problem(values.started_on))
    if values.ended_on and values.started_on and values.ended_on < values.started_on:
        problems["ended_on"] = _("The end cannot be before the start.")
    _note(problems, "hosts", hosts_problem(db, values.hosts))
    _note(problems, "predecessor", _predecessor_problem(db, values))
    _note(problems, "aliases", _aliases_problem(values.aliases))
    if mission is not None and not problems:
        _note(problems, "ended_on", _outside_problem(db, mission, values))
    return problems


def _note(problems: dict[str, str], name: str, reason: str | None) -> None:
    if reason is not None:
        problems[name] = reason


def _code_problem(db: Session, code: str) -> str | None:
    if not code:
        return str(_("Give the mission's acronym."))
    if len(code) > ACRONYM_MAX or not ACRONYM.fullmatch(code):
        return str(
            _(
                "An acronym is capital letters and digits, at most %(max)d characters "
                "(words separated by a space or a hyphen).",
                max=ACRONYM_MAX,
            )
        )
    if db.get(Mission, code) is not None:
        return str(_("A mission with this acronym already exists."))
    return None


def _start_problem(started_on: date | None) -> str | None:
    if started_on is None:
        return str(_("Give the date the mission started."))
    if started_on < EARLIEST_START:
        return str(_("A mission cannot start before the United Nations existed."))
    return None


def hosts_problem(db: Session, hosts: tuple[HostPeriod, ...]) -> str | None:
    """At least one host country, each a known State once, its dates in order."""
    if not hosts:
        return str(_("Give at least one host country."))
    codes = [host.country for host in hosts]
    if len(codes) != len(set(codes)):
        return str(_("A country is given twice."))
    known = {
        c.code: c for c in db.scalars(sa.select(Country).where(Country.code.in_(sorted(codes))))
    }
    for host in hosts:
        country = known.get(host.country)
        if country is None or not country.is_state:
            return str(_("%(code)s is not a country of the list.", code=host.country))
        if host.since and host.until and host.until < host.since:
            return str(_("%(code)s: the end cannot be before the start.", code=host.country))
    return None


def _predecessor_problem(db: Session, values: MissionInput) -> str | None:
    if not values.predecessor:
        return None
    if values.predecessor == values.code:
        return str(_("A mission cannot be its own predecessor."))
    seen = {values.code}
    current: Mission | None = db.get(Mission, values.predecessor)
    if current is None:
        return str(_("There is no mission with this acronym."))
    while current is not None:
        if current.code in seen:
            return str(_("This would make the mission its own predecessor."))
        seen.add(current.code)
        current = db.get(Mission, current.predecessor_code) if current.predecessor_code else None
    return None


def _aliases_problem(aliases: tuple[str, ...]) -> str | None:
    for alias in aliases:
        if len(alias) > ACRONYM_MAX or not ACRONYM.fullmatch(alias):
            return str(_("%(alias)s is not an acronym.", alias=alias))
    if len(", ".join(aliases)) > ALIASES_MAX:
        return str(_("Use at most %(max)d characters.", max=ALIASES_MAX))
    return None


def _outside_problem(db: Session, mission: Mission, values: MissionInput) -> str | None:
    """A new period must still hold every incident recorded for the mission."""
    if values.started_on is None:
        return None
    outside = sa.or_(Incident.occurred_on < values.started_on)
    if values.ended_on is not None:
        outside = sa.or_(outside, Incident.occurred_on > values.ended_on)
    count = db.scalar(
        sa.select(sa.func.count())
        .select_from(Incident)
        .where(Incident.mission_code == mission.code, Incident.deleted_at.is_(None), outside)
    )
    if not count:
        return None
    return str(
        _(
            "%(count)d incidents of this mission are dated outside this period; "
            "correct them first.",
            count=count,
        )
    )


# Changes ------------------------------------------------------------------------------------


def _apply(db: Session, mission: Mission, values: MissionInput) -> None:
    mission.kind = values.kind
    mission.name_en = values.name_en.strip()
    mission.name_fr = values.name_fr.strip()
    if values.started_on is not None:  # always, once mission_problems passed
        mission.started_on = values.started_on
    mission.ended_on = values.ended_on
    mission.predecessor_code = values.predecessor or None
    mission.aliases = ", ".join(values.aliases)
    mission.curated = True
    set_mission_hosts(db, mission, values.hosts)


def add_mission(db: Session, values: MissionInput, *, by: User | None) -> Mission:
    """Add a mission; audited."""
    problems = mission_problems(db, values, None)
    if problems:
        raise MissionError(problems)
    mission = Mission(code=values.code)
    db.add(mission)
    _apply(db, mission, values)
    db.flush()
    audit.record(db, "create", user=by, target_type="missions", target_id=mission.code)
    return mission


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    ignored = {"version", "updated_at", "created_at", "curated"}
    return sorted(k for k in after if k not in ignored and before.get(k) != after[k])


def update_mission(
    db: Session, mission: Mission, values: MissionInput, *, by: User | None, expected_version: int
) -> list[str]:
    """Change the mission as the version the user saw; the fields that changed (none: nothing
    is written)."""
    if expected_version != mission.version:
        raise StaleEditError()
    problems = mission_problems(db, values, mission)
    if problems:
        raise MissionError(problems)
    if values == MissionInput.of(mission):
        return []
    before = mission_snapshot(mission)
    keep_mission_version(db, mission, by.id if by else None)
    try:
        _apply(db, mission, values)
        db.flush()
    except StaleDataError:
        raise StaleEditError() from None
    changed = _changed(before, mission_snapshot(mission))
    audit.record(
        db,
        "update",
        user=by,
        target_type="missions",
        target_id=mission.code,
        detail={"changed": changed, "version": mission.version},
    )
    return changed


def close_mission(
    db: Session, mission: Mission, ended_on: date | None, *, by: User | None, expected_version: int
) -> list[str]:
    """Give the mission its end: it stays recordable for dates within its period."""
    if ended_on is None:
        raise MissionError({"ended_on": _("Give the date the mission ended.")})
    values = MissionInput.of(mission)
    return update_mission(
        db,
        mission,
        MissionInput(**{**values.__dict__, "ended_on": ended_on}),
        by=by,
        expected_version=expected_version,
    )


def uses_of(db: Session, mission: Mission) -> dict[str, int]:
    """How many records of each kind name the mission (deleted incidents included)."""
    counts = {
        "incidents": sa.select(sa.func.count()).where(Incident.mission_code == mission.code),
        "assistance": sa.select(sa.func.count()).where(
            CapacityAssistance.mission_code == mission.code
        ),
        "accounts": sa.select(sa.func.count()).where(user_missions.c.mission_code == mission.code),
        "successors": sa.select(sa.func.count()).where(Mission.predecessor_code == mission.code),
    }
    return {name: int(db.scalar(statement) or 0) for name, statement in counts.items()}


def delete_mission(
    db: Session, mission: Mission, *, by: User | None, expected_version: int
) -> None:
    """Delete a mission nothing names; its last state stays in its versions. A mission with
    incidents is closed instead (:func:`close_mission`)."""
    if expected_version != mission.version:
        raise StaleEditError()
    uses = {name: count for name, count in uses_of(db, mission).items() if count}
    if uses:
        raise MissionInUseError(in_use_message(mission, uses))
    keep_mission_version(db, mission, by.id if by else None)
    set_mission_hosts(db, mission, ())
    db.delete(mission)
    db.flush()
    audit.record(db, "delete", user=by, target_type="missions", target_id=mission.code)


def in_use_message(mission: Mission, uses: dict[str, int]) -> str:
    if uses.get("incidents"):
        return str(
            _(
                "%(mission)s has %(count)d incidents: it cannot be deleted. Close it instead "
                "by giving the date it ended.",
                mission=mission.code,
                count=uses["incidents"],
            )
        )
    return str(
        _(
            "%(mission)s is named by other records (assistance, accounts or a successor): "
            "it cannot be deleted. Close it instead.",
            mission=mission.code,
        )
    )


# The other UN presence in a country ---------------------------------------------------------


def presence_code(country: str) -> str:
    return f"{PRESENCE_PREFIX}{country}"


def presence_in(db: Session, country_code: str, *, by: User | None) -> tuple[Mission, bool]:
    """The "other UN presence" of the country, for UN staff attacked there who belong to no
    mission (Secretariat, agencies), and whether it was just added."""
    code = presence_code(country_code.upper())
    existing = db.get(Mission, code)
    if existing is not None:
        return existing, False
    country = db.get(Country, country_code.upper())
    if country is None or country.kind != "current":
        raise MissionError({"country": _("Choose a country from the list.")})
    values = MissionInput(
        code=code,
        kind="other_presence",
        name_en=f"Other UN presence in {country.name_en}",
        name_fr=f"Autre présence des Nations Unies : {country.name_fr}",
        started_on=EARLIEST_START,
        ended_on=None,
        hosts=(HostPeriod(country.code),),
    )
    return add_mission(db, values, by=by), True


# Host countries as people type them ---------------------------------------------------------


def read_hosts(lines: list[str]) -> tuple[tuple[HostPeriod, ...], str | None]:
    """Host countries typed one a line (a form) or one an option (the command line): the
    ISO code, then optionally the day it began to host and the day it stopped, apart by
    spaces or colons ("SSD 2011-07-09"). The hosts, or why a line is not understood."""
    hosts = []
    for line in lines:
        parts = [p for p in line.replace(":", " ").split() if p]
        if not parts:
            continue
        if len(parts) > 3:
            return (), str(_("%(line)s: give a country and at most two dates.", line=line))
        try:
            days = [date.fromisoformat(p) for p in parts[1:]] + [None, None]
        except ValueError:
            return (), str(_("%(line)s: give dates such as 2011-07-09.", line=line))
        hosts.append(HostPeriod(parts[0].upper(), days[0], days[1]))
    return tuple(hosts), None
