"""Exports: exactly the filtered list in the viewer's scope, in four formats, audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from capdb.db import utcnow
from incidents.filters import IncidentFilters, scoped_incidents
from incidents.models import Incident, Victim
from incidents.transfer import exporting
from tests.factories import IncidentFactory, LoginAs, UserFactory

SECRET_NAME = "Aminata Secretname"


@pytest.fixture
def incidents(db: Session, make_incident: IncidentFactory) -> dict[str, Incident]:
    congo = {"mission_code": "MONUSCO", "country_code": "COD"}
    made = {
        "mali": make_incident(reference="E-1", occurred_on=date(2021, 3, 1)),
        "mali-draft": make_incident(reference="E-2", occurred_on=date(2021, 4, 1), status="draft"),
        "congo": make_incident(
            reference="E-3", occurred_on=date(2019, 6, 1), means_of_attack="small_arms",
            latitude=None, longitude=None, **congo,
        ),
        "congo-submitted": make_incident(
            reference="E-4", occurred_on=date(2020, 1, 1), status="submitted", **congo
        ),
        "deleted": make_incident(reference="E-5", deleted_at=utcnow()),
        "formula": make_incident(
            reference="E-6", occurred_on=date(2018, 1, 1), place='=HYPERLINK("http://evil")',
            perpetrator_name="+cmd|' /C calc'!A0", narrative="-2+3", sources="@SUM(A1)",
            longitude=-12.5,
        ),
    }  # fmt: skip
    soldier = {"category": "contingent_military"}
    civilian = {"category": "national_civilian", "nationality_code": "MLI"}
    db.add_all([
        Victim(incident=made["mali"], **soldier, nationality_code="TCD",
               contributing_country_code="TCD", outcome="killed", name=SECRET_NAME),
        Victim(incident=made["mali"], **civilian, outcome="injured"),
        Victim(incident=made["mali"], **civilian, outcome="injured", deleted_at=utcnow()),
        Victim(incident=made["congo"], **soldier, nationality_code="IND",
               contributing_country_code="IND", outcome="abducted"),
    ])  # fmt: skip
    db.flush()
    return made


def user_for(make_user: UserFactory, role: str) -> User:
    if role == "mission":
        return make_user(role, missions=("MINUSMA",))
    if role == "member_state":
        return make_user(role, state="TCD")
    return make_user(role)


def listed(app: Flask, db: Session, user: User, args: dict[str, str]) -> list[str]:
    """The references the incident list shows the user for the filter, newest first."""
    with app.test_request_context():
        filters, errors = IncidentFilters.parse(db, args)
    assert errors == {}
    query = scoped_incidents(user, filters).with_only_columns(Incident.reference)
    return list(db.scalars(query.order_by(Incident.occurred_on.desc(), Incident.id.desc())))


def references_in(export_format: str, data: bytes, tmp_path: Path) -> list[str]:
    """The incidents' references in an export's bytes, in its order."""
    if export_format == "csv":
        text = data.decode("utf-8").removeprefix("\ufeff")
        return [row[0] for row in list(csv.reader(io.StringIO(text)))[1:]]
    if export_format == "geojson":
        return [f["properties"]["Reference"] for f in json.loads(data)["features"]]
    path = tmp_path / f"export.{export_format}"
    path.write_bytes(data)
    if export_format == "xlsx":
        workbook = load_workbook(path, read_only=True)  # holds the file open until closed
        try:
            rows = workbook["Incidents"].iter_rows(min_row=2, values_only=True)
            return [str(row[0]) for row in rows]
        finally:
            workbook.close()
    return list(gpd.read_file(path)["Reference"])


def csv_rows(client: FlaskClient, query: str = "", **headers: str) -> list[list[str]]:
    with client.get(f"/incidents/export.csv{query}", headers=headers) as response:
        assert response.status_code == 200
        assert response.is_streamed
        assert response.headers["Cache-Control"] == "no-store"
        text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("role", ["analyst", "member_state", "mission", "admin"])
@pytest.mark.parametrize(
    "args",
    [{}, {"mission": "MINUSMA"}, {"date_from": "2020-01-01"}, {"outcome": "killed"}],
    ids=lambda args: "&".join(f"{k}={v}" for k, v in args.items()) or "no filter",
)
def test_the_csv_export_is_exactly_the_filtered_list(
    app: Flask,
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    make_user: UserFactory,
    incidents: dict[str, Incident],
    role: str,
    args: dict[str, str],
) -> None:
    user = login_as(user=user_for(make_user, role))
    query = "?" + "&".join(f"{k}={v}" for k, v in args.items())
    rows = csv_rows(client, query)
    assert [row[0] for row in rows[1:]] == listed(app, db, user, args)


@pytest.mark.parametrize("export_format", ["xlsx", "geojson", "gpkg"])
@pytest.mark.parametrize("role", ["analyst", "member_state", "mission"])
def test_every_format_holds_the_same_incidents(
    app: Flask,
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    make_user: UserFactory,
    incidents: dict[str, Incident],
    tmp_path: Path,
    export_format: str,
    role: str,
) -> None:
    user = login_as(user=user_for(make_user, role))
    with client.get(f"/incidents/export.{export_format}") as response:
        assert response.status_code == 200
        assert response.mimetype == exporting.MEDIA_TYPES[export_format]
        assert response.headers["Content-Disposition"].startswith("attachment;")
        data = response.data
        if export_format in ("xlsx", "gpkg"):  # sent from a finished file: its size is known
            assert response.content_length == len(data)
    assert references_in(export_format, data, tmp_path) == listed(app, db, user, {})


def test_victims_are_counted_by_outcome_and_never_named(
    client: FlaskClient, login_as: LoginAs, incidents: dict[str, Incident]
) -> None:
    login_as("admin")
    rows = csv_rows(client, "?q=E-")
    header = rows[0]
    by_reference = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    mali = by_reference["E-1"]
    assert (mali["Victims"], mali["Killed"], mali["Injured"], mali["Abducted"]) == (
        "2",
        "1",
        "1",
        "0",
    )
    assert by_reference["E-3"]["Abducted"] == "1"
    assert mali["Means of attack"] == "Improvised explosive device"
    assert mali["Country"] == "Mali"
    for export_format in exporting.FORMATS:
        with client.get(f"/incidents/export.{export_format}") as response:
            assert SECRET_NAME.encode() not in response.data


def test_headers_and_labels_follow_the_viewers_language(
    client: FlaskClient, login_as: LoginAs, incidents: dict[str, Incident]
) -> None:
    login_as("admin")
    rows = csv_rows(client, "?mission=MINUSMA", **{"Accept-Language": "fr"})
    assert rows[0][:3] == ["Référence", "Mission", "Date"]
    assert "Moyen d'attaque" in rows[0]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Moyen d'attaque"] == "Engin explosif improvisé"


def test_formulas_are_neutralised_in_csv_and_xlsx(
    client: FlaskClient, login_as: LoginAs, tmp_path: Path, incidents: dict[str, Incident]
) -> None:
    login_as("admin")
    expected = {
        "Place": '\'=HYPERLINK("http://evil")',
        "Perpetrator name": "'+cmd|' /C calc'!A0",
        "Narrative": "'-2+3",
        "Sources": "'@SUM(A1)",
    }
    rows = csv_rows(client, "?q=E-6")
    row = dict(zip(rows[0], rows[1], strict=True))
    assert {name: row[name] for name in expected} == expected
    assert row["Longitude"] == "-12.5"  # numbers are not text a spreadsheet would run
    with client.get("/incidents/export.xlsx?q=E-6") as response:
        (tmp_path / "f.xlsx").write_bytes(response.data)
    sheet = load_workbook(tmp_path / "f.xlsx")["Incidents"]
    headers = [cell.value for cell in sheet[1]]
    cells = dict(zip(headers, sheet[2], strict=True))
    assert {name: cells[name].value for name in expected} == expected
    assert all(cells[name].data_type == "s" for name in expected)
    assert cells["Longitude"].value == -12.5
    assert cells["Date"].is_date


def test_geojson_features_carry_points_or_no_geometry(
    client: FlaskClient, login_as: LoginAs, incidents: dict[str, Incident]
) -> None:
    login_as("admin")
    with client.get("/incidents/export.geojson?mission=MONUSCO") as response:
        assert response.is_streamed
        collection = json.loads(response.data)
    features = {f["properties"]["Reference"]: f for f in collection["features"]}
    assert features["E-3"]["geometry"] is None
    assert features["E-4"]["geometry"] == {"type": "Point", "coordinates": [1.41, 18.44]}
    frame = gpd.read_file(io.BytesIO(json.dumps(collection).encode()))
    assert sorted(frame["Reference"]) == ["E-3", "E-4"]


def test_an_empty_export_is_still_a_readable_file(
    client: FlaskClient, login_as: LoginAs, tmp_path: Path
) -> None:
    login_as("analyst")
    for export_format in ("gpkg", "geojson"):
        with client.get(f"/incidents/export.{export_format}?q=nothing-matches") as response:
            path = tmp_path / f"empty.{export_format}"
            path.write_bytes(response.data)
        frame = gpd.read_file(path)
        assert len(frame) == 0
    assert csv_rows(client, "?q=nothing-matches")[1:] == []


def test_each_export_is_audited_with_its_filter_and_row_count(
    client: FlaskClient, db: Session, login_as: LoginAs, incidents: dict[str, Incident]
) -> None:
    user = login_as("analyst")
    for export_format in exporting.FORMATS:
        with client.get(f"/incidents/export.{export_format}?mission=MINUSMA&sort=date") as r:
            assert r.status_code == 200
    events = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    ).all()
    assert [e.detail["format"] for e in events] == list(exporting.FORMATS)
    for event in events:
        assert (event.user_id, event.target_type) == (user.id, "incidents")
        assert event.detail["filters"] == {"mission": "MINUSMA"}
        assert event.detail["sort"] == "date"
        assert event.detail["rows"] == 2  # E-1 and E-6; the draft is not the analyst's


def test_the_export_follows_the_lists_order(
    client: FlaskClient, login_as: LoginAs, incidents: dict[str, Incident]
) -> None:
    login_as("admin")
    rows = csv_rows(client, "?sort=reference")
    assert [row[0] for row in rows[1:]] == ["E-1", "E-2", "E-3", "E-4", "E-6"]


@pytest.mark.parametrize(
    ("query", "field"),
    [("?mission=NOSUCH", "mission"), ("?date_from=yesterday", "date_from"), ("?sort=x", "sort")],
)
def test_a_bad_filter_is_refused_with_its_reason(
    client: FlaskClient, db: Session, login_as: LoginAs, query: str, field: str
) -> None:
    login_as("analyst")
    response = client.get(f"/incidents/export.csv{query}")
    assert response.status_code == 400
    assert f"\n{field}: " in response.text
    exports = sa.select(sa.func.count()).where(AuditEvent.action == "export")
    assert db.scalar(exports) == 0


def test_the_command_exports_in_a_users_scope(
    cli: FlaskCliRunner,
    db: Session,
    make_user: UserFactory,
    tmp_path: Path,
    incidents: dict[str, Incident],
) -> None:
    analyst = make_user("analyst")
    export = ["incidents", "export", "--format", "csv"]
    result = cli.invoke(args=[*export, "--as", analyst.email, "--date-from", "2019-01-01"])
    assert result.exit_code == 0, result.output
    lines = list(csv.reader(io.StringIO(result.stdout.lstrip("\ufeff"))))
    assert [line[0] for line in lines[1:]] == ["E-1", "E-3"]
    out = tmp_path / "all.gpkg"
    result = cli.invoke(args=["incidents", "export", "--format", "gpkg", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(gpd.read_file(out)["Reference"]) == ["E-1", "E-2", "E-3", "E-4", "E-6"]
    actors = db.scalars(sa.select(AuditEvent.actor).where(AuditEvent.action == "export")).all()
    assert list(actors) == [analyst.email, "console"]


def test_the_command_refuses_a_bad_filter_and_a_binary_format_without_a_file(
    cli: FlaskCliRunner,
) -> None:
    result = cli.invoke(args=["incidents", "export", "--format", "csv", "--mission", "NOSUCH"])
    assert result.exit_code == 1
    assert "--mission: Unknown mission." in result.output
    result = cli.invoke(args=["incidents", "export", "--format", "xlsx"])
    assert result.exit_code == 1
    assert "--out" in result.output


def test_neutralise_prefixes_only_what_a_spreadsheet_would_run() -> None:
    starts = ["=1", "+1", "-1", "@A", "\tx", "\rx"]
    assert [exporting.neutralise(s) for s in starts] == ["'" + s for s in starts]
    assert exporting.neutralise("Gao, 3 km = north") == "Gao, 3 km = north"


def test_the_csv_is_written_a_batch_at_a_time(
    app: Flask,
    db: Session,
    make_user: UserFactory,
    incidents: dict[str, Incident],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exporting, "BATCH", 2)
    wanted = exporting.ExportRequest(make_user("admin"), IncidentFilters())
    with app.app_context():
        chunks = list(exporting.csv_chunks(db, wanted))
    assert [chunk.count("\r\n") for chunk in chunks] == [3, 2, 1]  # header + 5 rows


def test_an_unknown_format_is_not_found(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("admin")
    assert client.get("/incidents/export.pdf").status_code == 404
    assert client.get("/incidents/import/template.ods").status_code == 404
