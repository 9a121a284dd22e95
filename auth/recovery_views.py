"""Getting back in: a forgotten password (a link by mail), and one's recovery codes."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from auth import account_mail, accounts, audit, recovery_codes, resets
from auth.access import viewer
from auth.forms import ForgotPasswordForm, RenewCodesForm, ResetPasswordForm
from auth.passwords import verify_password
from capdb import db
from capdb.config import current_config
from capdb.security import public

bp = Blueprint("recovery", __name__, template_folder="templates", url_prefix="/auth")

TOO_MANY = 429
INVALID = 422


@bp.route("/forgot", methods=["GET", "POST"])
@public
def forgot_password() -> str | tuple[str, int]:
    """Ask for a reset link; the answer is the same whether or not the address is known."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            resets.request_reset(db.session(), form.email.data or "", request.remote_addr)
        except resets.TooManyRequestsError:
            message = _("Too many requests from your network. Try again in an hour.")
            return render_template("auth/forgot.html", form=form, refused=message), TOO_MANY
        minutes = current_config().password_reset_minutes
        return render_template("auth/forgot_sent.html", minutes=minutes)
    page = render_template("auth/forgot.html", form=form)
    return (page, INVALID) if form.is_submitted() else page


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> str | Response | tuple[str, int]:
    """Choose a new password through a live link: every session ends, every token dies."""
    user = resets.user_of_link(db.session(), token)
    if user is None:
        return render_template("auth/reset_invalid.html"), 404
    form = ResetPasswordForm()
    form.email_for_policy = user.email
    if form.validate_on_submit():
        if not resets.use_link(db.session(), token):
            return render_template("auth/reset_invalid.html"), 404
        accounts.set_password(db.session(), user, form.new.data or "", by=user)
        flash(_("Your password was changed and your sessions were ended. Sign in with it."), "info")
        return redirect(url_for("auth.login"))
    page = render_template("auth/reset.html", form=form)
    return (page, INVALID) if form.is_submitted() else page


@bp.route("/recovery-codes", methods=["GET", "POST"])
def renew_codes() -> str | tuple[str, int]:
    """How many recovery codes are left; new ones for the current password."""
    user = viewer()
    if not user.totp_secret:
        abort(404)
    form = RenewCodesForm()
    if form.validate_on_submit():
        if verify_password(user.password_hash, form.current.data or ""):
            codes = recovery_codes.renew(db.session(), user)
            audit.record(db.session(), "update", user=user, target=user, detail={"totp": "codes"})
            account_mail.two_factor_changed(db.session(), user, account_mail.CODES_RENEWED)
            return render_template("auth/recovery_codes.html", codes=codes, next=url_for("home"))
        form.current.errors = [_("This is not your current password.")]
    left = recovery_codes.remaining(db.session(), user)
    page = render_template("auth/recovery_codes_renew.html", form=form, left=left)
    return (page, INVALID) if form.is_submitted() else page
