"""Fixtures for the API: clients that carry a user's bearer token, and a small world of
records in two missions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth import tokens
from auth.models import User
from incidents.attachments.models import Attachment, AttachmentFile
from incidents.models import (
    CapacityAssistance,
    Comment,
    Defendant,
    Incident,
    Job,
    JudicialCase,
    StageEvent,
    Victim,
)
from tests.factories import IncidentFactory, UserFactory

API = "/api/v1"


class ApiClient:
    """The test client, speaking JSON to the API with one user's token."""

    def __init__(self, client: FlaskClient, user: User, token: str) -> None:
        self.client = client
        self.user = user
        self.token = token

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **options: Any,
    ) -> TestResponse:
        return self.client.open(
            API + path,
            method=method,
            json=json,
            headers=self.auth | (headers or {}),
            **options,
        )

    def get(self, path: str, **options: Any) -> TestResponse:
        return self.request("GET", path, **options)

    def post(self, path: str, json: Any = None, **options: Any) -> TestResponse:
        return self.request("POST", path, json=json, **options)

    def patch(self, path: str, json: Any = None, **options: Any) -> TestResponse:
        return self.request("PATCH", path, json=json, **options)

    def delete(self, path: str, **options: Any) -> TestResponse:
        return self.request("DELETE", path, **options)


ApiAs = Callable[..., ApiClient]


def json_of(response: TestResponse) -> Any:
    """The JSON body of an answer, which must have one."""
    body = response.get_json()
    assert body is not None, response.data
    return body


def errors_of(response: TestResponse) -> dict[str, list[str]]:
    """The reasons, field by field, a request was refused for."""
    body = response.get_json()
    assert isinstance(body, dict), response.data
    errors: dict[str, list[str]] = body.get("errors", {})
    return errors


@pytest.fixture
def api_as(client: FlaskClient, db: Session, make_user: UserFactory) -> ApiAs:
    """A client acting with a new token of a new user of the role (or of the given user)."""

    def make(role: str = "analyst", *, user: User | None = None, **bindings: Any) -> ApiClient:
        user = user or make_user(role, **bindings)
        _token, value = tokens.create(db, user)
        return ApiClient(client, user, value)

    return make


@dataclass
class World:
    """A validated MINUSMA incident in Mali with a Chadian soldier killed and a French
    civilian injured, its case prosecuted by Mali with one defendant; and a MONUSCO draft
    in the DR Congo with its own case, comment and assistance record."""

    mali: Incident
    soldier: Victim
    civilian: Victim
    mali_case: JudicialCase
    defendant: Defendant
    event: StageEvent
    congo: Incident
    congo_victim: Victim
    congo_case: JudicialCase
    congo_defendant: Defendant
    congo_event: StageEvent
    congo_comment: Comment
    congo_assistance: CapacityAssistance
    # A background job of another user (an administrator's): only its owner sees it.
    others_job: Job
    # A document on the MONUSCO draft.
    congo_attachment: Attachment


@pytest.fixture
def world(db: Session, make_incident: IncidentFactory, make_user: UserFactory) -> World:
    author = make_user("admin")
    mali = make_incident(reference="MINUSMA-2021-0001", narrative="Convoy hit near Aguelhok")
    congo = make_incident(
        reference="MONUSCO-2022-0001",
        mission_code="MONUSCO",
        country_code="COD",
        place="Beni",
        latitude=0.49,
        longitude=29.47,
        status="draft",
    )
    soldier = Victim(
        incident=mali,
        category="contingent_military",
        nationality_code="TCD",
        contributing_country_code="TCD",
        outcome="killed",
        date_of_death=date(2021, 3, 14),
        name="Soldier A",
        identifier="UN-0000001",
    )
    civilian = Victim(
        incident=mali,
        category="international_civilian",
        nationality_code="FRA",
        outcome="injured",
        name="Civilian B",
    )
    congo_victim = Victim(
        incident=congo,
        category="formed_police_unit",
        nationality_code="SEN",
        contributing_country_code="SEN",
        outcome="injured",
        name="Officer C",
    )
    mali_case = JudicialCase(
        prosecuting_state_code="MLI", jurisdiction="ordinary", incidents=[mali]
    )
    congo_case = JudicialCase(
        prosecuting_state_code="COD", jurisdiction="military", incidents=[congo]
    )
    db.add_all([soldier, civilian, congo_victim, mali_case, congo_case])
    db.flush()
    defendant = Defendant(case_id=mali_case.id, alias="Abu X", identifier="ML-77")
    congo_defendant = Defendant(case_id=congo_case.id, alias="Commander Y")
    db.add_all([defendant, congo_defendant])
    db.flush()
    event = StageEvent(
        case_id=mali_case.id, stage="investigation_opened", occurred_on=date(2021, 4, 1)
    )
    congo_event = StageEvent(case_id=congo_case.id, stage="reported", occurred_on=date(2022, 1, 2))
    congo_comment = Comment(incident_id=congo.id, author_id=author.id, body="Any news?")
    congo_assistance = CapacityAssistance(
        recipient_state_code="COD",
        mission_code="MONUSCO",
        kind="training",
        started_on=date(2022, 2, 1),
        cases=[congo_case],
    )
    db.add_all([event, congo_event, congo_comment, congo_assistance])
    db.flush()
    others_job = Job(owner_id=author.id, kind="export", status="done", params={})
    congo_file = AttachmentFile(
        number=1, sha256="0" * 64, size=1, media_type="application/pdf", filename="flash.pdf"
    )
    congo_attachment = Attachment(
        incident_id=congo.id, title="Flash report", kind="report", files=[congo_file]
    )
    db.add_all([others_job, congo_attachment])
    db.flush()
    return World(
        mali=mali,
        soldier=soldier,
        civilian=civilian,
        mali_case=mali_case,
        defendant=defendant,
        event=event,
        congo=congo,
        congo_victim=congo_victim,
        congo_case=congo_case,
        congo_defendant=congo_defendant,
        congo_event=congo_event,
        congo_comment=congo_comment,
        congo_assistance=congo_assistance,
        others_job=others_job,
        congo_attachment=congo_attachment,
    )


def incident_body(**overrides: Any) -> dict[str, Any]:
    """A valid new MINUSMA incident with one victim, as a client would send it."""
    body: dict[str, Any] = {
        "mission": "MINUSMA",
        "occurred_on": "2021-06-01",
        "date_precision": "day",
        "country": "MLI",
        "place": "Gao",
        "latitude": 16.27,
        "longitude": -0.04,
        "geo_precision": "exact",
        "means_of_attack": "indirect_fire",
        "attack_context": "camp_attack",
        "location_type": "camp",
        "perpetrator_type": "armed_group",
        "narrative": "Mortar rounds on the camp.",
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
    body.update(overrides)
    return body
