"""What deploy/ and gunicorn.conf.py ship actually works: gunicorn serves the application,
nginx accepts the site, systemd accepts the units.

nginx (Debian's nginx-light) and systemd-analyze must be installed: `make test` installs
nginx-light when it is missing; a missing tool fails these tests rather than skipping them.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine

from capdb.config import Config
from capdb.static_versions import digest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "capdb.conf"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    assert path, f"{name} is not installed (apt-get install nginx-light / systemd)"
    return path


def app_environment(**settings: str) -> dict[str, str]:
    """This process's environment without its CAPDB_ settings, plus the given ones."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CAPDB_")}
    environ.update({f"CAPDB_{name.upper()}": value for name, value in settings.items()})
    return environ


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (a local URL)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, json.loads(response.read()), response.headers["X-Request-Id"]


def wait_until_serving(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn stopped before serving"
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("gunicorn did not answer within 90 seconds")


def test_gunicorn_serves_the_app_with_the_shipped_config(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    environ = app_environment(
        env="production",
        database_url=database_url,
        secret_key="a production-like secret of more than 32 characters",
        instance_path=str(tmp_path),
        bind=f"127.0.0.1:{port}",
        web_workers="1",
    )
    server = subprocess.Popen(  # noqa: S603 (fixed arguments)
        [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")],
        cwd=tmp_path,  # the configuration finds the application from its own folder
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/healthz", server)
        assert get(f"{base}/healthz", {"X-Request-Id": "deploy-test-0001"}) == (
            200,
            {"status": "ok"},
            "deploy-test-0001",
        )
        assert get(f"{base}/readyz")[:2] == (200, {"status": "ok"})
    finally:
        server.send_signal(signal.SIGTERM)
        stdout, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    entries = [json.loads(line) for line in stdout.splitlines()]
    requests = [e for e in entries if e["logger"] == "capdb.requests"]
    assert {
        "request_id": "deploy-test-0001",
        "path": "/healthz",
        "status": 200,
        "method": "GET",
    }.items() <= requests[-2].items()
    assert requests[-1]["path"] == "/readyz"
    assert any(e["message"] == "Shutting down: Master" for e in entries)


def gunicorn_settings(monkeypatch: pytest.MonkeyPatch, **settings: str) -> dict[str, Any]:
    for name in [k for k in os.environ if k.startswith("CAPDB_")]:
        monkeypatch.delenv(name)
    for name, value in settings.items():
        monkeypatch.setenv(f"CAPDB_{name.upper()}", value)
    monkeypatch.setattr(sys, "path", list(sys.path))
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))


def test_gunicorn_settings_come_from_capdb_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    automatic = gunicorn_settings(monkeypatch)
    assert automatic["workers"] == 2 * len(os.sched_getaffinity(0)) + 1
    assert automatic["bind"] == ["127.0.0.1:8000"]
    assert automatic["forwarded_allow_ips"] == ""
    assert automatic["accesslog"] is None  # the application logs each request once
    assert automatic["max_requests"] > 0 < automatic["max_requests_jitter"]
    assert automatic["graceful_timeout"] < automatic["timeout"]
    chosen = gunicorn_settings(
        monkeypatch, web_workers="3", bind="0.0.0.0:9000", trusted_proxies="10.0.0.5"
    )
    assert (chosen["workers"], chosen["bind"], chosen["forwarded_allow_ips"]) == (
        3,
        ["0.0.0.0:9000"],
        "10.0.0.5",
    )


def test_the_server_process_loads_folium_without_pandas() -> None:
    """What workers inherit: folium, without the pandas it would bring (geopandas's, for
    the commands and jobs), which stays importable for whatever asks for it."""
    check = (
        "import runpy, sys\n"
        f"runpy.run_path({str(ROOT / 'gunicorn.conf.py')!r})\n"
        "import folium.utilities\n"
        "print('maps.folium_map' in sys.modules, 'pandas' in sys.modules,"
        " folium.utilities.pd is None)\n"
        "import pandas\n"
        "print(pandas.DataFrame is not None)\n"
    )
    loaded = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "-c", check], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert loaded.stdout.split() == ["True", "False", "True", "True"], loaded.stderr


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    certificate, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(  # noqa: S603 (fixed arguments)
        [tool("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=capdb.test", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return certificate, key


def test_nginx_accepts_the_shipped_site(tmp_path: Path) -> None:
    certificate, key = self_signed_certificate(tmp_path)
    site = (
        SITE.read_text()
        .replace("/etc/ssl/capdb/fullchain.pem", str(certificate))
        .replace("/etc/ssl/capdb/privkey.pem", str(key))
        .replace("/var/log/nginx/", f"{tmp_path}/")
    )
    (tmp_path / "capdb.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        f"    access_log {tmp_path}/access.log;\n"
        f"    include {tmp_path}/capdb.conf;\n"
        "}\n"
    )
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [tool("nginx"), "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
         "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def directive(name: str) -> list[str]:
    # A value runs to the first semicolon outside quotes.
    value = r'((?:[^;"{}]|"[^"]*")+);'
    return re.findall(rf"^\s*{name}\s+{value}", SITE.read_text(), re.MULTILINE)


def test_the_site_matches_the_application(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    (size,) = directive("client_max_body_size")
    assert int(size.removesuffix("m")) * 1024 * 1024 == app.config["MAX_CONTENT_LENGTH"]
    hsts = client.get("/healthz").headers["Strict-Transport-Security"]
    # The server's HSTS, said again where /static adds its cache header (nginx then drops
    # the server's add_header directives), with the cache the application sends itself.
    assert directive("add_header") == [
        f'Strict-Transport-Security "{hsts}" always',
        f'Strict-Transport-Security "{hsts}" always',
        "Cache-Control $capdb_static_cache always",
    ]
    assert directive("proxy_hide_header") == ["Strict-Transport-Security"]
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" in directive("proxy_set_header")
    assert "X-Forwarded-Proto $scheme" in directive("proxy_set_header")
    assert directive("gzip") == ["on"]
    (static,) = directive("alias")
    assert (ROOT / static.removeprefix("/opt/capdb/")).resolve() == Path(app.static_folder or "")
    (upstream,) = directive("server")
    assert upstream.split()[0] == "127.0.0.1:8000"  # CAPDB_BIND's default
    (read_timeout,) = directive("proxy_read_timeout")
    gunicorn_timeout = gunicorn_settings(monkeypatch)["timeout"]
    assert int(read_timeout.removesuffix("s")) > gunicorn_timeout


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    assert [unit.name for unit in UNITS] == ["capdb-jobs.service", "capdb-web.service"]
    for unit in UNITS:
        # Where the README installs capdb, here this checkout and its virtualenv.
        text = unit.read_text().replace("/opt/capdb/.venv/bin", str(BIN))
        (tmp_path / unit.name).write_text(text.replace("/opt/capdb", str(ROOT)))
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [tool("systemd-analyze"), "verify", *(str(tmp_path / u.name) for u in UNITS)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # Unknown keys and similar mistakes are only warnings: there must be none.
    assert result.stderr.strip() == result.stdout.strip() == ""


def readme_environment_file() -> dict[str, str]:
    readme = (ROOT / "README.md").read_text()
    body = re.search(r"cat > /etc/capdb/capdb\.env <<EOF\n(.*?)\nEOF\n", readme, re.DOTALL)
    assert body, "the README writes no environment file"
    pairs = (line.split("=", 1) for line in body.group(1).splitlines())
    return {key: re.sub(r"\$\(.*\)", "s" * 64, value) for key, value in pairs}


def test_the_readme_environment_file_is_a_valid_production_configuration() -> None:
    environment = readme_environment_file()
    config = Config.from_env(environment)
    assert config.is_production
    assert config.trusted_proxies == "127.0.0.1"
    assert not any(" " in value or '"' in value for value in environment.values())


def test_every_setting_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `(CAPDB_[A-Z_]+)`", readme, re.MULTILINE))
    documented |= set(re.findall(r"/ `(CAPDB_[A-Z_]+)`", readme))
    settings = {f"CAPDB_{field.name.upper()}" for field in fields(Config)}
    assert settings <= documented


def test_static_urls_change_with_their_files(app: Flask, tmp_path: Path) -> None:
    """Static URLs are cached for good: a changed file must get a new URL."""
    with app.test_request_context():
        url = url_for("static", filename="css/capdb.css")
    path, _, version = url.partition("?v=")
    assert path == "/static/css/capdb.css"
    stylesheet = Path(app.static_folder or "") / "css" / "capdb.css"
    assert version == hashlib.sha256(stylesheet.read_bytes()).hexdigest()[:12]
    changed = tmp_path / "capdb.css"
    changed.write_bytes(stylesheet.read_bytes() + b"/* new */")
    assert digest(changed) not in {"", version}
