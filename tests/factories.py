"""Factories for test records: fixtures that return callables taking overrides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import count
from typing import Any

import pytest
from sqlalchemy.orm import Session

from incidents.models import Incident, Victim

_numbers = count(1)

IncidentFactory = Callable[..., Incident]
VictimFactory = Callable[..., Victim]


def incident_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "reference": f"MINUSMA-2021-{next(_numbers):04d}",
        "mission_code": "MINUSMA",
        "occurred_on": date(2021, 3, 14),
        "date_precision": "day",
        "country_code": "MLI",
        "place": "Aguelhok",
        "latitude": 18.44,
        "longitude": 1.41,
        "geo_precision": "exact",
        "means_of_attack": "ied",
        "attack_context": "convoy",
        "location_type": "road",
        "perpetrator_type": "unknown",
        "status": "validated",
    }
    values.update(overrides)
    return values


@pytest.fixture
def make_incident(db: Session) -> IncidentFactory:
    def make(**overrides: Any) -> Incident:
        incident = Incident(**incident_values(**overrides))
        db.add(incident)
        db.flush()
        return incident

    return make


@pytest.fixture
def make_victim(db: Session, make_incident: IncidentFactory) -> VictimFactory:
    def make(incident: Incident | None = None, **overrides: Any) -> Victim:
        values: dict[str, Any] = {
            "category": "contingent_military",
            "nationality_code": "TCD",
            "contributing_country_code": "TCD",
            "outcome": "injured",
            "sex": "male",
        }
        values.update(overrides)
        victim = Victim(incident=incident or make_incident(), **values)
        db.add(victim)
        db.flush()
        return victim

    return make
