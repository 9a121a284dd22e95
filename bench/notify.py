"""What notifying costs the validation request: an incident concerning 5 States, each with
10 focal points (50 recipients).

    .venv/bin/python bench/notify.py --incidents 100000

Seeds a scratch PostgreSQL schema, adds 50 focal points of Mali (the host), Chad, Niger,
Senegal and Burkina Faso and submitted incidents whose victims come from the four others,
then validates them through the page (POST /incidents/ID/validate, the whole request in
the server), alternately with the notification listeners connected and disconnected. The
difference of the medians is what notifying adds: one INSERT ... SELECT of the 50
notifications and a message to the job queue after the commit; no mail is written or sent
in the request. Budget: under 20 ms.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import time

import checkout  # noqa: F401 (first: this checkout's packages)
import sqlalchemy as sa
from flask import Flask
from scratch import scratch_app, settle, signed_in_client

from auth.models import User
from capdb.reference import Mission
from demo.seed import seed_demo
from incidents.models import Incident, Victim
from incidents.signals import incident_step
from notifications import events
from notifications.models import Notification

SCHEMA = "capdb_bench_notify"
STATES = ("MLI", "TCD", "NER", "SEN", "BFA")
FOCAL_POINTS_PER_STATE = 10
REPEATS = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument(
        "--queue",
        default="redis://127.0.0.1:6379/15",
        help="the job queue's Redis, as in production; 'sqlite' for the embedded one",
    )
    args = parser.parse_args()
    redis_url = "" if args.queue == "sqlite" else args.queue
    with scratch_app(SCHEMA, redis_url=redis_url) as app:
        with app.extensions["capdb.db"].sessionmaker.begin() as session:
            seed_demo(session, args.incidents, 2589)
        validator = add_people(app)
        incidents = submitted_incidents(app, 2 * REPEATS + 2)
        settle(app)
        client = signed_in_client(app, validator)
        timings: dict[bool, list[float]] = {True: [], False: []}
        for number, incident_id in enumerate(incidents):
            notifying = number % 2 == 0
            timings[notifying].append(validate(app, client, incident_id, notifying=notifying))
        with_ms = statistics.median(timings[True][1:])
        without_ms = statistics.median(timings[False][1:])
        told = notifications_per_incident(app)
        listener_ms = listener_alone(app, validator, incidents[-1])
        print(f"{args.incidents} incidents; {len(incidents) // 2} validations each way;")
        print(f"job queue: {args.queue}; load average {os.getloadavg()[0]:.1f}")
        print(f"notifications written per validation: {told}")
        print(f"validation request, median: {with_ms:.1f} ms with notifications,")
        print(f"                            {without_ms:.1f} ms without")
        print(f"added by notifying: {with_ms - without_ms:.1f} ms (budget < 20 ms)")
        print(f"the listener alone (the INSERT ... SELECT), median: {listener_ms:.1f} ms")


def add_people(app: Flask) -> str:
    """The 50 focal points and a validator of MINUSMA; the validator's email."""
    email = f"validator-{secrets.token_hex(3)}@capdb.example"
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        for state in STATES:
            for number in range(FOCAL_POINTS_PER_STATE):
                session.add(
                    User(
                        email=f"focal-{number}@{state.lower()}.example",
                        password_hash="!",  # noqa: S106 (no password: never signs in)
                        role="member_state",
                        state_code=state,
                    )
                )
        session.add(
            User(
                email=email,
                password_hash="!",  # noqa: S106 (no password: never signs in)
                role="mission",
                missions=[session.get_one(Mission, "MINUSMA")],
            )
        )
    return email


def submitted_incidents(app: Flask, count: int) -> list[int]:
    """MINUSMA incidents in Mali, each with victims of the four other States."""
    ids = []
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        template = session.scalars(
            sa.select(Incident).where(Incident.mission_code == "MINUSMA").limit(1)
        ).one()
        for number in range(count):
            incident = Incident(
                reference=f"MINUSMA-BENCH-{number:04d}",
                mission_code="MINUSMA",
                occurred_on=template.occurred_on,
                date_precision="day",
                country_code="MLI",
                place="Gao",
                geo_precision="country",
                means_of_attack=template.means_of_attack,
                attack_context=template.attack_context,
                location_type=template.location_type,
                perpetrator_type=template.perpetrator_type,
                status="submitted",
            )
            session.add(incident)
            session.flush()
            for state in STATES[1:]:
                session.add(
                    Victim(
                        incident_id=incident.id,
                        category="contingent_military",
                        nationality_code=state,
                        contributing_country_code=state,
                        outcome="injured",
                    )
                )
            ids.append(incident.id)
    return ids


def validate(app: Flask, client: object, incident_id: int, *, notifying: bool) -> float:
    """Milliseconds of the validation request, with or without the listeners."""
    if not notifying:
        incident_step.disconnect(events.on_incident_step)
    try:
        page = client.get(f"/incidents/{incident_id}")  # type: ignore[attr-defined]
        assert page.status_code == 200, page.status_code
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        with app.extensions["capdb.db"].sessionmaker() as session:
            version = session.get_one(Incident, incident_id).version
        started = time.perf_counter()
        answer = client.post(  # type: ignore[attr-defined]
            f"/incidents/{incident_id}/validate",
            data={"csrf_token": token, "version": str(version)},
        )
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code == 303, answer.status_code
        return elapsed
    finally:
        incident_step.connect(events.on_incident_step)


def listener_alone(app: Flask, validator: str, incident_id: int) -> float:
    """Milliseconds of the listener's work in the request's transaction (rolled back)."""
    timings = []
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker() as session:
        user = session.scalars(sa.select(User).where(User.email == validator)).one()
        incident = session.get_one(Incident, incident_id)
        for _ in range(REPEATS):
            with session.begin_nested() as attempt:
                started = time.perf_counter()
                events.on_incident_step(session, incident=incident, step="validate", user=user)
                timings.append((time.perf_counter() - started) * 1000)
                attempt.rollback()
    return statistics.median(timings)


def notifications_per_incident(app: Flask) -> float:
    with app.extensions["capdb.db"].sessionmaker() as session:
        rows = session.execute(
            sa.select(Notification.incident_id, sa.func.count()).group_by(Notification.incident_id)
        ).all()
    return statistics.mean(count for _, count in rows)


if __name__ == "__main__":
    main()
