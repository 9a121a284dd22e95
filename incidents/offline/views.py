"""The pages and data of the offline app shell: the service worker's script, the web app
manifest, the drafts and outbox page, the page saying that the rest needs the link, and
what the outbox's script asks before it sends (who is signed in, and the CSRF token)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from auth.access import requires, viewer
from capdb import db
from capdb.i18n import current_locale
from capdb.reference import Country
from capdb.security import public
from incidents import policy
from incidents.fields import INCIDENT_FIELDS, VICTIM_FIELDS, Field, recorded
from incidents.offline.shell import worker_script

bp = Blueprint("offline", __name__, template_folder="../templates")

THEME = "#0b5cad"  # capdb.css's accent
# Sent by the service worker when it fetches a page to keep (service-worker.js).
PRECACHE_HEADER = "X-Capdb-Precache"


@bp.get("/service-worker.js")
@public
def service_worker() -> Response:
    """At the root, so that the worker's scope is the whole application. Public: it holds
    no user's data, and a browser checks it for updates without asking anyone to sign in."""
    response = Response(worker_script(), mimetype="text/javascript")
    # Browsers check for a new worker at each visit; it must not come from a cache.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
@public
def manifest() -> Response:
    """The web app manifest, so that the application can be installed on a field laptop.
    Public: browsers fetch it without the session's cookie."""
    body = {
        "name": f"capdb · {_('Crimes against peacekeepers')}",
        "short_name": "capdb",
        "lang": current_locale(),
        "start_url": url_for("recording.new"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME,
        "icons": [
            {
                "src": url_for("static", filename="img/capdb.svg"),
                "sizes": "any",
                "type": "image/svg+xml",
            },
            {
                "src": url_for("static", filename="img/capdb-192.png"),
                "sizes": "192x192",
                "type": "image/png",
            },
            {
                "src": url_for("static", filename="img/capdb-512.png"),
                "sizes": "512x512",
                "type": "image/png",
            },
        ],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline/outbox")
@requires(policy.may_record_incidents)
def outbox() -> str:
    """The drafts and outbox kept in this browser: the page is a frame that its script
    fills from the browser's store; capdb itself knows nothing of them until they are sent."""
    locale = current_locale()
    labels = {
        "incident": {f.name: str(f.label) for f in recorded(INCIDENT_FIELDS)},
        "victim": {f.name: str(f.label) for f in recorded(VICTIM_FIELDS)},
    }
    return render_template("offline/outbox.html", labels=labels, locale=locale)


@bp.get("/offline/unavailable")
def unavailable() -> str:
    """What the service worker shows, without a link, for any page but those it keeps."""
    return render_template("offline/unavailable.html")


@bp.get("/offline/reference.json")
@requires(policy.may_record_incidents)
def reference() -> Response:
    """The missions the user records for and the countries, in both languages: what the
    outbox needs to name the values of a draft without a link."""
    missions = policy.missions_for(db.session(), viewer())
    countries = db.session().scalars(sa.select(Country).order_by(Country.code))
    return jsonify(
        missions=[
            {
                "code": m.code,
                "en": m.name_en,
                "fr": m.name_fr,
                "hosts": [c.code for c in m.hosts],
                "started_on": m.started_on.isoformat(),
                "ended_on": m.ended_on.isoformat() if m.ended_on else None,
            }
            for m in missions
        ],
        countries=[{"code": c.code, "en": c.name_en, "fr": c.name_fr} for c in countries],
    )


@bp.get("/offline/session.json")
def session_state() -> Response:
    """Who is signed in on this browser, and the session's CSRF token: the outbox sends
    only its own user's incidents, through the API, with that token. Signed out, the
    request is sent to the sign-in page like any other."""
    response = jsonify(user=viewer().id, csrf_token=generate_csrf())
    response.headers["Cache-Control"] = "no-store"
    return response


def field_kinds() -> dict[str, Any]:
    """How the outbox turns the form's values into the API's: each recorded field's kind,
    whether it may be empty, and its vocabulary; the victims' defaults, which a spare row
    has too."""

    def described(declared: tuple[Field, ...]) -> dict[str, list[Any]]:
        return {
            f.name: [f.kind.value, f.nullable, f.vocabulary.name if f.vocabulary else None]
            for f in recorded(declared)
        }

    return {
        "incident": described(INCIDENT_FIELDS),
        "victim": described(VICTIM_FIELDS),
        "defaults": {f.name: f.default for f in recorded(VICTIM_FIELDS) if f.default is not None},
    }


@bp.before_app_request
def keep_messages_for_the_next_page() -> None:
    """The service worker fetches the user's pages to keep them: the messages waiting for
    the user's next page must neither be used up by it nor kept in its cache."""
    if request.headers.get(PRECACHE_HEADER):
        request_ctx.flashes = []


@bp.app_context_processor
def offline_helpers() -> dict[str, Any]:
    def works_offline() -> bool:
        """Whether the signed-in user records incidents, hence gets the offline shell."""
        return bool(current_user.is_authenticated and policy.may_record_incidents(viewer()))

    return {"works_offline": works_offline, "offline_fields": field_kinds}
