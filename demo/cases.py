"""A demo judicial case: how far it climbed the ladder, its defendants and their events.

Plans are rows in memory; :mod:`demo.seed` writes them once the incidents have ids.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from demo.profiles import (
    CASE_LEVEL,
    FAMILY_NAMES,
    GIVEN_NAMES,
    LADDER,
    LAST_DAY,
)


def case_plan(rng: random.Random, incident: dict[str, Any]) -> dict[str, Any]:
    """A case row, its case-level events, and its defendants with their own events."""
    steps = _steps(rng, incident)
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
    defendants = _defendants(rng, incident, defendant_steps, stamp)
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


def _steps(rng: random.Random, incident: dict[str, Any]) -> list[tuple[str, date]]:
    """The stages the case reached and when: up the ladder until it stalls."""
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
    return steps


def _defendants(
    rng: random.Random,
    incident: dict[str, Any],
    steps: list[tuple[str, date]],
    stamp: datetime,
) -> list[dict[str, Any]]:
    """Each defendant's row and events: the first went as far as the case, others less."""
    defendants: list[dict[str, Any]] = []
    if not steps:
        return defendants
    for number in range(rng.choice((1, 1, 1, 2, 2, 3, 4))):
        own = steps if number == 0 else steps[: rng.randint(1, len(steps))]
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
    return defendants


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
