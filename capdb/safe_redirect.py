"""Where a ``next`` parameter may send a user: only to a path of this application."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None, default_endpoint: str = "home") -> str:
    """The target when it is a local path, otherwise the default page.

    Refuses absolute URLs, scheme-relative ``//host`` forms and backslash tricks that some
    browsers read as another host.
    """
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith("//")
            and "\\" not in target
        ):
            return target
    return url_for(default_endpoint)
