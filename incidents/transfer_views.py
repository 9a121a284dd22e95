"""Spreadsheet import, exports and case dossiers."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("transfer", __name__, template_folder="templates")
