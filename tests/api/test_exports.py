"""Exports through the API: the same files as the list's downloads, in the token's scope."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import AuditEvent
from incidents.models import Incident
from incidents.transfer import exporting
from tests.api.conftest import API, ApiAs, errors_of
from tests.factories import UserFactory
from tests.test_export import SECRET_NAME, incidents, listed, references_in, user_for

__all__ = ["incidents"]  # the fixture, used by name

ROLES = ["analyst", "member_state", "mission", "admin"]


@pytest.mark.parametrize("export_format", exporting.FORMATS)
@pytest.mark.parametrize("role", ROLES)
def test_each_format_is_exactly_the_list_in_the_tokens_scope(
    app: Flask,
    db: Session,
    api_as: ApiAs,
    make_user: UserFactory,
    incidents: dict[str, Incident],
    tmp_path: Path,
    export_format: str,
    role: str,
) -> None:
    client = api_as(user=user_for(make_user, role))
    with client.get(f"/incidents/export.{export_format}?date_from=2019-01-01") as response:
        assert response.status_code == 200
        assert response.mimetype == exporting.MEDIA_TYPES[export_format]
        assert response.headers["Content-Disposition"].startswith("attachment;")
        assert response.headers["Cache-Control"] == "no-store"
        data = response.data
    assert SECRET_NAME.encode() not in data
    expected = listed(app, db, client.user, {"date_from": "2019-01-01"})
    assert references_in(export_format, data, tmp_path) == expected


def test_the_export_follows_the_sort_and_the_requests_language(
    api_as: ApiAs, incidents: dict[str, Incident]
) -> None:
    client = api_as("admin")
    response = client.get("/incidents/export.csv?sort=reference", headers={"Accept-Language": "fr"})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[0][:3] == ["Référence", "Mission", "Date"]
    assert [row[0] for row in rows[1:]] == ["E-1", "E-2", "E-3", "E-4", "E-6"]


def test_each_api_export_is_audited_with_its_filter_and_row_count(
    db: Session, api_as: ApiAs, incidents: dict[str, Incident]
) -> None:
    client = api_as("analyst")
    with client.get("/incidents/export.xlsx?mission=MINUSMA") as response:
        assert response.status_code == 200
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event.user_id == client.user.id
    assert event.detail == {
        "format": "xlsx",
        "filters": {"mission": "MINUSMA"},
        "sort": "-date",
        "rows": 2,  # E-1 and E-6; the draft is not the analyst's
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [("?mission=NOSUCH", "mission"), ("?date_from=yesterday", "date_from"), ("?sort=x", "sort")],
)
def test_a_bad_filter_names_its_field(db: Session, api_as: ApiAs, query: str, field: str) -> None:
    response = api_as("analyst").get(f"/incidents/export.csv{query}")
    assert response.status_code == 400
    assert field in errors_of(response)
    assert db.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == 0


def test_an_export_needs_a_token_and_a_known_format(client: FlaskClient, api_as: ApiAs) -> None:
    assert client.get(f"{API}/incidents/export.csv").status_code == 401
    assert api_as("analyst").get("/incidents/export.pdf").status_code == 404


def test_the_document_describes_the_export(api_as: ApiAs) -> None:
    document = api_as("analyst").get("/openapi.json").get_json()
    path = document["paths"]["/api/v1/incidents/export.{export_format}"]
    operation = path["get"]
    (path_parameter,) = path["parameters"]
    assert path_parameter["schema"]["enum"] == list(exporting.FORMATS)
    assert set(operation["responses"]["200"]["content"]) == set(exporting.MEDIA_TYPES.values())
    assert {"sort", "mission", "date_from"} <= {p["name"] for p in operation["parameters"]}
