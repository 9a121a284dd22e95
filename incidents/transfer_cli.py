"""``flask --app wsgi incidents import FILE [--dry-run]`` and ``incidents export``."""

from __future__ import annotations

from flask.cli import AppGroup

incidents_cli = AppGroup("incidents", help="Import and export incidents.")
