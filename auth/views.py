"""Signing in (password, then TOTP, with enrollment on first use), out, and changing one's
password."""

from __future__ import annotations

import time

import pyotp
import segno
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from auth import account_mail, accounts, audit, credentials, recovery_codes, sessions
from auth.forms import ChangePasswordForm, CodeForm, LoginForm, RecoveryCodeForm
from auth.models import User
from auth.passwords import verify_password
from capdb import db
from capdb.i18n import current_locale
from capdb.safe_redirect import safe_next
from capdb.security import public

bp = Blueprint("auth", __name__, template_folder="templates", url_prefix="/auth")

PENDING = "mfa_pending"  # the account that passed the password step, awaiting its code
PENDING_SECONDS = 300
ENROLLING = "totp_enrolling"  # the secret offered to a user setting up TOTP
ISSUER = "capdb"

LOCKED_MESSAGE = "Too many failed attempts. Try again in a few minutes."


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> str | Response:
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated:
        return redirect(safe_next(form.next.data))
    if form.validate_on_submit():
        try:
            user = credentials.check_password(db.session(), form.email.data, form.password.data)
        except credentials.LockedOutError:
            flash(_(LOCKED_MESSAGE), "error")
            return render_template("auth/login.html", form=form)
        if user is None:
            flash(_("Invalid email or password."), "error")
            return render_template("auth/login.html", form=form)
        session.clear()
        session[PENDING] = {"user": user.id, "at": time.time(), "next": form.next.data or ""}
        target = "auth.mfa" if user.totp_secret else "auth.enroll"
        return redirect(url_for(target))
    return render_template("auth/login.html", form=form)


def pending_user() -> User:
    """The user between the password and the code steps, or a 303 back to the credentials."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        abort(redirect(url_for("auth.login")))
    user = db.session().get(User, pending["user"])
    if user is None or not user.active:
        abort(redirect(url_for("auth.login")))
    return user


def sign_in(user: User) -> str:
    """Open the user's session; where to go next."""
    next_target = session.get(PENDING, {}).get("next")
    credentials.clear_failures(db.session(), user.email)
    if user.locale is None:  # the language of the user's mail, until the user chooses
        user.locale = current_locale()
    sessions.start(db.session(), user)
    audit.record(db.session(), "login", user=user)
    return safe_next(next_target)


def finish_login(user: User) -> Response:
    return redirect(sign_in(user))


@bp.route("/mfa", methods=["GET", "POST"])
@public
def mfa() -> str | Response:
    user = pending_user()
    if not user.totp_secret:
        return redirect(url_for("auth.enroll"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            credentials.ensure_not_locked(db.session(), user.email)
        except credentials.LockedOutError:
            session.pop(PENDING, None)
            flash(_(LOCKED_MESSAGE), "error")
            return redirect(url_for("auth.login"))
        if credentials.check_totp(db.session(), user, form.code.data):
            return finish_login(user)
        credentials.record_failure(db.session(), user.email, user, "totp")
        form.code.errors.append(_("This code is not valid. Wait for the next one and try again."))
    return render_template("auth/mfa.html", form=form)


@bp.route("/mfa/recovery", methods=["GET", "POST"])
@public
def recovery_code() -> str | Response:
    """The code step with a recovery code instead of the authenticator app."""
    user = pending_user()
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        try:
            credentials.ensure_not_locked(db.session(), user.email)
        except credentials.LockedOutError:
            session.pop(PENDING, None)
            flash(_(LOCKED_MESSAGE), "error")
            return redirect(url_for("auth.login"))
        if user.totp_secret and recovery_codes.use(db.session(), user, form.code.data):
            left = recovery_codes.remaining(db.session(), user)
            account_mail.two_factor_changed(
                db.session(), user, account_mail.CODE_USED, codes_left=left
            )
            flash(_("You signed in with a recovery code; %(count)d are left.", count=left), "info")
            return finish_login(user)
        credentials.record_failure(db.session(), user.email, user, "recovery_code")
        form.code.errors.append(_("This recovery code is not valid, or was already used."))
    return render_template("auth/recovery_code.html", form=form)


@bp.route("/enroll", methods=["GET", "POST"])
@public
def enroll() -> str | Response:
    user = pending_user()
    if user.totp_secret:
        return redirect(url_for("auth.mfa"))
    secret = session.get(ENROLLING) or pyotp.random_base32()
    session[ENROLLING] = secret
    form = CodeForm()
    if form.validate_on_submit():
        if credentials.check_totp(db.session(), user, form.code.data, secret=secret):
            user.totp_secret = secret
            session.pop(ENROLLING, None)
            audit.record(
                db.session(), "update", user=user, target=user, detail={"totp": "enrolled"}
            )
            codes = recovery_codes.renew(db.session(), user)
            account_mail.two_factor_changed(db.session(), user, account_mail.ENROLLED)
            # Shown this once, never again: the answer to this request, not a page to revisit.
            return render_template("auth/recovery_codes.html", codes=codes, next=sign_in(user))
        form.code.errors.append(_("This code is not valid. Check the time on your phone."))
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4)
    return render_template("auth/enroll.html", form=form, secret=secret, qr=qr)


@bp.post("/logout")
def logout() -> Response:
    user = current_user._get_current_object()
    audit.record(db.session(), "logout", user=user)
    sessions.end(db.session())
    flash(_("You are signed out."), "info")
    response = redirect(url_for("auth.login"))
    # What this browser kept for working offline (drafts, outbox, cached pages) goes too;
    # the page's script clears it first, after asking about anything not yet sent.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/password", methods=["GET", "POST"])
def change_password() -> str | Response:
    user: User = current_user._get_current_object()
    form = ChangePasswordForm()
    form.email_for_policy = user.email
    if form.validate_on_submit():
        if not verify_password(user.password_hash, form.current.data):
            form.current.errors = [_("This is not your current password.")]
        else:
            # The form checked the new password against the same policy.
            accounts.set_password(db.session(), user, form.new.data or "", by=user)
            sessions.start(db.session(), user)
            flash(
                _(
                    "Your password was changed, your other sessions were ended and your "
                    "API tokens were revoked."
                ),
                "info",
            )
            return redirect(url_for("home"))
    return render_template("auth/password.html", form=form)
