"""Security headers on every response, error pages included, and the CSRF guard."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from werkzeug.wrappers import Response

from capdb.config import current_config

csrf = CSRFProtect()

View = TypeVar("View", bound=Callable[..., Any])
_PUBLIC = "_capdb_public"


def public(view: View) -> View:
    """Mark a view as reachable without signing in; every other view requires it."""
    setattr(view, _PUBLIC, True)
    return view


def is_public(app: Flask, endpoint: str) -> bool:
    # Static files, the application's and any blueprint's, need no login.
    if endpoint == "static" or endpoint.endswith(".static"):
        return True
    return bool(getattr(app.view_functions.get(endpoint), _PUBLIC, False))


def csp_nonce() -> str:
    """The nonce that lets this response's own inline scripts run, and no others."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    nonce: str = g.csp_nonce
    return nonce


def tile_origin(tile_url: str) -> str:
    """The origin map tiles come from, when an operator configured a tile server.

    Leaflet's ``{s}`` subdomain placeholder becomes a wildcard.
    """
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}.", "*."))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in {"http", "https"} else ""


def content_security_policy(nonce: str, tile_url: str = "") -> str:
    images = " ".join(filter(None, ("'self' data:", tile_origin(tile_url))))
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": "'self'",
        "img-src": images,
        "font-src": "'self'",
        "connect-src": "'self'",
        # The offline app shell: its service worker and web app manifest are capdb's own.
        "worker-src": "'self'",
        "manifest-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


# A file sent as a download carries this policy instead of the pages' own: should a browser
# ever show it, nothing in it runs, loads anything or frames anything.
FILE_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    if headers.get("Content-Security-Policy") != FILE_POLICY:
        headers["Content-Security-Policy"] = content_security_policy(
            csp_nonce(), current_config().tile_url
        )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    # Browsers honour HSTS only over HTTPS, so sending it in development is harmless.
    headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if response.mimetype == "text/html" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
