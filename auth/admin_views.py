"""Account administration: the list of accounts, creating one, changing its role and
bindings, disabling and enabling it. Administrators only."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from auth import accounts
from auth.access import roles_required
from auth.admin_forms import EditUserForm, NewUserForm
from auth.models import User
from capdb import db
from capdb.i18n import current_locale
from capdb.vocabularies import ROLE

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")

# Re-rendered forms answer 422 (invalid) or 409 (stale), so the request rolls back.
INVALID = 422
CONFLICT = 409


def acting_admin() -> User:
    user: User = current_user._get_current_object()
    return user


def user_or_404(user_id: int) -> User:
    user = db.session().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/users")
@roles_required("admin")
def users() -> str:
    rows = accounts.list_users(db.session())
    return render_template("auth/admin_users.html", rows=rows, me=acting_admin(), ROLE=ROLE)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def new_user() -> str | Response | tuple[str, int]:
    form = NewUserForm()
    form.fill_choices(db.session(), current_locale())
    if not form.validate_on_submit():
        return render_form("auth/admin_user_new.html", form, form.is_submitted())
    try:
        user = accounts.create_user(
            db.session(),
            email=form.email.data or "",
            role=form.role.data or "",
            missions=form.missions.data or [],
            state=form.state.data,
            password=form.password.data or "",
            by=acting_admin(),
        )
    except accounts.AccountError as error:
        form.show(error)
        return render_form("auth/admin_user_new.html", form, True)
    flash(_("The account %(email)s was created.", email=user.email), "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def edit_user(user_id: int) -> str | Response | tuple[str, int]:
    user = user_or_404(user_id)
    form = edit_form(user)
    if not form.validate_on_submit():
        return render_form("auth/admin_user_edit.html", form, form.is_submitted(), user=user)
    try:
        accounts.update_user(
            db.session(),
            user,
            role=form.role.data or "",
            missions=form.missions.data or [],
            state=form.state.data,
            active=form.active.data,
            expected_version=form.expected_version(),
            by=acting_admin(),
        )
    except accounts.StaleEditError as error:
        # The edit may have failed inside a flush; start again from what is stored now.
        db.session().rollback()
        flash(str(error), "error")
        page = render_template(
            "auth/admin_user_edit.html", form=edit_form(user, stored=True), user=user
        )
        return page, CONFLICT
    except accounts.AccountError as error:
        form.show(error)
        return render_form("auth/admin_user_edit.html", form, True, user=user)
    flash(_("The account %(email)s was saved.", email=user.email), "info")
    return redirect(url_for("admin.users"))


def edit_form(user: User, *, stored: bool = False) -> EditUserForm:
    """The account's stored values on GET (or when asked); on POST only what was posted."""
    if stored or request.method == "GET":
        form = EditUserForm(formdata=None, data=current_values(user))
    else:
        form = EditUserForm()
    form.fill_choices(db.session(), current_locale())
    return form


def current_values(user: User) -> dict[str, object]:
    return {
        "role": user.role,
        "missions": sorted(user.mission_codes),
        "state": user.state_code or "",
        "active": user.active,
        "version": str(user.version),
    }


def render_form(
    template: str, form: NewUserForm | EditUserForm, submitted: bool, **context: object
) -> str | tuple[str, int]:
    page = render_template(template, form=form, **context)
    return (page, INVALID) if submitted else page


@bp.post("/users/<int:user_id>/disable")
@roles_required("admin")
def disable_user(user_id: int) -> Response:
    return change_status(user_or_404(user_id), active=False)


@bp.post("/users/<int:user_id>/enable")
@roles_required("admin")
def enable_user(user_id: int) -> Response:
    return change_status(user_or_404(user_id), active=True)


def change_status(user: User, *, active: bool) -> Response:
    try:
        accounts.set_active(db.session(), user, active, by=acting_admin())
    except accounts.AccountError as error:
        for reason in error.problems.values():
            flash(reason, "error")
        return redirect(url_for("admin.users"))
    if active:
        flash(_("The account %(email)s was enabled.", email=user.email), "info")
    else:
        flash(
            _(
                "The account %(email)s was disabled; its sessions were ended and its API "
                "tokens revoked.",
                email=user.email,
            ),
            "info",
        )
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-two-factor")
@roles_required("admin")
def reset_two_factor(user_id: int) -> Response:
    """Forget the user's TOTP secret and recovery codes: it enrolls at its next sign-in."""
    user = user_or_404(user_id)
    try:
        accounts.reset_two_factor(db.session(), user, by=acting_admin())
    except accounts.AccountError as error:
        for reason in error.problems.values():
            flash(reason, "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    flash(
        _(
            "The two-factor sign-in of %(email)s was reset; it will be set up again at the "
            "next sign-in.",
            email=user.email,
        ),
        "info",
    )
    return redirect(url_for("admin.users"))
