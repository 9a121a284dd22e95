import os
import subprocess
import sys
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from capdb.config import Environment, current_config
from tests.factories import LoginAs


def test_factory_uses_the_given_config(app: Flask) -> None:
    with app.app_context():
        assert current_config().env is Environment.TEST
    assert app.testing
    assert {"auth", "incidents", "maps"} <= set(app.blueprints)


def test_home_is_the_sign_in_page_then_the_roles_home_with_its_work_queues(
    client: FlaskClient, login_as: LoginAs
) -> None:
    visitor = client.get("/")
    assert visitor.status_code == 200
    assert '<form method="post" action="/auth/login" novalidate>' in visitor.text
    login_as("analyst")
    home = client.get("/")
    assert home.status_code == 200
    assert 'id="work-queues"' in home.text
    assert "Stalled cases" in home.text
    assert 'href="/incidents/"' in home.text


def test_pages_carry_security_headers(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    for path in ("/incidents/", "/no-such-page", "/auth/login"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "Strict-Transport-Security" in response.headers


def test_static_assets_are_served_by_the_application(client: FlaskClient) -> None:
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'href="/static/css/capdb.css?v=' in page
    with client.get("/static/css/capdb.css") as asset:
        assert asset.status_code == 200
        assert asset.mimetype == "text/css"
    assert "http://" not in page
    assert "https://" not in page


def test_vendored_assets_are_served_locally(client: FlaskClient) -> None:
    with client.get("/vendor/leaflet/leaflet.js") as script:
        assert script.status_code == 200
        assert b"Leaflet" in script.data[:2000]
    with client.get("/vendor/leaflet/images/marker-icon.png") as image:
        assert image.mimetype == "image/png"
    assert client.get("/vendor/nosuch/x.js").status_code == 404
    assert client.get("/vendor/leaflet/../../../../etc/passwd").status_code == 404


def test_pages_and_assets_are_compressed(client: FlaskClient) -> None:
    with client.get("/vendor/leaflet/leaflet.js", headers={"Accept-Encoding": "gzip"}) as script:
        assert script.headers["Content-Encoding"] == "gzip"
        assert len(script.data) < 60_000
    with client.get("/static/css/capdb.css", headers={"Accept-Encoding": "gzip"}) as css:
        assert css.status_code == 200


def test_a_configured_tile_server_is_the_only_other_image_origin() -> None:
    from capdb.security import content_security_policy

    assert "img-src 'self' data:;" in content_security_policy("n")
    policy = content_security_policy("n", "https://{s}.tiles.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy
    assert "javascript" not in content_security_policy("n", "javascript:alert(1)")


def test_nul_characters_in_the_filter_are_refused(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    refused = client.get("/incidents/?q=%00")
    assert refused.status_code == 400
    assert "not allowed" in refused.text
    assert client.get("/incidents/?q=gao").status_code == 200


def test_the_application_starts_without_the_heavy_libraries(tmp_path: Path) -> None:
    """Maps, charts, PDFs and boundary files load their libraries when first used, so that a
    process serving lists, the API and exports stays small (the export budget is 200 MB)."""
    heavy = ["geopandas", "pandas", "shapely", "folium", "matplotlib", "weasyprint", "openpyxl"]
    code = (
        "import sys\n"
        "from capdb.app import create_app\n"
        "create_app()\n"
        f"print(sorted(name for name in {heavy!r} if name in sys.modules))\n"
    )
    environment = {"PATH": os.environ["PATH"], "CAPDB_INSTANCE_PATH": str(tmp_path)}
    run = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    assert run.stdout.strip() == "[]", run.stderr
