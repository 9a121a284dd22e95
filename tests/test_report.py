"""The periodic report: its sections, its languages, its scope, and nothing fetched from outside."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner
from pypdf import PdfReader
from sqlalchemy.orm import Session

from auth.models import AuditEvent, User
from maps.report import stand_in_viewer
from tests.factories import IncidentFactory, LoginAs, VictimFactory
from tests.test_stats import World, build_world
from tests.test_trends import PERSONAL_DATA

FIGURE_TITLES = (
    "Incidents by mission",
    "Incidents by means of attack",
    "Fatalities by mission",
    "Fatalities by means of attack",
    "Victims by personnel category",
    "Victims by nationality",
    "Uniformed victims by contributing country",
    "Justice: how far the incidents got",
    "Median days from the incident to each step",
    "Accountability per host State",
    "Capacity-building assistance to host States per year",
)


@pytest.fixture
def world(db: Session, make_incident: IncidentFactory, make_victim: VictimFactory) -> World:
    return build_world(db, make_incident, make_victim)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def write_report(cli: FlaskCliRunner, tmp_path: Path, *options: str) -> str:
    out = tmp_path / "report.pdf"
    result = cli.invoke(
        args=["report", "--from", "2021-01-01", "--to", "2022-12-31", *options, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Wrote the report" in result.output
    return pdf_text(out.read_bytes())


def test_the_report_from_the_dashboard(
    client: FlaskClient, db: Session, login_as: LoginAs, world: World
) -> None:
    admin = login_as("admin")
    with client.get("/trends/report.pdf?date_from=2021-01-01&date_to=2022-12-31") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.headers["Cache-Control"] == "no-store"
        assert "attachment" in response.headers["Content-Disposition"]
        text = pdf_text(response.data)
    assert "Crimes against peacekeepers" in text
    assert "Periodic report" in text
    assert "2021-01-01 – 2022-12-31" in text
    assert "Generated on" in text
    for title in FIGURE_TITLES:
        assert title in text
    assert "Host States" in text
    # An administrator sees the draft F too: 8 incidents, the deleted one never counts; in
    # Mali, F's conviction took 212 days and A's 179.
    assert "Incidents 8" in text
    assert "Median days to conviction 195.5" in text
    for secret in PERSONAL_DATA:
        assert secret not in text
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.user_id == admin.id)).one()
    assert (event.action, event.target_id) == ("export", "report")


def test_the_command_writes_a_french_report(
    cli: FlaskCliRunner, tmp_path: Path, world: World
) -> None:
    text = write_report(cli, tmp_path, "--lang", "fr")
    for heading in (
        "Crimes contre les Casques bleus",
        "Rapport périodique",
        "Période",
        "Généré le",
        "En chiffres",
        "Incidents par mission",
        "Victimes par catégorie de personnel",
        "États hôtes",
    ):
        assert heading in text
    # Labels from the vocabularies and country names, in French too.
    assert "Catégorie de personnel" in text
    assert "Militaire de contingent" in text
    assert "Tué" in text
    assert "Engin explosif improvisé" in text
    assert "Suspect identifié" in text
    assert "République démocratique du Congo" in text
    for english in ("Periodic report", "Host States", "Killed", "Contingent military"):
        assert english not in text
    for secret in PERSONAL_DATA:
        assert secret not in text


def test_a_state_s_report_shows_what_its_focal_points_see(
    cli: FlaskCliRunner, tmp_path: Path, world: World
) -> None:
    text = write_report(cli, tmp_path, "--state", "tcd")
    assert "State Chad" in text
    assert "Incidents 2" in text  # A and B, where Chadian soldiers fell
    assert "Mali" in text
    for elsewhere in ("South Sudan", "Niger", "MONUSCO", "UNMISS"):
        assert elsewhere not in text


def test_the_command_acts_as_no_stored_user_and_is_audited(
    cli: FlaskCliRunner, db: Session, tmp_path: Path, world: World
) -> None:
    users = db.scalar(sa.select(sa.func.count()).select_from(User))
    write_report(cli, tmp_path, "--state", "MLI")
    assert db.scalar(sa.select(sa.func.count()).select_from(User)) == users
    event = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert event.actor == "report command"
    assert event.detail["filters"] == {
        "date_from": "2021-01-01",
        "date_to": "2022-12-31",
        "state": "MLI",
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--from", "2021-02-30", "--to", "2021-12-31"], "--from: Enter a date as YYYY-MM-DD."),
        (["--from", "2021-01-01", "--to", "2020-12-31"], "--to: The end date is before"),
        (["--from", "2021-01-01", "--to", "2021-12-31", "--state", "ZZZ"], "--state: Unknown"),
        (["--from", "2021-01-01", "--to", "2021-12-31", "--lang", "de"], "'de' is not one of"),
        (["--from", "2021-01-01"], "Missing option '--to'"),
    ],
)
def test_the_command_explains_bad_options(
    cli: FlaskCliRunner, tmp_path: Path, options: list[str], message: str
) -> None:
    out = tmp_path / "report.pdf"
    result = cli.invoke(args=["report", *options, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


def test_the_stand_in_viewer_has_the_scope_asked_for() -> None:
    state = stand_in_viewer("TCD")
    assert (state.role, state.state_code, state.is_authenticated) == ("member_state", "TCD", True)
    assert stand_in_viewer(None).role == "admin"
