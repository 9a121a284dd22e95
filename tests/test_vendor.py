"""Vendored assets: the files of the packages are served, with long cache headers; any
other path answers 404 and leaves nothing behind in memory."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import NotFound

from capdb import vendor

UNKNOWN = [
    "/vendor/leaflet/" + "a" * 6000 + ".js",
    "/vendor/leaflet/" + "/".join(["deep"] * 800) + "/leaflet.js",
    "/vendor/leaflet/leaflet.js%00.png",
    "/vendor/leaflet/%00",
    "/vendor/leaflet/../../../../etc/passwd",
    "/vendor/leaflet/images/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/vendor/leaflet/images/../leaflet.js",
    "/vendor/leaflet/images",
    "/vendor/leaflet/images/",
    "/vendor/leaflet/./leaflet.js",
    "/vendor/leaflet/LEAFLET.JS",
    "/vendor/leaflet/leaflet.js/",
    "/vendor/nosuch/leaflet.js",
    "/vendor/" + "p" * 5000 + "/leaflet.js",
]


def cache_sizes() -> tuple[int, int]:
    return vendor.served_files.cache_info().currsize, vendor._content.cache_info().currsize


@pytest.mark.parametrize("path", UNKNOWN, ids=range(len(UNKNOWN)))
def test_unknown_and_hostile_paths_are_not_found(client: FlaskClient, path: str) -> None:
    client.get("/vendor/leaflet/leaflet.css").close()  # the table of leaflet's files exists
    before = cache_sizes()
    with client.get(path) as response:
        assert response.status_code == 404
    assert cache_sizes() == before


@pytest.mark.parametrize(
    "filename", ["/etc/passwd", str(vendor.NODE_MODULES / "leaflet.heat/dist/leaflet-heat.js")]
)
def test_absolute_paths_are_not_found(app: Flask, filename: str) -> None:
    """The URL map merges doubled slashes, so the view is asked directly."""
    with app.test_request_context("/vendor/leaflet/x"), pytest.raises(NotFound):
        vendor.asset("leaflet.heat", filename)


def test_thousands_of_unknown_paths_leave_the_cache_unchanged(client: FlaskClient) -> None:
    for package in vendor.PACKAGES:
        client.get(f"/vendor/{package}/nothing-here.js").close()
    before = cache_sizes()
    for number in range(2000):
        package = list(vendor.PACKAGES)[number % len(vendor.PACKAGES)]
        with client.get(f"/vendor/{package}/missing-{number}.{'a' * (number % 300)}.js") as miss:
            assert miss.status_code == 404
    assert cache_sizes() == before
    assert before[0] <= len(vendor.PACKAGES)


def test_the_cache_holds_each_served_file_at_most_once(client: FlaskClient) -> None:
    for _ in range(3):
        for package in vendor.PACKAGES:
            for filename in vendor.served_files(package):
                with client.get(f"/vendor/{package}/{filename}") as response:
                    assert response.status_code == 200, filename
    every_file = sum(len(vendor.served_files(package)) for package in vendor.PACKAGES)
    assert vendor._content.cache_info().currsize <= every_file
    assert "leaflet.js" in vendor.served_files("leaflet")
    assert "images/marker-icon.png" in vendor.served_files("leaflet")


def test_existing_files_keep_their_long_cache_headers(client: FlaskClient) -> None:
    with client.get("/vendor/leaflet/leaflet.js") as script:
        assert script.status_code == 200
        assert script.mimetype in {"text/javascript", "application/javascript"}
        assert script.cache_control.public
        assert script.cache_control.max_age == vendor.ONE_WEEK
        etag = script.headers["ETag"]
    with client.get("/vendor/leaflet/leaflet.js", headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    with client.get("/vendor/leaflet.heat/leaflet-heat.js") as heat:
        assert heat.status_code == 200
        assert heat.cache_control.max_age == vendor.ONE_WEEK
