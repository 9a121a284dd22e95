"""What the service worker keeps so that a mission user can record incidents without a
link, and the script it runs.

It keeps three things, and nothing else:

- the static assets of the pages below, under their content-digest URLs (the same for
  every user);
- the signed-in user's pages for recording: the new-incident form (the user's missions
  are in it), the drafts and outbox page, and the page saying that the rest needs the
  link;
- reference data: the vocabularies, the missions the user records for and the countries
  (``/offline/reference.json``), and the country borders the form's point picker starts
  with.

No page or answer with case data is among them: what the user drafted stays in the
browser's IndexedDB store, written by the pages' scripts, never by the worker's cache.

The worker's script starts with this configuration; a change of any asset changes the
script itself, so browsers install the new worker, which drops the old assets.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import current_app, url_for

from capdb import vendor

WORKER_SOURCE = Path(__file__).resolve().parent / "static" / "service-worker.js"
# The pages' own scripts and styles, and those of the incident form.
STATIC_ASSETS: tuple[str, ...] = (
    "css/capdb.css",
    "css/offline.css",
    "css/point-picker.css",
    "js/offline-store.js",
    "js/offline-shell.js",
    "js/offline-form.js",
    "js/offline-outbox.js",
    "js/point-picker.js",
    "img/capdb.svg",
)
VENDOR_ASSETS: tuple[tuple[str, str], ...] = (
    ("leaflet", "leaflet.css"),
    ("leaflet", "leaflet.js"),
    ("idb", "umd.js"),
)
# The zoom the form's point picker opens at (capdb/static/js/point-picker.js): its borders
# are asked for without a bounding box, the same for every user.
PICKER_ZOOM = 3


def asset_urls() -> list[str]:
    return [url_for("static", filename=name) for name in STATIC_ASSETS] + [
        vendor.url(package, name) for package, name in VENDOR_ASSETS
    ]


def borders_url() -> str | None:
    """The country borders of the point picker: the endpoint the application names."""
    endpoint: str | None = current_app.extensions.get("capdb.borders_endpoint")
    return url_for(endpoint) if endpoint else None


def worker_config() -> dict[str, Any]:
    borders = borders_url()
    data = [url_for("api_reference.vocabularies"), url_for("offline.reference")]
    if borders:
        data.append(f"{borders}?level=admin0&zoom={PICKER_ZOOM}")
    config: dict[str, Any] = {
        "assets": asset_urls(),
        "pages": {
            "form": url_for("recording.new"),
            "edit": url_for("recording.edit", incident_id=0),
            "outbox": url_for("offline.outbox"),
            "unavailable": url_for("offline.unavailable"),
        },
        "data": data,
        "borders": borders,
        "logout": url_for("auth.logout"),
        "scripts": [vendor.url("idb", "umd.js"), url_for("static", filename="js/offline-store.js")],
    }
    return config


def worker_script() -> str:
    """The service worker: its configuration, with a version that changes with any of it
    or with the worker's own code, then its code."""
    source = _worker_source()
    config = worker_config()
    text = json.dumps(config, sort_keys=True)
    config["version"] = hashlib.sha256((text + source).encode()).hexdigest()[:16]
    return f"self.CAPDB_OFFLINE = {json.dumps(config, sort_keys=True)};\n{source}"


@cache
def _worker_source() -> str:
    return WORKER_SOURCE.read_text(encoding="utf-8")
