"""The first load of the trends and map pages on ``make run``, cold, in English and French.

    .venv/bin/python bench/first_load.py                  # makes the make-run database once
    .venv/bin/python bench/first_load.py --keep DIR       # keeps (or reuses) it in DIR

Makes the database ``make run`` makes (SQLite, ``demo seed --incidents 2000``, the default
boundaries) through the same commands, then, for each language, starts the development
server ``make run`` starts in a fresh process with an empty instance folder (so an empty
chart cache), signs an analyst in through the pages (password, then TOTP code) and at once
asks, as a browser does:

- the trends page, then its charts, six at a time (each drawn on its first asking);
- the map page, then the layers it loads at the world view.

It prints the time of each page (its first view), of the charts and layers that follow,
and the machine's load averages. The issue's budget: each page's first view under 1 s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import checkout  # noqa: F401 (first: this checkout's packages)
import pyotp
import requests
from serving import csrf, load_average

from demo.accounts import DEMO_ACCOUNTS, demo_password

ROOT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
PORT = 8751
WORLD = "zoom=2&bbox=-180,-85,180,85"
LAYERS = ("boundaries", "clusters", "choropleth")
ANALYSTS = [account for account in DEMO_ACCOUNTS if account["role"] == "analyst"]
CHART = re.compile(r'<img src="(/trends/[a-z-]+\.svg[^"]*)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keep", type=Path, help="a folder to make the database in, or reuse")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="capdb-first-load-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "capdb.sqlite"
    if not database.exists():
        make_database(database, folder / "instance")
    print(f"load average before: {load_average()}")
    for language in ("en", "fr"):
        first_load(database, language)
        time.sleep(31)  # a TOTP code is accepted once: the next sign-in takes the next one
    print(f"load average after: {load_average()}")
    if args.keep is None:
        shutil.rmtree(folder)


def environment(database: Path, instance: Path) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("CAPDB_")}
    return environ | {
        "CAPDB_DATABASE_URL": f"sqlite:///{database}",
        "CAPDB_INSTANCE_PATH": str(instance),
        "CAPDB_LOG_LEVEL": "WARNING",
    }


def make_database(database: Path, instance: Path) -> None:
    started = time.perf_counter()
    environ = environment(database, instance)
    for command in (
        ["db", "upgrade"],
        ["demo", "seed", "--incidents", "2000"],
        ["boundaries", "load-default"],
    ):
        subprocess.run([*FLASK, *command], cwd=ROOT, env=environ, check=True,  # noqa: S603
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    print(f"made the make-run database in {time.perf_counter() - started:.0f} s")


def first_load(database: Path, language: str) -> None:
    instance = Path(tempfile.mkdtemp(prefix="capdb-instance-"))  # an empty chart cache
    command = [*FLASK, "run", "--host", "127.0.0.1", "--port", str(PORT)]
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and application)
        command, cwd=ROOT, env=environment(database, instance),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{PORT}"
    try:
        started = time.perf_counter()
        wait_until_up(base, server)
        up = time.perf_counter() - started
        client = sign_in(base, language)
        print(f"\n{language}: server up in {up:.1f} s; signed in; load average {load_average()}")
        trends(base, client)
        map_page(base, client)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        shutil.rmtree(instance, ignore_errors=True)


def wait_until_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped with status {server.returncode}")
        try:
            requests.get(base + "/healthz", timeout=10)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


def sign_in(base: str, language: str) -> requests.Session:
    account = ANALYSTS[0]
    client = requests.Session()
    client.headers["Accept-Language"] = language
    page = client.get(base + "/auth/login", timeout=60)
    fields = {"email": account["email"], "password": demo_password(account["role"])}
    page = client.post(base + "/auth/login", data=fields | {"csrf_token": csrf(page.text)})
    code = pyotp.TOTP(account["totp"]).now()
    page = client.post(base + "/auth/mfa", data={"code": code, "csrf_token": csrf(page.text)})
    if page.status_code != 200 or "/auth/" in page.url:
        raise RuntimeError(f"could not sign in ({page.status_code})")
    return client


def timed(client: requests.Session, url: str) -> tuple[float, requests.Response]:
    started = time.perf_counter()
    response = client.get(url, timeout=300)
    response.raise_for_status()
    return (time.perf_counter() - started) * 1000, response


def trends(base: str, client: requests.Session) -> None:
    ms, page = timed(client, base + "/trends/")
    print(f"  trends page (its first view): {ms:7.0f} ms, {len(page.content) / 1024:6.1f} KB")
    charts = CHART.findall(page.text)
    started = time.perf_counter()
    with ThreadPoolExecutor(6) as browser:
        times = list(browser.map(lambda url: timed(client, base + url)[0], charts))
    print(
        f"  its {len(charts)} charts, six at a time: the last in"
        f" {(time.perf_counter() - started) * 1000:7.0f} ms (slowest {max(times):.0f} ms)"
    )


def map_page(base: str, client: requests.Session) -> None:
    ms, page = timed(client, base + "/maps/")
    print(f"  map page (its first view):    {ms:7.0f} ms, {len(page.content) / 1024:6.1f} KB")
    started = time.perf_counter()
    urls = [f"{base}/maps/data/{layer}?{WORLD}" for layer in LAYERS]
    with ThreadPoolExecutor(len(urls)) as browser:
        times = list(browser.map(lambda url: timed(client, url)[0], urls))
    print(
        f"  its layers at the world view: all in {(time.perf_counter() - started) * 1000:7.0f}"
        f" ms ({', '.join(f'{n} {t:.0f} ms' for n, t in zip(LAYERS, times, strict=True))})"
    )


if __name__ == "__main__":
    main()
