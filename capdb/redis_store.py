"""The deployment's Redis, when ``CAPDB_REDIS_URL`` is set: one client per process.

Sessions, login throttles, rate limits, the job queue and the chart cache live there so
that every process on every host sees the same. A Redis that does not answer is no fault of
the request: :mod:`capdb.errors` answers it 503 with ``Retry-After``, never 500.
"""

from __future__ import annotations

import redis
from flask import Flask, current_app, has_app_context

from capdb.config import Config


def init_app(app: Flask, config: Config) -> None:
    client = None
    if config.redis_url:
        client = redis.Redis.from_url(
            config.redis_url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
        )
    app.extensions["capdb.redis"] = client


def client(app: Flask | None = None) -> redis.Redis | None:
    """The shared Redis, or None when the deployment has none (or outside an application,
    where there is nothing to share)."""
    if app is None and not has_app_context():
        return None
    found: redis.Redis | None = (app or current_app).extensions.get("capdb.redis")
    return found
