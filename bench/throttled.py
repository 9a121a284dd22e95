"""Page loads on a satellite link: 256 kbit/s both ways, 600 ms latency, warm cache.

    .venv/bin/python bench/throttled.py [--incidents 2000] [--repeats 5]

Serves a scratch PostgreSQL schema seeded with demo data through gunicorn with the shipped
``gunicorn.conf.py`` (as bench/load.py does), signs a MINUSMA officer in with Debian's
Chromium through Playwright over a slow link (:mod:`slow_link`, a proxy: DevTools'
emulation lets navigations through unthrottled), loads each page once to fill the cache,
then times each further load until it is interactive:

- incident list: ``load`` (the document and what it asks for);
- incident form: ``load``, the point picker's script included;
- map: ``load``, then until the map's first layer data has arrived (``networkidle``),
  which is when one can use it.

The budgets (SPEC.md): list under 1.5 s, map under 3 s, form under 1.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

import pyotp
from playwright.sync_api import Page, sync_playwright
from scratch import seeded_app
from serving import Account, create_accounts, gunicorn, load_average
from slow_link import Link, slow_link

SCHEMA = "capdb_bench_throttled"
CHROMIUM = "/usr/bin/chromium"
PORT = 8087
PROXY_PORT = 8088
LINK = Link(round_trip_ms=600, kilobits_per_second=256)
PAGES = {
    "incident list": ("/incidents/", "load", 1.5),
    "incident form": ("/incidents/new", "load", 1.5),
    "map": ("/maps/", "networkidle", 3.0),
}


def check_throttled(page: Page) -> None:
    """Refuse to report figures if a request took less than the link's round trip."""
    started = time.perf_counter()
    page.evaluate("fetch('/healthz', {cache: 'no-store'}).then(r => r.text())")
    seconds = time.perf_counter() - started
    if seconds < LINK.round_trip_ms / 1000:
        raise SystemExit(f"the link is not throttled: a request took {seconds:.2f} s")


def timed_load(page: Page, path: str, until: str) -> float:
    started = time.perf_counter()
    page.goto(path, wait_until="load")
    if until == "networkidle":
        page.wait_for_load_state("networkidle")
    return time.perf_counter() - started


def sign_in(page: Page, account: Account) -> None:
    page.goto("/")
    page.get_by_label("Email").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Six-digit code").fill(pyotp.TOTP(account.totp).now())
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with seeded_app(SCHEMA, args.incidents, reseed=True, drop=True) as app:
        (officer,) = create_accounts(app, "mission", 1, missions=["MINUSMA"], state=None)
        with (
            gunicorn(app, PORT),
            slow_link(LINK, PROXY_PORT, PORT) as base_url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(base_url=base_url, locale="en-GB")
            page = context.new_page()
            sign_in(page, officer)
            print(f"load average before: {load_average()}")
            check_throttled(page)
            print(f"{args.incidents} incidents; 256 kbit/s, 600 ms; warm cache; "
                  f"median of {args.repeats} loads")  # fmt: skip
            for name, (path, until, budget) in PAGES.items():
                timed_load(page, path, until)  # fills the cache
                seconds = [timed_load(page, path, until) for _ in range(args.repeats)]
                median = statistics.median(seconds)
                verdict = "within" if median < budget else "OVER"
                print(f"{name:14} {median:5.2f} s (budget {budget} s, {verdict})")
            print(f"load average after: {load_average()}")
            browser.close()


if __name__ == "__main__":
    main()
