"""The JSON API under /api/v1, documented by its OpenAPI document."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API on the application."""
