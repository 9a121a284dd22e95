"""Pages for signing in and managing accounts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates", url_prefix="/auth")
