"""The heavy libraries of maps (matplotlib for charts, folium for the map page), loaded in
the background as soon as a process serves its first request.

Importing them takes a second or more, which no request should wait for. gunicorn's
master imports them before forking its workers (``gunicorn.conf.py``); the development
server of ``make run`` and any other process loads them here, while its first user signs
in. A request that needs one before it is loaded waits for the import to finish, as it
would have without this. The test suite imports what its tests use, and starts no thread.
"""

from __future__ import annotations

import importlib
import threading

from flask import current_app

HEAVY = ("maps.drawing", "maps.folium_map")
_started = threading.Event()


def start() -> None:
    """Load the heavy libraries in a background thread, once per process."""
    if _started.is_set() or current_app.testing:
        return
    _started.set()
    threading.Thread(target=_load, name="capdb-warm-up", daemon=True).start()


def _load() -> None:
    for name in HEAVY:
        importlib.import_module(name)
