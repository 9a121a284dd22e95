"""The map page and its data: scoped, filtered, escaped, bounded, and fit for the CSP."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
import shapely
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import User
from capdb.bulk import insert_rows
from incidents.filters import IncidentFilters, scoped_incidents
from incidents.models import Incident
from maps.boundaries import Candidate, replace_level
from maps.figure_upkeep import count_new_incidents
from maps.folium_map import _FoliumParts
from tests.factories import IncidentFactory, LoginAs, VictimFactory, incident_values

WORLD = {"zoom": "2", "bbox": "-180,-85,180,85"}
MALI = shapely.box(-12, 10, 4, 25)
CONGO = shapely.box(12, -13, 31, 5)
# Towns the seeded incidents gather around, as real ones do around bases and roads.
TOWNS = [(-0.05, 16.27), (1.41, 18.44), (-3.0, 16.77), (29.2, -1.68), (29.46, 0.49), (18.56, 4.36)]


def get_json(client: FlaskClient, url: str, **args: str) -> Any:
    response = client.get(url, query_string=args)
    assert response.status_code == 200, response.text
    return response.get_json(force=True)


def visible_count(app: Flask, db: Session, user: User, **args: str) -> int:
    with app.test_request_context():
        filters, errors = IncidentFilters.parse(db, args)
    assert errors == {}
    query = scoped_incidents(user, filters).with_only_columns(sa.func.count())
    return int(db.scalar(query) or 0)


def cluster_total(client: FlaskClient, **args: str) -> int:
    data = get_json(client, "/maps/data/clusters", **(WORLD | args))
    assert data["total"] == sum(f["properties"]["count"] for f in data["features"])
    return int(data["total"])


def in_congo(make_incident: IncidentFactory, **overrides: Any) -> Incident:
    where = {"mission_code": "MONUSCO", "country_code": "COD", "latitude": -1.6, "longitude": 29.2}
    return make_incident(**(where | overrides))


@pytest.fixture
def countries(db: Session) -> None:
    replace_level(
        db,
        "admin0",
        [
            Candidate("MLI", "Mali", "MLI", None, MALI),
            Candidate("COD", "Congo", "COD", None, CONGO),
        ],
        source="test",
    )


# The page


def script_tags(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)


def test_every_script_of_the_map_page_carries_the_response_nonce(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("analyst")
    response = client.get("/maps/")
    assert response.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce
    tags = script_tags(response.text)
    assert len(tags) >= 4  # Leaflet, the heat layer, map.js, folium's own code
    assert all(f'nonce="{nonce.group(1)}"' in tag for tag in tags)
    assert "capdbMap.attach(" in response.text


def test_the_map_page_has_no_inline_style_and_no_foreign_asset(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("analyst")
    html = client.get("/maps/").text
    assert "<style" not in html.lower()
    assert not re.search(r"\sstyle=", html, flags=re.IGNORECASE)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    paths = [asset.partition("?")[0] for asset in assets]  # without the content digest
    assert "/vendor/leaflet/leaflet.js" in paths
    assert "/vendor/leaflet.heat/leaflet-heat.js" in paths
    # Same host only: paths, fragments, and inline data such as the empty favicon.
    assert all(url.startswith(("/", "#", "data:")) and not url.startswith("//") for url in assets)
    for asset in ("/vendor/leaflet/leaflet.js", "/static/js/map.js", "/static/css/map.css"):
        with client.get(asset) as response:
            assert response.status_code == 200, asset


def test_no_tile_layer_unless_one_is_configured(
    app: Flask, client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("analyst")
    assert "L.tileLayer" not in client.get("/maps/").text
    config = app.extensions["capdb.config"]
    app.extensions["capdb.config"] = config.replace(tile_url="/tiles/{z}/{x}/{y}.png")
    assert '"/tiles/{z}/{x}/{y}.png"' in client.get("/maps/").text


def test_folium_output_asking_another_host_is_refused() -> None:
    parts = _FoliumParts()
    parts.feed('<script src="https://cdn.example/l.js"></script><div class="folium-map" id="m">')
    with pytest.raises(RuntimeError, match="another host"):
        parts.checked()


def test_the_page_does_not_embed_the_incidents(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    login_as("analyst")
    make_incident(reference="MINUSMA-2021-7777", place="Tessalit")
    html = client.get("/maps/").text
    assert "MINUSMA-2021-7777" not in html
    assert "Tessalit" not in html


def test_the_page_tables_the_figures_by_country(
    client: FlaskClient,
    login_as: LoginAs,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:
    login_as("analyst")
    incident = make_incident()
    make_victim(incident, outcome="killed")
    make_incident(latitude=None, longitude=None, geo_precision="country")
    assert '<th scope="col" class="number">Fatalities</th>' not in client.get("/maps/").text
    html = client.get("/maps/?measure=fatalities").text
    cells = r'<th scope="row">Mali</th>\s*<td class="number">(\d+)</td>\s*<td class="number">(\d+)'
    row = re.search(cells, html)
    assert row
    assert row.groups() == ("2", "1")
    assert "1 incidents have no coordinates" in html


def test_filter_errors_are_shown_field_by_field(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    response = client.get("/maps/?mission=NOSUCH&date_from=2021-13-01&measure=bodies")
    assert response.status_code == 400
    assert "Unknown mission." in response.text
    assert "Enter a date as YYYY-MM-DD." in response.text
    assert 'id="f-measure-error"' in response.text
    assert "capdbMap" not in response.text


@pytest.mark.parametrize(
    ("url", "args", "fields"),
    [
        ("/maps/data/clusters", {"zoom": "99", "bbox": "1,2,3"}, {"zoom", "bbox"}),
        ("/maps/data/clusters", {"bbox": "10,0,-10,5"}, {"bbox"}),
        ("/maps/data/clusters", {"bbox": "nan,0,1,1", "mission": "NOSUCH"}, {"bbox", "mission"}),
        ("/maps/data/heat", {"measure": "bodies", "date_to": "soon"}, {"measure", "date_to"}),
        ("/maps/data/choropleth", {"level": "admin9", "zoom": "-1"}, {"level", "zoom"}),
        ("/maps/data/boundaries", {"level": "country"}, {"level"}),
        ("/maps/data/boundaries", {"zoom": "²"}, {"zoom"}),
    ],
)
def test_bad_data_arguments_answer_400_naming_each_field(
    client: FlaskClient, login_as: LoginAs, url: str, args: dict[str, str], fields: set[str]
) -> None:
    login_as("analyst")
    response = client.get(url, query_string=args)
    assert response.status_code == 400
    assert set(response.get_json()["errors"]) == fields


# Scope and filters


def test_a_member_states_clusters_count_what_it_can_list(
    app: Flask,
    db: Session,
    client: FlaskClient,
    login_as: LoginAs,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:
    user = login_as("member_state", state="TCD")
    make_victim(in_congo(make_incident), nationality_code="TCD")
    make_incident(country_code="TCD", latitude=13.0, longitude=19.0)
    in_congo(make_incident)
    make_incident(country_code="TCD", latitude=13.1, longitude=19.1, status="draft")
    assert visible_count(app, db, user) == 2
    assert cluster_total(client) == 2
    assert sum(p[2] for p in get_json(client, "/maps/data/heat", **WORLD)["points"]) == 2


def test_fatalities_are_counted_when_they_are_the_measure(
    client: FlaskClient,
    login_as: LoginAs,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:
    login_as("analyst")
    deadly = make_incident()
    make_victim(deadly, outcome="killed")
    make_victim(deadly, outcome="killed")
    make_victim(deadly, outcome="injured")
    make_victim(make_incident(), outcome="killed", deleted_at=datetime(2022, 1, 1, tzinfo=UTC))
    (cell,) = get_json(client, "/maps/data/clusters", **WORLD)["features"]
    assert cell["properties"] == {"count": 2}
    (cell,) = get_json(client, "/maps/data/clusters", measure="fatalities", **WORLD)["features"]
    assert cell["properties"] == {"count": 2, "fatalities": 2}
    close = {"zoom": "14", "bbox": "1.40,18.43,1.43,18.46", "measure": "fatalities"}
    (place,) = get_json(client, "/maps/data/clusters", **close)["features"]
    assert (place["properties"]["count"], place["properties"]["fatalities"]) == (2, 2)
    heat = get_json(client, "/maps/data/heat", measure="fatalities", **WORLD)
    assert [point[2] for point in heat["points"]] == [2]


def test_map_data_follows_the_shared_filters(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    login_as("admin")
    make_incident(occurred_on=date(2019, 1, 5))
    make_incident(occurred_on=date(2022, 6, 1), means_of_attack="small_arms")
    in_congo(make_incident, status="draft")
    assert cluster_total(client) == 3
    assert cluster_total(client, mission="MINUSMA") == 2
    assert cluster_total(client, date_from="2020-01-01") == 2
    assert cluster_total(client, means_of_attack="small_arms") == 1
    assert cluster_total(client, status="draft") == 1


@pytest.mark.usefixtures("countries")
def test_choropleth_sums_equal_the_incidents_the_viewer_sees(
    app: Flask,
    db: Session,
    client: FlaskClient,
    login_as: LoginAs,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
) -> None:
    user = login_as("analyst")
    for _ in range(3):
        make_victim(make_incident(), outcome="killed")
    in_congo(make_incident)
    in_congo(make_incident, status="draft")
    make_incident(mission_code="UNISFA", country_code="XAB", latitude=9.6, longitude=28.4)
    data = get_json(client, "/maps/data/choropleth", **WORLD)
    counts = {f["properties"]["code"]: f["properties"]["incidents"] for f in data["features"]}
    assert counts == {"MLI": 3, "COD": 1}
    # Abyei has no boundary: counted, but in no area.
    assert data["unmapped"] == 1
    assert sum(counts.values()) + data["unmapped"] == data["total"] == visible_count(app, db, user)
    fatalities = get_json(client, "/maps/data/choropleth", measure="fatalities", **WORLD)
    by_code = {f["properties"]["code"]: f["properties"] for f in fatalities["features"]}
    assert {code: p["fatalities"] for code, p in by_code.items()} == {"MLI": 3, "COD": 0}
    assert fatalities["features"][0]["geometry"]["type"] == "Polygon"


def test_choropleth_of_finer_areas_uses_the_derived_codes(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory, db: Session
) -> None:
    login_as("analyst")
    gao = Candidate("ML-7", "Gao", "MLI", "MLI", shapely.box(-2, 14, 2, 19))
    replace_level(db, "admin1", [gao], source="test")
    make_incident(admin1_code="ML-7", admin1="Gao")
    make_incident(admin1_code=None)
    data = get_json(client, "/maps/data/choropleth", level="admin1", **WORLD)
    features = [(f["properties"]["name"], f["properties"]["incidents"]) for f in data["features"]]
    assert features == [("Gao", 1)]
    assert (data["level"], data["total"], data["unmapped"]) == ("admin1", 2, 1)


@pytest.mark.usefixtures("countries")
def test_boundaries_serve_the_base_layer_with_an_etag(
    client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("mission")
    response = client.get("/maps/data/boundaries", query_string=WORLD)
    assert response.status_code == 200
    names = {f["properties"]["name"] for f in response.get_json(force=True)["features"]}
    assert names == {"Mali", "Congo, The Democratic Republic of the"}
    etag = {"If-None-Match": response.headers["ETag"]}
    again = client.get("/maps/data/boundaries", query_string=WORLD, headers=etag)
    assert again.status_code == 304
    far_away = get_json(client, "/maps/data/boundaries", zoom="6", bbox="100,10,110,20")
    assert far_away["features"] == []


# Popups


HOSTILE = "<script>alert(1)</script>"


def test_popups_escape_the_incident_text(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    login_as("analyst")
    incident = make_incident(place=HOSTILE, reference='MINUSMA-"><img src=x>')
    response = client.get("/maps/data/clusters", query_string=WORLD)
    assert HOSTILE not in response.text
    assert "<img" not in response.text
    (feature,) = response.get_json(force=True)["features"]
    popup = feature["properties"]["popup"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in popup
    assert "MINUSMA-&#34;&gt;&lt;img src=x&gt;" in popup
    assert f'href="/incidents/{incident.id}"' in popup
    assert HOSTILE not in client.get("/maps/").text


def test_close_up_every_incident_has_its_popup(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    login_as("analyst")
    first = make_incident(place="Aguelhok", occurred_on=date(2021, 1, 1))
    second = make_incident(place=HOSTILE, occurred_on=date(2021, 2, 1))
    make_incident(latitude=18.45, longitude=1.42)
    data = get_json(client, "/maps/data/clusters", zoom="14", bbox="1.40,18.43,1.43,18.46")
    assert data["total"] == 3
    together = next(f for f in data["features"] if f["properties"]["count"] == 2)
    popup = together["properties"]["popup"]
    assert popup.index(f"/incidents/{second.id}") < popup.index(f"/incidents/{first.id}")
    assert HOSTILE not in popup
    assert "&lt;script&gt;" in popup
    assert len(data["features"]) == 2


# Payload size


def seed(db: Session, count: int, rng: random.Random) -> None:
    rows = []
    for number in range(count):
        longitude, latitude = rng.choice(TOWNS)
        rows.append(
            incident_values(
                reference=f"SEED-{rng.random():.12f}-{number}",
                latitude=round(latitude + rng.uniform(-1.5, 1.5), 5),
                longitude=round(longitude + rng.uniform(-1.5, 1.5), 5),
                occurred_on=date(2014, 1, 1) + timedelta(days=rng.randrange(4000)),
                version=1,
            )
        )
    # Written as bulk writers write (an import): past the session, then counted in the
    # figures kept for the map.
    ids = insert_rows(db, cast(sa.Table, Incident.__table__), rows, returning_ids=True)
    count_new_incidents(db, ids)


def test_cluster_payload_stays_bounded_as_incidents_grow(
    db: Session, client: FlaskClient, login_as: LoginAs
) -> None:
    login_as("analyst")
    rng = random.Random(2589)
    views = [WORLD, {"zoom": "6", "bbox": "-8,12,6,22"}]
    seed(db, 2_000, rng)
    smaller = [len(client.get("/maps/data/clusters", query_string=v).data) for v in views]
    seed(db, 18_000, rng)
    larger = [len(client.get("/maps/data/clusters", query_string=v).data) for v in views]
    assert cluster_total(client) == 20_000
    for small, large in zip(smaller, larger, strict=True):
        assert large <= 1.2 * small
        assert large < 200_000
