"""Judicial cases, their defendants and stages, comments, and capacity-building assistance."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("cases", __name__, template_folder="templates")
