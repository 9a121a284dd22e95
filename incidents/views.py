"""Pages for incidents and their judicial follow-up."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("incidents", __name__, template_folder="templates", url_prefix="/incidents")


@bp.get("/")
def index() -> str:
    return render_template("incidents/index.html")
