"""Loading boundaries: a good file replaces its level; a bad one is refused and changes nothing."""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from flask.testing import FlaskCliRunner
from sqlalchemy.orm import Session

from maps.boundaries import BANDS
from maps.models import Area

# Two neighbouring squares of "Mali" with a shared edge at longitude 0.
GAO = [[[-2, 14], [0, 14], [0, 18], [-2, 18], [-2, 14]]]
KIDAL = [[[0, 16], [3, 16], [3, 20], [0, 20], [0, 16]]]
# A bow-tie: its edges cross at (1, 1).
BOW_TIE = [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]]


def feature(properties: dict[str, Any], geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def polygon(rings: Sequence[Sequence[Sequence[float]]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": rings}


def write_geojson(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def admin1_features() -> list[dict[str, Any]]:
    return [
        feature({"GID_0": "MLI", "GID_1": "MLI.1", "NAME_1": "Gao"}, polygon(GAO)),
        feature({"GID_0": "MLI", "GID_1": "MLI.2", "NAME_1": "Kidal"}, polygon(KIDAL)),
    ]


def load(cli: FlaskCliRunner, path: Path, *options: str) -> Any:
    return cli.invoke(args=["boundaries", "load", str(path), *options])


def stored(db: Session) -> list[tuple[str, str, str]]:
    db.expire_all()
    rows = db.execute(sa.select(Area.level, Area.code, Area.name).order_by(Area.id))
    return [(level, code, name) for level, code, name in rows]


@pytest.fixture
def loaded(cli: FlaskCliRunner, db: Session, tmp_path: Path) -> list[tuple[str, str, str]]:
    """Two admin1 areas already loaded, which a refused file must leave as they are."""
    result = load(
        cli, write_geojson(tmp_path / "good.geojson", admin1_features()), "--level", "admin1"
    )
    assert result.exit_code == 0, result.output
    return stored(db)


def test_a_good_file_is_loaded_with_its_codes_names_and_geometries(
    loaded: list[tuple[str, str, str]], db: Session
) -> None:
    assert loaded == [("admin1", "MLI.1", "Gao"), ("admin1", "MLI.2", "Kidal")]
    gao = db.scalars(sa.select(Area).where(Area.code == "MLI.1")).one()
    assert (gao.country_code, gao.parent_code) == ("MLI", "MLI")
    assert (gao.min_x, gao.min_y, gao.max_x, gao.max_y) == (-2, 14, 0, 18)
    assert shapely.from_wkb(gao.geometry).equals(shapely.Polygon(GAO[0]))
    for band in BANDS:
        display = json.loads(getattr(gao, f"display_{band}"))
        assert display["type"] == "Polygon"
        assert shapely.geometry.shape(display).equals(shapely.Polygon(GAO[0]))


def test_reloading_a_level_replaces_its_areas(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    only_gao = [feature({"GID_0": "MLI", "GID_1": "MLI.9", "NAME_1": "Gao"}, polygon(GAO))]
    result = load(cli, write_geojson(tmp_path / "new.geojson", only_gao), "--level", "admin1")
    assert result.exit_code == 0, result.output
    assert "1 admin1 areas loaded (2 replaced)" in result.output
    assert stored(db) == [("admin1", "MLI.9", "Gao")]


def test_fields_can_be_named(cli: FlaskCliRunner, db: Session, tmp_path: Path) -> None:
    features = [feature({"pcode": "ML07", "label": "Gao", "iso2": "ML"}, polygon(GAO))]
    path = write_geojson(tmp_path / "cod.geojson", features)
    options = ["--level", "admin1", "--code-field", "pcode", "--name-field", "label"]
    result = load(cli, path, *options, "--country-field", "iso2")
    assert result.exit_code == 0, result.output
    area = db.scalars(sa.select(Area)).one()
    assert (area.code, area.name, area.country_code) == ("ML07", "Gao", "MLI")


def test_a_projected_file_is_reprojected_to_longitude_and_latitude(
    cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    frame = gpd.GeoDataFrame(
        {"GID_1": ["MLI.1"], "NAME_1": ["Gao"]}, geometry=[shapely.Polygon(GAO[0])], crs=4326
    ).to_crs(3857)
    frame.to_file(tmp_path / "mercator.gpkg", driver="GPKG", engine="pyogrio")
    result = load(cli, tmp_path / "mercator.gpkg", "--level", "admin1")
    assert result.exit_code == 0, result.output
    area = db.scalars(sa.select(Area)).one()
    assert (area.min_x, area.min_y, area.max_x, area.max_y) == pytest.approx((-2, 14, 0, 18))


def refused(result: Any, db: Session, before: list[tuple[str, str, str]], *phrases: str) -> None:
    assert result.exit_code != 0
    assert "Nothing was loaded." in result.output
    for phrase in phrases:
        assert phrase in result.output
    assert stored(db) == before


def test_an_invalid_geometry_is_refused_with_its_feature_number(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    features = admin1_features()
    features[1]["geometry"] = polygon(BOW_TIE)
    result = load(cli, write_geojson(tmp_path / "bad.geojson", features), "--level", "admin1")
    refused(result, db, loaded, "Feature 2 has an invalid geometry", "Self-intersection")


def test_a_geometry_that_is_not_an_area_is_refused(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    features = admin1_features()
    features[0]["geometry"] = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    result = load(cli, write_geojson(tmp_path / "line.geojson", features), "--level", "admin1")
    refused(result, db, loaded, "Feature 1 is a LineString, not an area")


@pytest.mark.parametrize("suffix", [".shp", ".gpkg"])
def test_a_file_without_a_coordinate_system_is_refused(
    loaded: list[tuple[str, str, str]],
    cli: FlaskCliRunner,
    db: Session,
    tmp_path: Path,
    suffix: str,
) -> None:
    frame = gpd.GeoDataFrame(
        {"GID_1": ["MLI.3"], "NAME_1": ["Tombouctou"]}, geometry=[shapely.Polygon(GAO[0])]
    )
    path = tmp_path / f"no_crs{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # GDAL warns of the very flaw tested
        frame.to_file(path, engine="pyogrio")
    result = load(cli, path, "--level", "admin1")
    refused(result, db, loaded, "declares no coordinate reference system")
    # Declared on the command line, the same file loads.
    result = load(cli, path, "--level", "admin1", "--crs", "EPSG:4326")
    assert result.exit_code == 0, result.output
    assert stored(db) == [("admin1", "MLI.3", "Tombouctou")]


def test_missing_code_or_name_fields_are_refused(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    path = write_geojson(tmp_path / "bare.geojson", [feature({"label": "Gao"}, polygon(GAO))])
    refused(
        load(cli, path, "--level", "admin1"), db, loaded, "Missing field(s): code, name", "label"
    )
    result = load(cli, path, "--level", "admin1", "--code-field", "pcode", "--name-field", "label")
    refused(result, db, loaded, "Missing field(s): pcode")


def test_features_without_a_code_or_a_name_are_refused(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    features = admin1_features()
    features[0]["properties"]["GID_1"] = None
    features[1]["properties"]["NAME_1"] = " "
    result = load(cli, write_geojson(tmp_path / "blank.geojson", features), "--level", "admin1")
    refused(result, db, loaded, "Feature 1 has no code.", "Feature 2 has no name.")


def test_an_admin1_file_loaded_as_admin0_is_refused(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    gadm = [
        feature({"GID_0": "MLI", "NAME_0": "Mali", "GID_1": "MLI.1", "NAME_1": n}, polygon(p))
        for n, p in (("Gao", GAO), ("Kidal", KIDAL))
    ]
    result = load(cli, write_geojson(tmp_path / "gadm1.geojson", gadm), "--level", "admin0")
    refused(result, db, loaded, "GID_1", "finer than admin0")
    # Even with the code field named, the codes give it away.
    path = write_geojson(tmp_path / "admin1.geojson", admin1_features())
    result = load(cli, path, "--level", "admin0", "--code-field", "GID_1", "--name-field", "NAME_1")
    refused(result, db, loaded, "not ISO 3166 alpha-3 codes of countries: MLI.1, MLI.2")


def test_repeated_codes_betray_another_level(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    features = admin1_features()
    features[1]["properties"]["GID_1"] = "MLI.1"
    result = load(cli, write_geojson(tmp_path / "twice.geojson", features), "--level", "admin1")
    refused(result, db, loaded, "Features 1 and 2 have the same code MLI.1")


def test_a_country_file_loaded_as_admin1_is_refused(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    countries = [
        feature({"code": "MLI", "name": "Mali"}, polygon(GAO)),
        feature({"code": "NER", "name": "Niger"}, polygon(KIDAL)),
    ]
    path = write_geojson(tmp_path / "countries.geojson", countries)
    refused(load(cli, path, "--level", "admin1"), db, loaded, "--level admin0")


def test_an_unreadable_file_is_refused(
    loaded: list[tuple[str, str, str]], cli: FlaskCliRunner, db: Session, tmp_path: Path
) -> None:
    path = tmp_path / "notes.geojson"
    path.write_text("this is not GeoJSON")
    refused(load(cli, path, "--level", "admin1"), db, loaded, "Cannot read notes.geojson")
    refused(load(cli, tmp_path / "absent.gpkg", "--level", "admin1"), db, loaded, "No such file")


def test_the_default_countries_load_as_admin0(cli: FlaskCliRunner, db: Session) -> None:
    result = cli.invoke(args=["boundaries", "load-default"])
    assert result.exit_code == 0, result.output
    assert "Repaired geometries: Russia, Fiji, Antarctica." in result.output
    countries = {
        area.code: area for area in db.scalars(sa.select(Area).where(Area.level == "admin0"))
    }
    assert 230 <= len(countries) <= 245
    mali = countries["MLI"]
    assert mali.name == "Mali"
    assert (mali.min_x, mali.max_x) == pytest.approx((-12.24, 4.24), abs=0.1)
    assert (mali.min_y, mali.max_y) == pytest.approx((10.16, 25.0), abs=0.1)
    assert "XKX" in countries
    assert "CYP" in countries
    assert all(shapely.is_valid(shapely.from_wkb(a.geometry)) for a in countries.values())
    # `make run` calls it every time: once loaded, the countries stay as they are.
    again = cli.invoke(args=["boundaries", "load-default", "--if-empty"])
    assert again.exit_code == 0, again.output
    assert "already loaded" in again.output
    assert sorted(stored(db)) == sorted(("admin0", c, a.name) for c, a in countries.items())
