"""The map and trends pages."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("maps", __name__, template_folder="templates", url_prefix="/maps")


@bp.get("/")
def index() -> str:
    return render_template("maps/index.html")
