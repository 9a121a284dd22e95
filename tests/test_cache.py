"""The shared cache of drawn charts: one drawing serves every process, on disk or in Redis."""

from __future__ import annotations

import redis

from capdb import cache
from capdb.app import create_app
from capdb.config import Config
from maps import drawing
from maps.charts import Figure
from maps.tables import Chart
from tests.conftest import REDIS
from tests.test_health import closed_port

REDIS_URL = f"{REDIS}/12"


def figure(count: int) -> Figure:
    return Figure(
        "incidents", "Incidents", ("month", "n"), (("2024-01", count),), Chart((1,), "incidents")
    )


def test_a_chart_drawn_by_one_process_is_served_to_another(app_config: Config) -> None:
    first, second = create_app(app_config), create_app(app_config)
    with first.app_context():
        markup = drawing.render(figure(3))
    assert markup.startswith("<svg")
    assert ">Incidents</title>" in markup
    _recent, shared = second.extensions["capdb.cache"]
    key = drawing.chart_key(figure(3))
    assert shared.get(key) == markup
    assert (app_config.instance_path / cache.FOLDER).is_dir()
    # What the other process finds in the shared cache is what it serves, undrawn.
    shared.set(key, "<svg>kept</svg>")
    with second.app_context():
        assert drawing.render(figure(3)) == "<svg>kept</svg>"
        assert drawing.render(figure(4)) != "<svg>kept</svg>"  # another table, another key


def test_charts_are_shared_through_redis_when_it_is_configured(app_config: Config) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    config = app_config.replace(redis_url=REDIS_URL)
    first, second = create_app(config), create_app(config)
    with first.app_context():
        markup = drawing.render(figure(5))
    assert client.keys("capdb:cache:*") == [f"capdb:cache:{drawing.chart_key(figure(5))}".encode()]
    _recent, shared = second.extensions["capdb.cache"]
    shared.set(drawing.chart_key(figure(5)), markup.replace("Incidents", "Drawn once"))
    with second.app_context():
        assert "Drawn once" in drawing.render(figure(5))
    with first.app_context():
        assert drawing.render(figure(5)) == markup  # its own recent answers come first
    client.flushdb()


def test_a_cache_that_fails_only_makes_the_chart_again(app_config: Config) -> None:
    unreachable = create_app(app_config.replace(redis_url=f"redis://127.0.0.1:{closed_port()}/0"))
    with unreachable.app_context():
        markup = drawing.render(figure(6))
    assert markup.startswith("<svg")
    assert ">Incidents</title>" in markup
