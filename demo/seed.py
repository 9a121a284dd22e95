"""A deterministic, realistic demo data set.

Incidents are spread over missions and years roughly as they were (MINUSMA the deadliest
mission from 2013 to 2023, then MONUSCO and MINUSCA), placed near real towns of the host
country, with victims from the real large contributors and judicial cases at every stage,
some of them stalled. The same seed always gives the same data.

Rows are generated in memory and written with bulk INSERTs so that 100,000 incidents take
seconds, not hours.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from auth.models import User
from auth.passwords import hash_password
from capdb.bulk import insert_rows
from capdb.db import Base
from capdb.reference import Mission
from capdb.vocabularies import ASSISTANCE_KIND
from incidents.models import (
    CapacityAssistance,
    Comment,
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
    Victim,
    assistance_cases,
    case_incidents,
)

FIRST_DAY = date(2013, 1, 1)
LAST_DAY = date(2026, 9, 30)
BATCH = 5_000

# Relative number of attacks a year, by mission and period: an approximation of the
# public record, in which MINUSMA dominates until its closure.
MISSION_INTENSITY: dict[str, list[tuple[int, int, float]]] = {
    "MINUSMA": [(2013, 2013, 6), (2014, 2019, 14), (2020, 2023, 10)],
    "MINUSCA": [(2014, 2016, 4), (2017, 2021, 6), (2022, 2026, 4)],
    "MONUSCO": [(2013, 2018, 4), (2019, 2026, 6)],
    "UNMISS": [(2013, 2026, 2.5)],
    "UNAMID": [(2013, 2016, 3), (2017, 2020, 1)],
    "UNIFIL": [(2013, 2022, 0.4), (2023, 2025, 2.5), (2026, 2026, 0.8)],
    "UNISFA": [(2013, 2026, 0.8)],
    "UNDOF": [(2013, 2015, 0.6), (2016, 2026, 0.1)],
    "MINUSTAH": [(2013, 2017, 0.5)],
    "MINUJUSTH": [(2017, 2019, 0.3)],
    "UNOCI": [(2013, 2017, 0.4)],
    "UNMIL": [(2013, 2018, 0.2)],
    "MINURSO": [(2013, 2026, 0.08)],
    "UNFICYP": [(2013, 2026, 0.05)],
    "UNMIK": [(2013, 2026, 0.05)],
    "UNTSO": [(2013, 2026, 0.05)],
    "UNMOGIP": [(2013, 2026, 0.05)],
}

# Means of attack by mission profile, with the contexts each means is usually met in.
MEANS_PROFILES: dict[str, dict[str, float]] = {
    "MINUSMA": {
        "ied": 34,
        "indirect_fire": 20,
        "small_arms": 18,
        "complex_attack": 8,
        "vbied": 5,
        "suicide_attack": 3,
        "landmine": 6,
        "rpg": 3,
        "abduction": 1,
        "other": 2,
    },
    "MONUSCO": {
        "small_arms": 48,
        "rpg": 8,
        "indirect_fire": 6,
        "bladed_weapon": 8,
        "mob_violence": 14,
        "ied": 5,
        "arson": 4,
        "abduction": 3,
        "other": 4,
    },
    "MINUSCA": {
        "small_arms": 50,
        "rpg": 6,
        "ied": 8,
        "landmine": 7,
        "grenade": 5,
        "mob_violence": 10,
        "bladed_weapon": 5,
        "abduction": 4,
        "other": 5,
    },
    "UNIFIL": {"indirect_fire": 35, "mob_violence": 30, "small_arms": 15, "ied": 5, "other": 15},
    "default": {
        "small_arms": 50,
        "mob_violence": 12,
        "bladed_weapon": 8,
        "grenade": 6,
        "indirect_fire": 6,
        "abduction": 6,
        "arson": 4,
        "other": 8,
    },
}

CONTEXTS: dict[str, Sequence[str]] = {
    "ied": ("convoy", "patrol", "escort", "demining"),
    "vbied": ("camp_attack", "convoy", "checkpoint"),
    "suicide_attack": ("camp_attack", "checkpoint"),
    "landmine": ("convoy", "patrol", "demining"),
    "small_arms": ("ambush", "patrol", "camp_attack", "checkpoint", "escort", "convoy"),
    "indirect_fire": ("camp_attack",),
    "rpg": ("ambush", "convoy", "camp_attack"),
    "grenade": ("checkpoint", "crowd", "patrol"),
    "bladed_weapon": ("criminal", "off_duty", "patrol"),
    "arson": ("crowd", "camp_attack"),
    "mob_violence": ("crowd", "patrol", "checkpoint"),
    "abduction": ("criminal", "off_duty", "patrol"),
    "complex_attack": ("camp_attack", "convoy"),
    "other": ("other", "patrol"),
}

LOCATIONS: dict[str, Sequence[str]] = {
    "ambush": ("road", "rural"),
    "convoy": ("road",),
    "camp_attack": ("camp",),
    "patrol": ("road", "rural", "town"),
    "checkpoint": ("checkpoint",),
    "escort": ("road", "waterway"),
    "demining": ("road", "rural"),
    "crowd": ("town",),
    "criminal": ("town",),
    "off_duty": ("town",),
    "other": ("other", "town", "airfield"),
}

PERPETRATORS: dict[str, list[tuple[str, str | None]]] = {
    "MINUSMA": [
        ("terrorist_group", "JNIM"),
        ("terrorist_group", "ISGS"),
        ("terrorist_group", "Ansar Dine"),
        ("armed_group", None),
        ("unknown", None),
    ],
    "MONUSCO": [
        ("armed_group", "ADF"),
        ("armed_group", "M23"),
        ("militia", "CODECO"),
        ("militia", "Mai-Mai"),
        ("mob", None),
        ("unknown", None),
    ],
    "MINUSCA": [
        ("armed_group", "3R"),
        ("armed_group", "UPC"),
        ("militia", "anti-Balaka"),
        ("armed_group", "FPRC"),
        ("criminal_group", None),
        ("unknown", None),
    ],
    "UNMISS": [
        ("militia", "White Army"),
        ("state_forces", None),
        ("armed_group", None),
        ("criminal_group", None),
        ("unknown", None),
    ],
    "UNAMID": [
        ("armed_group", None),
        ("criminal_group", None),
        ("militia", None),
        ("unknown", None),
    ],
    "default": [
        ("armed_group", None),
        ("criminal_group", None),
        ("mob", None),
        ("individual", None),
        ("unknown", None),
    ],
}

CATEGORIES = {
    "contingent_military": 74,
    "formed_police_unit": 8,
    "individual_police": 3,
    "military_expert": 3,
    "national_civilian": 7,
    "international_civilian": 2,
    "un_volunteer": 1,
    "contractor": 2,
}
INTERNATIONAL_STAFF = ("FRA", "USA", "KEN", "CMR", "SEN", "CAN", "ITA", "PHL", "IND", "UGA")
GIVEN_NAMES = (
    "Amadou",
    "Moussa",
    "Ibrahim",
    "Jean",
    "Pierre",
    "Aisha",
    "Fatou",
    "Rahim",
    "Kofi",
    "Samuel",
    "Mariam",
    "Joseph",
    "Ali",
    "Grace",
    "Hassan",
    "Nadia",
)
FAMILY_NAMES = (
    "Traoré",
    "Diallo",
    "Hossain",
    "Mensah",
    "Mahamat",
    "Kagame",
    "Singh",
    "Okafor",
    "Ndiaye",
    "Koné",
    "Rahman",
    "Banda",
    "Osei",
    "Yusuf",
    "Diop",
)

# The stages a case climbs, with the chance of climbing one more rung; where it stops, it
# has stalled, and some stalled cases are formally closed or suspended.
LADDER: list[tuple[str, float]] = [
    ("reported", 1.0),
    ("investigation_opened", 0.85),
    ("suspect_identified", 0.55),
    ("warrant_issued", 0.7),
    ("arrested", 0.6),
    ("charged", 0.8),
    ("referred_to_court", 0.75),
    ("trial_opened", 0.7),
    ("convicted", 0.78),
    ("sentenced", 0.95),
    ("appeal", 0.3),
    ("final", 0.9),
]
CASE_LEVEL = {"reported", "investigation_opened"}


def demo_password(role: str) -> str:
    return f"demo-{role.replace('_', '-')}-password"


# Secrets for the demo accounts' authenticator apps; demo data only, never for real use.
DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {
        "email": "admin@capdb.example",
        "role": "admin",
        "missions": [],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPADMINAAA",
    },
    {
        "email": "analyst@capdb.example",
        "role": "analyst",
        "missions": [],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPANALYSTA",
    },
    {
        "email": "minusma@capdb.example",
        "role": "mission",
        "missions": ["MINUSMA"],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPMINUSMAA",
    },
    {
        "email": "minusma.validator@capdb.example",
        "role": "mission",
        "missions": ["MINUSMA"],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPVALIDATE",
    },
    {
        "email": "monusco@capdb.example",
        "role": "mission",
        "missions": ["MONUSCO", "MINUSCA"],
        "state": None,
        "totp": "JBSWY3DPEHPK3PXPMONUSCOA",
    },
    {
        "email": "mali@capdb.example",
        "role": "member_state",
        "missions": [],
        "state": "MLI",
        "totp": "JBSWY3DPEHPK3PXPMALIAAAA",
    },
    {
        "email": "chad@capdb.example",
        "role": "member_state",
        "missions": [],
        "state": "TCD",
        "totp": "JBSWY3DPEHPK3PXPCHADAAAA",
    },
    {
        "email": "bangladesh@capdb.example",
        "role": "member_state",
        "missions": [],
        "state": "BGD",
        "totp": "JBSWY3DPEHPK3PXPBGDAAAAA",
    },
]


@dataclass
class DemoReport:
    users: int = 0
    incidents: int = 0
    victims: int = 0
    cases: int = 0
    defendants: int = 0
    stage_events: int = 0
    assistance: int = 0
    comments: int = 0

    def __str__(self) -> str:
        return ", ".join(f"{value} {name.replace('_', ' ')}" for name, value in vars(self).items())


class DemoError(RuntimeError):
    """The demo data cannot be seeded into this database."""


@dataclass
class _Place:
    town: str
    latitude: float
    longitude: float
    country: str


@dataclass
class _World:
    missions: dict[str, Mission]
    places: dict[str, list[_Place]]
    contributors: dict[str, tuple[list[str], list[int]]]
    cells: list[tuple[str, int]] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)


def seed_demo(
    db: Session, incidents: int, seed: int, progress: Callable[[int], None] | None = None
) -> DemoReport:
    """Fill an empty database with demo data; ``progress`` hears of each batch written."""
    existing = db.scalar(select(func.count()).select_from(Incident))
    if existing:
        raise DemoError(
            f"the database already holds {existing} incidents; demo data needs an empty one"
        )
    rng = random.Random(seed)
    world = _load_world(db)
    report = DemoReport()
    users = _seed_users(db, report)
    incident_rows = _incident_rows(rng, world, incidents, users)
    ids = _insert(db, Incident, incident_rows, progress)
    report.incidents = len(ids)
    victims_by_incident = _seed_victims(db, rng, world, incident_rows, ids, report)
    case_ids = _seed_cases(db, rng, incident_rows, ids, victims_by_incident, users, report)
    _seed_assistance(db, rng, world, case_ids, report)
    _seed_comments(db, rng, incident_rows, ids, users, report)
    return report


def _load_world(db: Session) -> _World:
    text = resources.files("demo").joinpath("data/demo_geography.json").read_text("utf-8")
    geography: dict[str, Any] = json.loads(text)
    missions = {m.code: m for m in db.scalars(select(Mission))}
    if not missions:
        raise DemoError("no missions found: run `flask --app wsgi db upgrade` first")
    world = _World(missions=missions, places={}, contributors={})
    for code, entry in geography.items():
        host = missions[code].hosts[0].code
        world.places[code] = [
            _Place(t[0], t[1], t[2], t[3] if len(t) > 3 else host) for t in entry["towns"]
        ]
        world.contributors[code] = (
            [c[0] for c in entry["contributors"]],
            [c[1] for c in entry["contributors"]],
        )
    for code, periods in MISSION_INTENSITY.items():
        mission = missions[code]
        for first, last, weight in periods:
            for year in range(first, last + 1):
                if _active_days(mission, year):
                    world.cells.append((code, year))
                    world.weights.append(weight)
    return world


def _active_days(mission: Mission, year: int) -> tuple[date, date] | None:
    start = max(date(year, 1, 1), mission.started_on, FIRST_DAY)
    end = min(date(year, 12, 31), mission.ended_on or LAST_DAY, LAST_DAY)
    return (start, end) if start <= end else None


def _seed_users(db: Session, report: DemoReport) -> dict[str, int]:
    """The demo accounts, by email; existing accounts are kept as they are."""
    ids: dict[str, int] = {}
    missions = {m.code: m for m in db.scalars(select(Mission))}
    for account in DEMO_ACCOUNTS:
        user = db.scalar(select(User).where(User.email == account["email"]))
        if user is None:
            user = User(
                email=account["email"],
                password_hash=hash_password(demo_password(account["role"])),
                role=account["role"],
                state_code=account["state"],
                totp_secret=account["totp"],
                missions=[missions[code] for code in account["missions"]],
            )
            db.add(user)
            db.flush()
            report.users += 1
        ids[account["email"]] = user.id
    return ids


def _incident_rows(
    rng: random.Random, world: _World, count: int, users: dict[str, int]
) -> list[dict[str, Any]]:
    rows = []
    for mission_code, year in rng.choices(world.cells, world.weights, k=count):
        first, last = _active_days(world.missions[mission_code], year)  # type: ignore[misc]
        occurred_on = first + timedelta(days=rng.randrange((last - first).days + 1))
        rows.append(_incident(rng, world, mission_code, occurred_on, users))
    rows.sort(key=lambda r: (r["mission_code"], r["occurred_on"]))
    sequence: dict[tuple[str, int], int] = defaultdict(int)
    for row in rows:
        key = (row["mission_code"], row["occurred_on"].year)
        sequence[key] += 1
        row["reference"] = f"{key[0]}-{key[1]}-{sequence[key]:04d}"
    return rows


def _incident(
    rng: random.Random, world: _World, mission_code: str, occurred_on: date, users: dict[str, int]
) -> dict[str, Any]:
    place = rng.choice(world.places[mission_code])
    precision = rng.choices(("exact", "day", "month"), (45, 45, 10))[0]
    occurred_time = None
    if precision == "exact":
        occurred_time = time(rng.randrange(24), rng.randrange(0, 60, 5))
    elif precision == "month":
        occurred_on = occurred_on.replace(day=1)
    geo = rng.choices(("exact", "nearby_town", "admin_area", "country"), (55, 33, 10, 2))[0]
    spread = {"exact": 0.06, "nearby_town": 0.03, "admin_area": 0.1, "country": 0.0}[geo]
    profile = MEANS_PROFILES.get(mission_code, MEANS_PROFILES["default"])
    means = rng.choices(list(profile), list(profile.values()))[0]
    context = rng.choice(CONTEXTS[means])
    perpetrator_type, perpetrator_name = rng.choice(
        PERPETRATORS.get(mission_code, PERPETRATORS["default"])
    )
    age = (LAST_DAY - occurred_on).days
    status = (
        "validated" if age > 60 else rng.choices(("draft", "submitted", "validated"), (3, 3, 4))[0]
    )
    author = (
        users["minusma@capdb.example"]
        if mission_code == "MINUSMA"
        else users["admin@capdb.example"]
    )
    stamp = datetime.combine(occurred_on + timedelta(days=1), time(12), tzinfo=UTC)
    where = place.town if geo != "nearby_town" else f"near {place.town}"
    return {
        "mission_code": mission_code,
        "occurred_on": occurred_on,
        "occurred_time": occurred_time,
        "date_precision": precision,
        "country_code": place.country,
        "place": where,
        "latitude": round(place.latitude + rng.uniform(-spread, spread), 5),
        "longitude": round(place.longitude + rng.uniform(-spread, spread), 5),
        "geo_precision": geo,
        "means_of_attack": means,
        "attack_context": context,
        "location_type": rng.choice(LOCATIONS[context]),
        "perpetrator_type": perpetrator_type,
        "perpetrator_name": perpetrator_name,
        "narrative": _narrative(means, context, place.town, occurred_on),
        "sources": rng.choice(
            ("Mission situation report", "JOC daily report", "Sector HQ flash report")
        ),
        "status": status,
        "created_by_id": author,
        "updated_by_id": author,
        "created_at": stamp,
        "updated_at": stamp,
        "version": 1,
    }


def _narrative(means: str, context: str, town: str, occurred_on: date) -> str:
    return (
        f"On {occurred_on.isoformat()}, peacekeepers near {town} were attacked "
        f"({means.replace('_', ' ')}, {context.replace('_', ' ')}). Demo data."
    )


def _insert(
    db: Session,
    model: type[Incident | JudicialCase | Defendant | CapacityAssistance],
    rows: list[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> list[int]:
    """Insert the rows in batches and answer their new ids, in the order of the rows."""
    ids: list[int] = []
    for batch in _batches(rows):
        ids.extend(insert_rows(db, _table(model), batch, returning_ids=True))
        if progress:
            progress(len(batch))
    return ids


def _table(model: type[Base]) -> sa.Table:
    return cast(sa.Table, model.__table__)


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _seed_victims(
    db: Session,
    rng: random.Random,
    world: _World,
    incidents: list[dict[str, Any]],
    ids: list[int],
    report: DemoReport,
) -> dict[int, list[str]]:
    """Insert the victims and answer their outcomes by incident id."""
    rows = []
    outcomes: dict[int, list[str]] = {}
    for incident_id, incident in zip(ids, incidents, strict=True):
        count = 0 if rng.random() < 0.15 else min(1 + int(rng.expovariate(0.7)), 12)
        deadly = incident["means_of_attack"] in {"ied", "vbied", "suicide_attack", "complex_attack"}
        outcomes[incident_id] = []
        for _ in range(count):
            row = _victim(rng, world, incident, deadly)
            row["incident_id"] = incident_id
            outcomes[incident_id].append(row["outcome"])
            rows.append(row)
    insert_rows(db, _table(Victim), rows)
    report.victims = len(rows)
    return outcomes


def _victim(
    rng: random.Random, world: _World, incident: dict[str, Any], deadly: bool
) -> dict[str, Any]:
    mission = incident["mission_code"]
    category = rng.choices(list(CATEGORIES), list(CATEGORIES.values()))[0]
    host = incident["country_code"]
    contributing = None
    if category in {"national_civilian", "contractor"}:
        nationality = host
    elif category in {"international_civilian", "un_volunteer"}:
        nationality = rng.choice(INTERNATIONAL_STAFF)
    else:
        codes, weights = world.contributors[mission]
        nationality = contributing = rng.choices(codes, weights)[0]
    if incident["means_of_attack"] == "abduction":
        outcome = rng.choice(("abducted", "abducted", "killed", "injured"))
    else:
        killed_share = 40 if deadly else 22
        outcome = rng.choices(("killed", "injured", "detained"), (killed_share, 75, 2))[0]
    uniformed = contributing is not None
    death = None
    if outcome == "killed":
        death = incident["occurred_on"] + timedelta(
            days=0 if rng.random() < 0.9 else rng.randrange(1, 15)
        )
    return {
        "category": category,
        "nationality_code": nationality,
        "contributing_country_code": contributing,
        "unit": f"{nationality} battalion, company {rng.randint(1, 4)}" if uniformed else None,
        "sex": rng.choices(
            ("male", "female", "unknown"), (88, 10, 2) if uniformed else (65, 33, 2)
        )[0],
        "outcome": outcome,
        "date_of_death": death,
        "name": f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}",
        "identifier": f"UN-{rng.randrange(10**7):07d}",
        "created_at": incident["created_at"],
        "updated_at": incident["updated_at"],
        "version": 1,
    }


def _seed_cases(
    db: Session,
    rng: random.Random,
    incidents: list[dict[str, Any]],
    ids: list[int],
    outcomes: dict[int, list[str]],
    users: dict[str, int],
    report: DemoReport,
) -> list[int]:
    chosen = []
    for incident_id, incident in zip(ids, incidents, strict=True):
        if incident["status"] != "validated":
            continue
        chance = 0.45 if "killed" in outcomes[incident_id] else 0.08
        if rng.random() < chance:
            chosen.append((incident_id, incident))
    plans = [_case_plan(rng, incident) for _, incident in chosen]
    case_rows = [plan["case"] for plan in plans]
    case_ids = _insert(db, JudicialCase, case_rows)
    links = [{"case_id": c, "incident_id": i} for c, (i, _) in zip(case_ids, chosen, strict=True)]
    # A few cases cover a second incident of the same mission a few weeks later.
    by_mission: dict[str, list[int]] = defaultdict(list)
    for incident_id, incident in zip(ids, incidents, strict=True):
        by_mission[incident["mission_code"]].append(incident_id)
    for case_id, (incident_id, incident) in zip(case_ids, chosen, strict=True):
        if rng.random() < 0.05:
            siblings = by_mission[incident["mission_code"]]
            other = siblings[min(siblings.index(incident_id) + 1, len(siblings) - 1)]
            if other != incident_id:
                links.append({"case_id": case_id, "incident_id": other})
    insert_rows(db, case_incidents, links)

    defendant_rows: list[dict[str, Any]] = []
    for case_id, plan in zip(case_ids, plans, strict=True):
        for defendant in plan["defendants"]:
            defendant["row"]["case_id"] = case_id
            defendant_rows.append(defendant["row"])
    defendant_ids = _insert(db, Defendant, defendant_rows)

    events: list[dict[str, Any]] = []
    next_defendant = iter(defendant_ids)
    focal_point = users["mali@capdb.example"]
    for case_id, plan in zip(case_ids, plans, strict=True):
        for event in plan["events"]:
            events.append({**event, "case_id": case_id, "defendant_id": None})
        for defendant in plan["defendants"]:
            defendant_id = next(next_defendant)
            for event in defendant["events"]:
                events.append({**event, "case_id": case_id, "defendant_id": defendant_id})
    for event in events:
        event["entered_by_id"] = users["admin@capdb.example"]
        if event.get("review_status") == "pending":
            event["entered_by_id"] = focal_point
    insert_rows(db, _table(StageEvent), events)
    report.cases = len(case_ids)
    report.defendants = len(defendant_ids)
    report.stage_events = len(events)
    return case_ids


def _case_plan(rng: random.Random, incident: dict[str, Any]) -> dict[str, Any]:
    """A case row, its case-level events, and its defendants with their own events."""
    day = incident["occurred_on"] + timedelta(days=rng.randrange(0, 10))
    steps: list[tuple[str, date]] = []
    for stage, chance in LADDER:
        if rng.random() > chance or day > LAST_DAY:
            break
        steps.append((stage, day))
        day += timedelta(days=int(rng.expovariate(1 / 120)) + 1)
    if steps and steps[-1][0] not in {"final", "sentenced"} and rng.random() < 0.25:
        closing = rng.choice(("closed_without_action", "suspended", "transferred"))
        if day <= LAST_DAY:
            steps.append((closing, day))
    if steps and steps[-1][0] == "convicted" and rng.random() < 0.1:
        steps[-1] = ("acquitted", steps[-1][1])
    year = incident["occurred_on"].year
    stamp = incident["created_at"]
    case = {
        "prosecuting_state_code": incident["country_code"],
        "jurisdiction": rng.choices(
            ("ordinary", "military", "special_court", "international"), (60, 20, 18, 2)
        )[0],
        "national_reference": f"{incident['country_code']}/PJ/{year}/{rng.randrange(1, 999):03d}",
        "charges": rng.choice(
            (
                "Murder of peacekeepers",
                "Terrorism; murder",
                "Attempted murder",
                "War crime of attacking peacekeepers",
                "Armed robbery; assault",
            )
        ),
        "current_stage": steps[-1][0] if steps else None,
        "created_at": stamp,
        "updated_at": stamp,
        "version": 1,
    }
    case_events = [_event(stage, on, stamp) for stage, on in steps if stage in CASE_LEVEL]
    defendant_steps = [(stage, on) for stage, on in steps if stage not in CASE_LEVEL]
    defendants = []
    if defendant_steps:
        for number in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
            own = (
                defendant_steps
                if number == 0
                else defendant_steps[: rng.randint(1, len(defendant_steps))]
            )
            last = own[-1][0]
            convicted = last in {"convicted", "sentenced", "appeal", "final"}
            months = rng.choice((60, 120, 240, 360)) if convicted else None
            defendants.append(
                {
                    "row": {
                        "alias": f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}",
                        "identifier": f"ID-{rng.randrange(10**6):06d}",
                        "affiliation": incident["perpetrator_name"],
                        "current_stage": last,
                        "verdict": "guilty"
                        if convicted
                        else ("not guilty" if last == "acquitted" else None),
                        "sentence": f"{months // 12} years' imprisonment" if months else None,
                        "sentence_months": months,
                        "created_at": stamp,
                        "updated_at": stamp,
                        "version": 1,
                    },
                    "events": [_event(stage, on, stamp) for stage, on in own],
                }
            )
    if case_events and rng.random() < 0.03:
        pending_day = min(case_events[-1]["occurred_on"] + timedelta(days=30), LAST_DAY)
        case_events.append(
            {
                **_event("investigation_opened", pending_day, stamp),
                "review_status": "pending",
                "note": "Update reported by the prosecuting State.",
            }
        )
    return {"case": case, "events": case_events, "defendants": defendants}


def _event(stage: str, on: date, stamp: datetime) -> dict[str, Any]:
    return {
        "stage": stage,
        "occurred_on": on,
        "note": "",
        "source_document": None,
        "review_status": "validated",
        "created_at": stamp,
        "updated_at": stamp,
        "version": 1,
    }


def _seed_assistance(
    db: Session, rng: random.Random, world: _World, case_ids: list[int], report: DemoReport
) -> None:
    rows = []
    linked_cases = []
    for code in ("MINUSMA", "MINUSCA", "MONUSCO", "UNMISS", "UNAMID"):
        mission = world.missions[code]
        for year in range(FIRST_DAY.year, LAST_DAY.year + 1):
            active = _active_days(mission, year)
            for _ in range(rng.randint(1, 3) if active else 0):
                rows.append(_assistance(rng, mission, *active))  # type: ignore[misc]
                linked_cases.append(rng.sample(case_ids, min(len(case_ids), rng.randrange(3))))
    ids = _insert(db, CapacityAssistance, rows)
    links = [
        {"assistance_id": assistance_id, "case_id": case_id}
        for assistance_id, cases in zip(ids, linked_cases, strict=True)
        for case_id in cases
    ]
    insert_rows(db, assistance_cases, links)
    report.assistance = len(ids)


def _assistance(rng: random.Random, mission: Mission, first: date, last: date) -> dict[str, Any]:
    start = first + timedelta(days=rng.randrange((last - first).days + 1))
    stamp = datetime.combine(start, time(9), tzinfo=UTC)
    return {
        "recipient_state_code": mission.hosts[0].code,
        "mission_code": mission.code,
        "kind": rng.choice(ASSISTANCE_KIND.codes),
        "started_on": start,
        "ended_on": start + timedelta(days=rng.randrange(5, 90)),
        "participants": rng.randrange(5, 120),
        "description": "Support to national investigators and prosecutors. Demo data.",
        "created_at": stamp,
        "updated_at": stamp,
        "version": 1,
    }


def _seed_comments(
    db: Session,
    rng: random.Random,
    incidents: list[dict[str, Any]],
    ids: list[int],
    users: dict[str, int],
    report: DemoReport,
) -> None:
    rows = []
    for incident_id, incident in zip(ids, incidents, strict=True):
        if (
            incident["mission_code"] == "MINUSMA"
            and incident["status"] == "validated"
            and rng.random() < 0.02
        ):
            rows.append(
                {
                    "incident_id": incident_id,
                    "author_id": users["mali@capdb.example"],
                    "kind": "clarification_request",
                    "body": "Could the mission share the patrol report for this incident?",
                    "created_at": incident["created_at"] + timedelta(days=3),
                    "updated_at": incident["created_at"] + timedelta(days=3),
                    "version": 1,
                }
            )
    insert_rows(db, _table(Comment), rows)
    report.comments = len(rows)
