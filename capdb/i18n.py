"""English and French: the locale of a request, and the switch between them."""

from __future__ import annotations

from flask import Blueprint, Flask, has_request_context, redirect, request
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from capdb.config import LOCALES, current_config
from capdb.safe_redirect import safe_next
from capdb.security import public

LOCALE_COOKIE = "capdb_lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    if not has_request_context():  # commands speak the default language
        return current_config().default_locale
    chosen = request.cookies.get(LOCALE_COOKIE)
    if chosen in LOCALES:
        return chosen
    # By quality, matching on the primary tag, so that "fr-CH, en;q=0.5" gives French.
    for tag, _quality in request.accept_languages:
        primary = tag.split("-")[0].lower()
        if primary in LOCALES:
            return primary
    return current_config().default_locale


def current_locale() -> str:
    """The language code of the current request, such as ``"fr"``."""
    return str(get_locale() or current_config().default_locale)


@bp.post("/language")
@public
def switch_language() -> Response:
    """Remember the chosen language in a cookie and go back where the user was."""
    chosen = request.form.get("language", "")
    response = redirect(safe_next(request.form.get("next")))
    if chosen in LOCALES:
        response.set_cookie(
            LOCALE_COOKIE,
            chosen,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_config().is_production,
        )
    return response


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(current_locale=current_locale, LOCALES=LOCALES)
