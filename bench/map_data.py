"""The map's world view: time to build its data and its size, against a naive folium map.

    .venv/bin/python bench/map_data.py --incidents 100000

Seeds a scratch PostgreSQL schema with demo data and the default country boundaries
(which assigns every incident's areas), then, for several viewers, times the requests
the map page makes at the world view (clusters and choropleth, and the heat layer when
switched on) in the server, and weighs what they send. The spec's budget: under 200 KB
and under 300 ms, whatever the number of incidents.

For comparison, a folium map with one marker (and popup) per incident is rendered for a
sample of incidents and its size extrapolated linearly to all of them.
"""

from __future__ import annotations

import argparse
import gzip
import time

import folium
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from scratch import median_ms, scratch_app, settle, signed_in_client

from demo.seed import seed_demo
from incidents.models import Incident
from maps.boundaries import load_default

SCHEMA = "capdb_bench_map"
REPEATS = 20
NAIVE_SAMPLE = 5_000
WORLD = "zoom=2&bbox=-180,-85,180,85"
SCENARIOS = [
    ("analyst, no filter", "analyst@capdb.example", ""),
    ("analyst, MINUSMA IEDs", "analyst@capdb.example", "&mission=MINUSMA&means_of_attack=ied"),
    ("Chad's focal point, no filter", "chad@capdb.example", ""),
    ("MINUSMA officer, no filter", "minusma@capdb.example", ""),
]  # fmt: skip
LAYERS = {
    "clusters": "/maps/data/clusters?" + WORLD,
    "choropleth": "/maps/data/choropleth?" + WORLD,
    "heat": "/maps/data/heat?" + WORLD,
}


def kb(data: bytes) -> str:
    return f"{len(data) / 1024:7.1f} {len(gzip.compress(data)) / 1024:6.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    with scratch_app(SCHEMA) as app:
        sessionmaker = app.extensions["capdb.db"].sessionmaker
        started = time.perf_counter()
        with sessionmaker.begin() as session:
            seed_demo(session, args.incidents, 2589)
        print(f"seeded {args.incidents} incidents in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with app.app_context(), sessionmaker.begin() as session:
            report = load_default(session)
        print(f"{report.loaded} countries loaded and {report.assigned.changed} incidents flagged"
              f" or assigned in {time.perf_counter() - started:.1f} s")  # fmt: skip
        settle(app)
        world_view(app)
        page_weight(app)
        naive_folium(app, args.incidents)


def world_view(app: Flask) -> None:
    print(f"\nworld view, median of {REPEATS} requests; sizes in KB, raw and gzip")
    print(f"{'scenario':32} {'layer':10} {'ms':>6} {'KB':>7} {'gzip':>6}")
    for name, email, filters in SCENARIOS:
        client = signed_in_client(app, email)
        world_ms = 0.0
        world_bytes = b""
        for layer, url in LAYERS.items():

            def request(url: str = url + filters, client: FlaskClient = client) -> bytes:
                response = client.get(url, headers={"Accept-Encoding": "identity"})
                assert response.status_code == 200, response.status_code
                return response.data

            ms = median_ms(request, REPEATS)
            body = request()
            print(f"{name:32} {layer:10} {ms:6.1f} {kb(body)}")
            if layer != "heat":
                world_ms += ms
                world_bytes += body
        print(
            f"{name:32} {'= world':10} {world_ms:6.1f} {kb(world_bytes)}  (clusters + choropleth)"
        )


def page_weight(app: Flask) -> None:
    client = signed_in_client(app, "analyst@capdb.example")
    page = client.get("/maps/").data
    base = client.get("/maps/data/boundaries?" + WORLD).data
    assets = b""
    for url in ("/vendor/leaflet/leaflet.js", "/vendor/leaflet/leaflet.css",
                "/vendor/leaflet.heat/leaflet-heat.js", "/static/js/map.js",
                "/static/css/map.css", "/static/css/capdb.css"):  # fmt: skip
        with client.get(url) as response:
            assets += response.data
    print("\nthe same for every number of incidents (KB, raw and gzip)")
    print(f"{'map page HTML':32} {kb(page)}")
    print(f"{'scripts and styles':32} {kb(assets)}")
    print(f"{'page with its assets':32} {kb(page + assets)}")
    print(f"{'country borders (base layer)':32} {kb(base)}  (revalidated by ETag)")


def naive_folium(app: Flask, total: int) -> None:
    """A folium map with one marker and popup per incident, extrapolated from a sample."""
    with app.extensions["capdb.db"].sessionmaker() as session:
        rows = session.execute(
            sa.select(Incident.reference, Incident.occurred_on, Incident.place,
                      Incident.latitude, Incident.longitude)
            .where(Incident.latitude.is_not(None), Incident.status == "validated")
            .limit(NAIVE_SAMPLE)
        ).all()  # fmt: skip
    started = time.perf_counter()
    naive = folium.Map(location=[12, 15], zoom_start=3)
    for reference, occurred_on, place, latitude, longitude in rows:
        folium.Marker(
            [latitude, longitude], popup=f"{reference} {occurred_on} {place}", tooltip=reference
        ).add_to(naive)
    html = naive.get_root().render().encode()
    seconds = time.perf_counter() - started
    scale = total / len(rows)
    print(
        f"\nnaive folium map, one marker per incident: {len(rows)} markers rendered in"
        f" {seconds:.1f} s, {len(html) / 1024:.0f} KB"
        f" ({len(gzip.compress(html)) / 1024:.0f} KB gzip)"
    )
    print(f"extrapolated linearly to {total} incidents: {len(html) * scale / 1024 / 1024:.1f} MB,"
          f" {seconds * scale:.0f} s to render")  # fmt: skip


if __name__ == "__main__":
    main()
