"""A cache of derived values shared by every process of a deployment (cachelib).

What goes in is costly to make and the same for everyone who may ask for it. A chart drawn
from a figure's table is keyed by a digest of what it was made from, so a viewer can only
ever get what their own data would have made, and nothing in it needs to expire on a change
(:func:`remembered`). Values that carry the version of the data they were made from, such as
the sums of the shared cases (:mod:`maps.shared_cases`), are kept under a digest of what
decides them and replaced (:func:`share`, :func:`shared_value`): their reader checks the
version. The cache lives in Redis when ``CAPDB_REDIS_URL`` is set (every host shares it),
else in the instance folder (every process of the host shares it); each process also keeps
its most recent charts. A cache that fails, or is not there (outside an application), is
only slower: the value is made again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from cachelib import BaseCache, FileSystemCache, RedisCache, SimpleCache
from flask import Flask, current_app, has_app_context

from capdb import redis_store
from capdb.config import Config

log = logging.getLogger(__name__)

FOLDER = "cache"
# Kept a month after their last making; files beyond the threshold are pruned.
TIMEOUT_SECONDS = 30 * 24 * 3600
FILE_THRESHOLD = 5_000
RECENT = 256


def make_shared(app: Flask, config: Config) -> BaseCache:
    if (client := redis_store.client(app)) is not None:
        return RedisCache(host=client, key_prefix="capdb:cache:", default_timeout=TIMEOUT_SECONDS)
    return FileSystemCache(
        str(config.instance_path / FOLDER),
        threshold=FILE_THRESHOLD,
        default_timeout=TIMEOUT_SECONDS,
        mode=0o600,
    )


def init_app(app: Flask, config: Config) -> None:
    app.extensions["capdb.cache"] = (SimpleCache(threshold=RECENT), make_shared(app, config))


def digest(*parts: object) -> str:
    """A key for what the parts make: their representation must be the same in every process."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def remembered(key: str, make: Callable[[], str]) -> str:
    """The value kept under the key, or ``make()``'s, kept for the next asker."""
    recent, shared = current_app.extensions["capdb.cache"]
    found = recent.get(key)
    if found is None:
        found = _get(shared, key)
        if found is None:
            found = make()
            _set(shared, key, found)
        recent.set(key, found)
    return str(found)


def shared_value(key: str) -> object:
    """What a process of the deployment shared under the key (None: nothing, or no cache)."""
    if not has_app_context():
        return None
    _recent, shared = current_app.extensions["capdb.cache"]
    return _get(shared, key)


def share(key: str, value: object) -> None:
    """Keep a value for every process of the deployment (any value pickle can store)."""
    if has_app_context():
        _recent, shared = current_app.extensions["capdb.cache"]
        _set(shared, key, value)


def _get(shared: BaseCache, key: str) -> object:
    try:
        return shared.get(key)
    except Exception as error:  # a cache that fails is only slower
        log.warning("shared cache unreadable: %s", type(error).__name__)
        return None


def _set(shared: BaseCache, key: str, value: object) -> None:
    try:
        shared.set(key, value)
    except Exception as error:
        log.warning("shared cache unwritable: %s", type(error).__name__)
