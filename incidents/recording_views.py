"""Recording incidents: the form, the verification workflow and likely duplicates."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("recording", __name__, template_folder="templates", url_prefix="/incidents")
