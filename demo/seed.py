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
from collections.abc import Callable, Iterator
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
from demo.accounts import DEMO_ACCOUNTS, demo_password
from demo.cases import case_plan
from demo.profiles import (
    CATEGORIES,
    CONTEXTS,
    FAMILY_NAMES,
    FIRST_DAY,
    GIVEN_NAMES,
    INTERNATIONAL_STAFF,
    LAST_DAY,
    LOCATIONS,
    MEANS_PROFILES,
    MISSION_INTENSITY,
    PERPETRATORS,
)
from incidents import concerned
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
from incidents.reference.missions import PRESENCE_PREFIX, presence_in
from maps.figure_upkeep import rebuild as rebuild_figures

BATCH = 5_000


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
    concerned.fill(db)  # the States they concern: inserted past the session's hook
    _seed_assistance(db, rng, world, case_ids, report)
    _seed_comments(db, rng, incident_rows, ids, users, report)
    rebuild_figures(db)  # the figures maps and trends read, past the session's hook too
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
    for account in DEMO_ACCOUNTS:
        for code in account["missions"]:
            if code.startswith(PRESENCE_PREFIX):
                presence_in(db, code.removeprefix(PRESENCE_PREFIX), by=None)
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
                locale=account.get("locale"),
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
    plans = [case_plan(rng, incident) for _, incident in chosen]
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
