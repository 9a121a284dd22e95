"""The simulated users of ``bench/load.py`` (locust loads this file; run ``load.py``).

Three journeys, each user signing in once through the pages with its own account and TOTP
secret, then keeping its session:

- a mission officer records an incident and submits it (API, with its token), then opens
  it and the mission's list (pages);
- a Member State focal point reviews its incidents and cases, and downloads dossiers (PDF);
- an analyst lists, maps, charts and exports filtered incidents.

Each request is named by its kind ("page: incident detail", "PDF: case dossier"...), so that
locust's statistics are per kind. Anything but the expected status is a failure.
"""

from __future__ import annotations

import json
import os
import random
import uuid
from typing import Any

import pyotp
from locust import HttpUser, between, events, task

PLAN: dict[str, Any] = json.loads(open(os.environ["BENCH_PLAN"]).read())  # noqa: SIM115
CSRF_MARK = 'name="csrf_token"'
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "200000"))
sent = 0


@events.request.add_listener
def stop_after_enough(**_: Any) -> None:
    """A bound on the number of requests, besides locust's bound on time."""
    global sent
    sent += 1
    if sent >= MAX_REQUESTS and (runner := events_environment.get("runner")) is not None:
        runner.quit()


events_environment: dict[str, Any] = {}


@events.init.add_listener
def keep_environment(environment: Any, **_: Any) -> None:
    events_environment["runner"] = environment.runner


def csrf(page: str) -> str:
    start = page.index(CSRF_MARK)
    value = page.index('value="', start) + len('value="')
    return page[value : page.index('"', value)]


class Person(HttpUser):
    """A signed-in user of capdb; subclasses take their accounts from the plan."""

    abstract = True
    wait_time = between(1, 3)
    accounts_key = ""

    def on_start(self) -> None:
        self.account = PLAN[self.accounts_key].pop()
        login = self.client.get("/auth/login", name="login: page")
        password_step = self.client.post(
            "/auth/login",
            name="login: password",
            data={
                "email": self.account["email"],
                "password": self.account["password"],
                "csrf_token": csrf(login.text),
            },
        )
        code = pyotp.TOTP(self.account["totp"]).now()
        with self.client.post(
            "/auth/mfa",
            name="login: code",
            data={"code": code, "csrf_token": csrf(password_step.text)},
            catch_response=True,
        ) as signed_in:
            if "/auth/" in signed_in.url:
                signed_in.failure("not signed in")

    def fetch(self, kind: str, url: str, **options: Any) -> Any:
        """GET ``url``, a failure unless it answers 200 itself (no redirect to sign in)."""
        with self.client.get(
            url, name=kind, allow_redirects=False, catch_response=True, **options
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}: {response.text[:200]}")
            return response


class MissionOfficer(Person):
    accounts_key = "officers"
    fixed_count = len(PLAN["officers"])

    @task(2)
    def record_and_submit(self) -> None:
        created = self.send("API: record incident", "/api/v1/incidents", new_incident(), 201)
        if created is None:
            return
        url = f"/api/v1/incidents/{created['id']}/submit"
        self.send("API: submit incident", url, {"version": created["version"]}, 200)
        self.fetch("page: incident detail", f"/incidents/{created['id']}")

    def send(self, kind: str, url: str, body: dict[str, Any], expected: int) -> Any:
        """POST ``body`` with the officer's token; the answer's JSON, or None on failure."""
        headers = {
            "Authorization": f"Bearer {self.account['token']}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        with self.client.post(
            url, name=kind, json=body, headers=headers, catch_response=True
        ) as response:
            if response.status_code != expected:
                response.failure(f"status {response.status_code}: {response.text[:300]}")
                return None
            return response.json()

    @task(1)
    def mission_list(self) -> None:
        self.fetch("page: incident list", "/incidents/?mission=MINUSMA")


class FocalPoint(Person):
    accounts_key = "focal_points"
    fixed_count = len(PLAN["focal_points"])

    @task(2)
    def incident_list(self) -> None:
        self.fetch("page: incident list", "/incidents/")

    @task(4)
    def incident_detail(self) -> None:
        incident = random.choice(self.account["incidents"])
        self.fetch("page: incident detail", f"/incidents/{incident}")

    @task(3)
    def case_detail(self) -> None:
        self.fetch("page: case detail", f"/cases/{random.choice(self.account['cases'])}")

    @task(1)
    def case_dossier(self) -> None:
        case = random.choice(self.account["cases"])
        self.fetch("PDF: case dossier", f"/cases/{case}/dossier.pdf")

    @task(1)
    def incident_dossier(self) -> None:
        incident = random.choice(self.account["incidents"])
        self.fetch("PDF: incident dossier", f"/incidents/{incident}/dossier.pdf")


class Analyst(Person):
    accounts_key = "analysts"
    fixed_count = len(PLAN["analysts"])

    def filters(self) -> str:
        year = random.choice(PLAN["years"])
        mission = random.choice(PLAN["missions"])
        return f"mission={mission}&date_from={year}-01-01&date_to={year}-12-31"

    @task(4)
    def incident_list(self) -> None:
        self.fetch("page: incident list", f"/incidents/?{self.filters()}")

    @task(1)
    def map_page(self) -> None:
        self.fetch("page: map", f"/maps/?{self.filters()}")

    @task(2)
    def map_data(self) -> None:
        self.fetch(
            "data: map clusters",
            f"/maps/data/clusters?zoom=2&bbox=-180,-85,180,85&{self.filters()}",
        )

    @task(2)
    def trends(self) -> None:
        year = random.choice(PLAN["years"])
        self.fetch(
            "page: trends", f"/trends/?date_from={year}-01-01&date_to={year}-12-31&period=month"
        )

    @task(1)
    def export(self) -> None:
        self.fetch("export: CSV", f"/incidents/export.csv?{self.filters()}")


def new_incident() -> dict[str, Any]:
    """A new MINUSMA incident with one victim, as a mission officer's client sends it."""
    return {
        "mission": "MINUSMA",
        "occurred_on": f"2022-{random.randint(1, 12):02d}-{random.randint(1, 28):02d}",
        "date_precision": "day",
        "country": "MLI",
        "place": random.choice(["Gao", "Kidal", "Timbuktu", "Mopti"]),
        "latitude": round(random.uniform(14.0, 18.0), 4),
        "longitude": round(random.uniform(-4.0, 1.0), 4),
        "geo_precision": "exact",
        "means_of_attack": "indirect_fire",
        "attack_context": "camp_attack",
        "location_type": "camp",
        "perpetrator_type": "armed_group",
        "narrative": "Mortar rounds on the camp (load test).",
        "victims": [
            {
                "category": "contingent_military",
                "nationality": "TCD",
                "contributing_country": "TCD",
                "sex": "male",
                "outcome": "injured",
                "name": "Soldier D",
            }
        ],
    }
