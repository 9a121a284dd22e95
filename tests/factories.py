"""Factories for test records: fixtures that return callables taking overrides."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from itertools import count
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth import sessions
from auth.models import User, UserSession
from auth.passwords import hash_password
from capdb.db import utcnow
from capdb.reference import Mission
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


# One argon2id hash for every test account: hashing is slow by design.
TEST_PASSWORD = "correct horse battery staple"
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPTESTTEST"


@cache
def test_password_hash() -> str:
    return hash_password(TEST_PASSWORD)


UserFactory = Callable[..., User]
LoginAs = Callable[..., User]


@pytest.fixture
def make_user(db: Session) -> UserFactory:
    """A user of the role, bound to ``missions`` or ``state`` as the role needs."""

    def make(
        role: str = "analyst",
        *,
        email: str | None = None,
        missions: tuple[str, ...] = (),
        state: str | None = None,
        totp_secret: str | None = TEST_TOTP_SECRET,
        active: bool = True,
    ) -> User:
        if role == "mission" and not missions:
            missions = ("MINUSMA",)
        if role == "member_state" and state is None:
            state = "TCD"
        user = User(
            email=email or f"{role}-{next(_numbers)}@capdb.test",
            password_hash=test_password_hash(),
            role=role,
            state_code=state,
            totp_secret=totp_secret,
            active=active,
            missions=[db.get_one(Mission, code) for code in missions],
        )
        db.add(user)
        db.flush()
        return user

    return make


@pytest.fixture
def login_as(client: FlaskClient, db: Session, make_user: UserFactory) -> LoginAs:
    """Sign the test client in as a new user of the role (or as the given user).

    Opens a server-side session directly, as a completed login would; the login
    itself is tested step by step in test_login.py.
    """

    def sign_in(role: str = "analyst", *, user: User | None = None, **bindings: Any) -> User:
        user = user or make_user(role, **bindings)
        token = secrets.token_urlsafe(32)
        db.add(UserSession(token_hash=sessions.token_hash(token), user_id=user.id))
        db.flush()
        with client.session_transaction() as browser_session:
            browser_session.clear()
            browser_session[sessions.SESSION_KEY] = token
        return user

    return sign_in


class MovableClock:
    """The application's clock, moved forward by the tests (the ``clock`` fixture)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@pytest.fixture
def clock(app: Flask) -> MovableClock:
    """The application's clock, for the test to move forward."""
    clock = MovableClock()
    app.extensions["capdb.clock"] = clock
    return clock
