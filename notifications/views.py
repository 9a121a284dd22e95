"""The pages of notifications: each role's home page with its work queues, the list of
notifications, the user's mail settings, unsubscribing from a mail, the administrators'
defaults and the outgoing mail that failed."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature
from werkzeug.wrappers import Response

from auth.access import roles_required, viewer
from auth.models import User
from capdb import db
from capdb.clock import now
from capdb.config import LOCALES, current_config
from capdb.i18n import current_locale
from capdb.mail import outbox
from capdb.security import public
from capdb.vocabularies import ROLE
from notifications import queues, settings
from notifications.delivery import unsubscribe_serializer
from notifications.forms import ChoicesForm, ConfirmForm, defaults_form, preferences_form
from notifications.home import tasks
from notifications.kinds import EVENT_LABELS, KIND_LABELS, ROLE_KINDS
from notifications.models import KINDS

bp = Blueprint("notifications", __name__, template_folder="templates", url_prefix="/notifications")

INVALID = 422


def home() -> str:
    """The role's home (``/`` once signed in, see ``capdb.app``): the work queues of the
    user's role, and where the role's work is."""
    user = viewer()
    return render_template(
        "notifications/home.html",
        role=ROLE.label(user.role, current_locale()),
        who=user.email,
        tasks=tasks(user),
        queues=queues.queues_for(db.session(), user),
        unread=settings.unread_count(db.session(), user),
    )


@bp.get("")
def index() -> str:
    user = viewer()
    return render_template(
        "notifications/index.html",
        notifications=settings.notifications_of(db.session(), user),
        event_labels=EVENT_LABELS,
        form=ConfirmForm(),
    )


@bp.post("/<int:notification_id>/open")
def open_one(notification_id: int) -> Response:
    """Mark the notification read and go to its record."""
    notification = settings.notification_of(db.session(), viewer(), notification_id)
    if notification is None:
        abort(404)
    if notification.read_at is None:
        notification.read_at = now()
    if notification.incident_id is not None:
        return redirect(url_for("incidents.detail", incident_id=notification.incident_id))
    return redirect(url_for("cases.detail", case_id=notification.case_id))


@bp.post("/read")
def read_all() -> Response:
    settings.mark_all_read(db.session(), viewer())
    flash(_("Every notification is marked as read."), "info")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
def preferences() -> str | Response | tuple[str, int]:
    user = viewer()
    session = db.session()
    current = settings.choices_of(session, user)
    locale = user.locale or current_locale()
    form = preferences_form(ROLE_KINDS.get(user.role, ()), current, locale)
    if form.validate_on_submit():
        settings.choose(session, user, form.choices())
        if form["locale"].data in LOCALES and form["locale"].data != user.locale:
            user.locale = form["locale"].data
        flash(_("Your notification settings were saved."), "info")
        return redirect(url_for("notifications.preferences"))
    page = render_template("notifications/preferences.html", form=form)
    return (page, INVALID) if form.is_submitted() else page


def _unsubscribing(token: str) -> tuple[User, list[str]]:
    """The user and the kinds of a signed unsubscribe link; 404 for any other link."""
    try:
        data = unsubscribe_serializer().loads(token)
        user = db.session().get(User, int(data["user"]))
        kinds = [kind for kind in data["kinds"] if kind in KINDS]
    except (BadSignature, KeyError, TypeError, ValueError):
        abort(404)
    if user is None or not user.active or not kinds:
        abort(404)
    return user, kinds


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str) -> str | Response:
    """Stop the mail of the kinds a message was about (the link is the proof of who asks)."""
    user, kinds = _unsubscribing(token)
    form = ConfirmForm()
    if form.validate_on_submit():
        settings.choose(db.session(), user, dict.fromkeys(kinds, "never"))
        return render_template("notifications/unsubscribed.html", kinds=kinds, labels=KIND_LABELS)
    return render_template(
        "notifications/unsubscribe.html", form=form, kinds=kinds, labels=KIND_LABELS
    )


def _defaults_forms() -> dict[str, ChoicesForm]:
    session = db.session()
    return {
        role: defaults_form(role, ROLE_KINDS[role], settings.role_defaults(session, role))
        for role in ROLE.codes
        if ROLE_KINDS.get(role)
    }


@bp.route("/defaults", methods=["GET", "POST"])
@roles_required("admin")
def defaults() -> str | Response | tuple[str, int]:
    """What each role gets by default, per kind of event."""
    forms = _defaults_forms()
    confirm = ConfirmForm()
    if confirm.validate_on_submit():
        valid = [form.validate() for form in forms.values()]  # every form, for every error
        if all(valid):
            for role, form in forms.items():
                settings.set_defaults(db.session(), role, form.choices(), by=viewer())
            flash(_("The defaults were saved."), "info")
            return redirect(url_for("notifications.defaults"))
        page = render_template(
            "notifications/defaults.html", forms=forms, confirm=confirm, ROLE=ROLE
        )
        return page, INVALID
    return render_template("notifications/defaults.html", forms=forms, confirm=confirm, ROLE=ROLE)


@bp.get("/mail")
@roles_required("admin")
def mail() -> str:
    """Outgoing mail: how many wait, and the messages that could not be sent."""
    session = db.session()
    return render_template(
        "notifications/mail.html",
        counts=outbox.status_counts(session),
        failed=outbox.failed_messages(session),
        form=ConfirmForm(),
        max_attempts=current_config().mail_max_attempts,
    )


@bp.post("/mail/<int:message_id>/send-again")
@roles_required("admin")
def send_again(message_id: int) -> Response:
    if not outbox.send_again(db.session(), message_id):
        abort(404)
    flash(_("The message will be sent again."), "info")
    return redirect(url_for("notifications.mail"))
