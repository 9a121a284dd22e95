"""Admin areas derived from each incident's point, on hand-made boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy.orm import Session

from incidents.models import Incident, RecordVersion
from maps.assign import AssignReport, assign_areas
from maps.boundaries import Candidate, replace_level
from tests.factories import IncidentFactory, LoginAs
from tests.test_boundaries import admin1_features, write_geojson
from tests.test_recording import post, valid_incident

# Mali is the square (-4, 10)-(4, 20), split at longitude 0 into "West" and "East"; a
# "Corridor" overlaps both; Niger lies east of Mali.
MALI = shapely.box(-4, 10, 4, 20)
NIGER = shapely.box(4, 10, 12, 20)
WEST = shapely.box(-4, 10, 0, 20)
EAST = shapely.box(0, 10, 4, 20)
CORRIDOR = shapely.box(-1, 12, 1, 13)
DISTRICT = shapely.box(1, 15, 2, 16)


def area(code: str, name: str, geometry: shapely.Geometry) -> Candidate:
    return Candidate(code, name, "MLI", None, geometry)


@pytest.fixture
def boundaries(db: Session) -> None:
    replace_level(
        db,
        "admin0",
        [
            Candidate("MLI", "Mali", "MLI", None, MALI),
            Candidate("NER", "Niger", "NER", None, NIGER),
        ],
        source="test",
    )
    replace_level(
        db,
        "admin1",
        [
            area("ML-W", "West", WEST),
            area("ML-E", "East", EAST),
            area("ML-C", "Corridor", CORRIDOR),
        ],
        source="test",
    )
    replace_level(db, "admin2", [area("ML-E-1", "District", DISTRICT)], source="test")


def areas_of(db: Session, incident: Incident) -> tuple[object, ...]:
    db.refresh(incident)
    return (
        incident.admin1,
        incident.admin1_code,
        incident.admin2,
        incident.admin2_code,
        incident.outside_mission_area,
    )


@pytest.mark.usefixtures("boundaries")
@pytest.mark.parametrize(
    ("longitude", "latitude", "expected"),
    [
        (-2.0, 15.0, ("West", "ML-W", None, None, False)),
        (1.5, 15.5, ("East", "ML-E", "District", "ML-E-1", False)),
        # On the border of West and East, inside neither: the smaller code.
        (0.0, 18.0, ("East", "ML-E", None, None, False)),
        # On the border, but inside the Corridor: the area that holds it wins.
        (0.0, 12.5, ("Corridor", "ML-C", None, None, False)),
        # Inside West and the overlapping Corridor: the smaller code.
        (-0.5, 12.5, ("Corridor", "ML-C", None, None, False)),
        # In Niger: no admin1 of Mali, and outside MINUSMA's host country.
        (8.0, 15.0, (None, None, None, None, True)),
        # In the sea, outside every area.
        (-20.0, 15.0, (None, None, None, None, True)),
    ],
)
def test_each_point_gets_the_areas_it_lies_in(
    db: Session,
    make_incident: IncidentFactory,
    longitude: float,
    latitude: float,
    expected: tuple[object, ...],
) -> None:
    incident = make_incident(longitude=longitude, latitude=latitude)
    report = assign_areas(db, [incident.id])
    assert report.incidents == 1
    assert areas_of(db, incident) == expected


@pytest.mark.usefixtures("boundaries")
def test_an_incident_without_coordinates_has_no_area_and_is_not_flagged(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(longitude=None, latitude=None, geo_precision="country")
    assign_areas(db, [incident.id])
    assert areas_of(db, incident) == (None, None, None, None, False)


@pytest.mark.usefixtures("boundaries")
def test_missions_without_a_loaded_host_country_are_never_flagged(
    db: Session, make_incident: IncidentFactory
) -> None:
    congo = make_incident(mission_code="MONUSCO", country_code="COD", longitude=8.0, latitude=15.0)
    assign_areas(db, [congo.id])
    assert areas_of(db, congo)[-1] is False


def test_nothing_is_flagged_without_country_boundaries(
    db: Session, make_incident: IncidentFactory
) -> None:
    replace_level(db, "admin1", [area("ML-W", "West", WEST)], source="test")
    incident = make_incident(longitude=-50.0, latitude=15.0)
    assign_areas(db)
    assert areas_of(db, incident) == (None, None, None, None, False)


@pytest.mark.usefixtures("boundaries")
def test_only_the_given_incidents_are_recomputed(
    db: Session, make_incident: IncidentFactory
) -> None:
    first = make_incident(longitude=-2.0, latitude=15.0)
    second = make_incident(longitude=-2.0, latitude=15.0)
    assign_areas(db, [first.id])
    assert areas_of(db, first)[1] == "ML-W"
    assert areas_of(db, second)[1] is None
    assert assign_areas(db) == AssignReport(incidents=2, changed=1)
    assert assign_areas(db) == AssignReport(incidents=2, changed=0)


@pytest.mark.usefixtures("boundaries")
def test_areas_are_derived_without_a_new_version_or_history(
    db: Session, make_incident: IncidentFactory
) -> None:
    incident = make_incident(longitude=-2.0, latitude=15.0)
    version, updated_at = incident.version, incident.updated_at
    report = assign_areas(db, [incident.id])
    assert report.changed == 1
    # The instance in the session sees the new values without a manual refresh.
    assert incident.admin1 == "West"
    db.refresh(incident)
    assert (incident.version, incident.updated_at) == (version, updated_at)
    assert db.scalar(sa.select(sa.func.count()).select_from(RecordVersion)) == 0


def test_reloading_boundaries_recomputes_every_incident(
    cli: FlaskCliRunner, db: Session, make_incident: IncidentFactory, tmp_path: Path
) -> None:
    in_gao = make_incident(longitude=-1.0, latitude=16.0)
    in_kidal = make_incident(longitude=1.0, latitude=19.0)
    path = write_geojson(tmp_path / "admin1.geojson", admin1_features())
    result = cli.invoke(args=["boundaries", "load", str(path), "--level", "admin1"])
    assert result.exit_code == 0, result.output
    assert "2 of 2 incidents got new admin areas" in result.output
    assert areas_of(db, in_gao)[:2] == ("Gao", "MLI.1")
    assert areas_of(db, in_kidal)[:2] == ("Kidal", "MLI.2")


@pytest.mark.usefixtures("boundaries")
def test_an_incident_saved_through_the_form_gets_its_areas(
    client: FlaskClient, login_as: LoginAs, db: Session
) -> None:
    login_as("mission", missions=("MINUSMA",))
    response = post(client, "/incidents/new", valid_incident(longitude="1.41", latitude="18.44"))
    assert response.status_code == 302
    incident = db.scalars(sa.select(Incident)).one()
    assert areas_of(db, incident) == ("East", "ML-E", None, None, False)
