"""The trends dashboard: statistics, charts with their data tables, and the periodic report."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("trends", __name__, template_folder="templates", url_prefix="/trends")
