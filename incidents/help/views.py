"""The help pages: one per role, in the viewer's language; the viewer's own role by default."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from auth.access import viewer
from capdb.i18n import current_locale
from capdb.vocabularies import JUDICIAL_STAGE, REVIEW_STATUS, ROLE, VERIFICATION_STATUS
from incidents.help import rules

bp = Blueprint("help", __name__, template_folder="../templates", url_prefix="/help")


@bp.get("/")
def index() -> str:
    return page(viewer().role)


@bp.get("/<role>")
def for_role(role: str) -> str:
    if role not in rules.ROLES:
        abort(404)
    return page(role)


def page(role: str) -> str:
    locale = current_locale()
    return render_template(
        "incidents/help.html",
        role=role,
        roles=[(code, ROLE.label(code, locale)) for code in rules.ROLES],
        role_label=ROLE.label(role, locale),
        statuses={t.code: t.label(locale) for t in VERIFICATION_STATUS},
        reviews={t.code: t.label(locale) for t in REVIEW_STATUS},
        stages=[t.label(locale) for t in JUDICIAL_STAGE],
        table=rules.table(),
    )
