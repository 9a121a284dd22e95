"""The application's clock, for decisions that depend on time (expiry, lockouts, codes).

An application may be given its own clock (``app.extensions["capdb.clock"]``), which is
how tests move time forward without touching any global.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app, has_app_context

from capdb.db import utcnow

Clock = Callable[[], datetime]


def now() -> datetime:
    if has_app_context():
        clock: Clock = current_app.extensions.get("capdb.clock", utcnow)
        return clock()
    return utcnow()
