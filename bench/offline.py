"""What the service worker keeps for a mission officer, and how soon the incident form
shows without a link.

A scratch PostgreSQL schema with the reference data and the world's country borders
(as ``make run`` loads them), one MINUSMA officer, capdb served on 127.0.0.1 by
Werkzeug's threaded server, and Debian's Chromium on a profile of its own:

1. the officer signs in and opens the form; once the worker has kept its pages, the
   bytes in each cache (as stored: uncompressed) and the origin's storage are measured;
2. the server is stopped; for each of ``--runs`` runs the browser is started again
   offline and the form opened: the time from asking for it to its first paint, to the
   form ready to type in (DOMContentLoaded) and to the page loaded; then once more in the
   same browser (warm);
3. for comparison, the first visit of the form in a fresh profile over a 256 kbit/s,
   600 ms link, the server up.

    .venv/bin/python bench/offline.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import checkout  # noqa: F401 (first: this checkout's packages)
import pyotp
from flask import Flask
from playwright.sync_api import BrowserContext, Page, Playwright, sync_playwright
from scratch import scratch_app
from werkzeug.serving import make_server

from auth.models import User
from auth.passwords import hash_password
from capdb.reference import Mission
from maps.boundaries import load_default

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EMAIL, PASSWORD = "officer@minusma.bench", "offline bench passphrase"
SECRET = pyotp.random_base32()

MEASURE_CACHES = """async () => {
  const sizes = {};
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    let bytes = 0, entries = 0;
    const each = {};
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      const size = (await response.arrayBuffer()).byteLength;
      each[new URL(request.url).pathname] = size;
      bytes += size;
      entries += 1;
    }
    sizes[name.startsWith("capdb-assets-") ? "assets" : name] = {bytes, entries, each};
  }
  const estimate = await navigator.storage.estimate();
  return {caches: sizes, usage: estimate.usage};
}"""
TIMING = """() => {
  const [entry] = performance.getEntriesByType("navigation");
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {
    paint: paint ? paint.startTime : null,
    ready: entry.domContentLoadedEventEnd,
    loaded: entry.loadEventEnd,
  };
}"""


@contextmanager
def served(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def prepare(app: Flask) -> None:
    with app.extensions["capdb.db"].sessionmaker.begin() as session:
        load_default(session)
        session.add(
            User(
                email=EMAIL,
                role="mission",
                password_hash=hash_password(PASSWORD),
                totp_secret=SECRET,
                missions=[session.get_one(Mission, "MINUSMA")],
            )
        )


def browser(playwright: Playwright, profile: Path, url: str, **options: Any) -> BrowserContext:
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, base_url=url, **options
    )


def sign_in(page: Page) -> None:
    page.goto("/auth/login")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(SECRET).now())
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def first_form(page: Page) -> dict[str, float]:
    started = time.perf_counter()
    page.goto("/incidents/new", wait_until="load")
    page.locator("form[data-offline-form]").wait_for()
    timing: dict[str, float] = page.evaluate(TIMING)
    timing["wall"] = (time.perf_counter() - started) * 1000
    return timing


def kept_for_offline(playwright: Playwright, profile: Path, url: str) -> dict[str, Any]:
    context = browser(playwright, profile, url)
    page = context.pages[0]
    sign_in(page)
    page.goto("/incidents/new")
    shell = page.locator("[data-offline-shell][data-offline-ready=true]")
    shell.wait_for(state="attached", timeout=60_000)
    kept: dict[str, Any] = page.evaluate(MEASURE_CACHES)
    context.close()
    return kept


def offline_runs(playwright: Playwright, profile: Path, url: str, runs: int) -> dict[str, list]:
    found: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    for _ in range(runs):
        context = browser(playwright, profile, url, offline=True)
        page = context.pages[0]
        found["cold"].append(first_form(page))
        found["warm"].append(first_form(page))
        context.close()
    return found


def slow_first_visit(playwright: Playwright, url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as profile:
        context = browser(playwright, Path(profile), url)
        page = context.pages[0]
        sign_in(page)
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 600,
                "downloadThroughput": 32_000,
                "uploadThroughput": 32_000,
            },
        )
        timing = first_form(page)
        context.close()
    return timing


def median(samples: list[dict[str, float]], key: str) -> str:
    values = [s[key] for s in samples if s.get(key) is not None]
    return f"{statistics.median(values):.0f}" if values else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    with scratch_app("bench_offline") as app, tempfile.TemporaryDirectory() as folder:
        prepare(app)
        profile = Path(folder) / "laptop"
        with sync_playwright() as playwright:
            with served(app) as url:
                kept = kept_for_offline(playwright, profile, url)
                slow = slow_first_visit(playwright, url)
            # capdb is gone: the browser only has what its worker kept.
            runs = offline_runs(playwright, profile, url, arguments.runs)
    total = sum(cache["bytes"] for cache in kept["caches"].values())
    print(f"kept by the service worker: {total / 1024:.0f} KiB in all")
    for name, cache in sorted(kept["caches"].items()):
        print(f"  {name}: {cache['entries']} entries, {cache['bytes'] / 1024:.0f} KiB")
        for path, size in sorted(cache["each"].items()):
            print(f"    {path}: {size / 1024:.1f} KiB")
    print(f"  origin storage in use (navigator.storage.estimate): {kept['usage'] / 1024:.0f} KiB")
    for kind, samples in runs.items():
        print(
            f"form without a link, {kind} ({len(samples)} runs, median ms): first paint "
            f"{median(samples, 'paint')}, ready {median(samples, 'ready')}, loaded "
            f"{median(samples, 'loaded')}, asked to shown {median(samples, 'wall')}"
        )
    print(
        "first visit over 256 kbit/s, 600 ms, no cache (ms): first paint "
        f"{slow['paint'] or 0:.0f}, ready {slow['ready']:.0f}, loaded {slow['loaded']:.0f}"
    )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
