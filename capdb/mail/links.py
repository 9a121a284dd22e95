"""Links in mail: absolute, on the site's address as users reach it (``CAPDB_BASE_URL``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from capdb.config import current_config


def external_url(endpoint: str, **values: object) -> str:
    """An absolute link to a page, built without a request (the worker writes mail too)."""
    base = urlsplit(current_config().base_url)
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
