"""Forms for signing in and managing one's password."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from auth.passwords import MAX_LENGTH, password_problems


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    next = HiddenField()


class CodeForm(FlaskForm):
    code = StringField(
        _l("Six-digit code from your authenticator app"),
        validators=[
            DataRequired(),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Enter six digits.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class NewPassword:
    """Validates a new password against the policy."""

    def __call__(self, form: FlaskForm, field: PasswordField) -> None:
        problems = password_problems(field.data or "", getattr(form, "email_for_policy", ""))
        if problems:
            raise ValidationError(problems[0])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), NewPassword()])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


class RecoveryCodeForm(FlaskForm):
    code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(), Length(max=30)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    new = PasswordField(_l("New password"), validators=[DataRequired(), NewPassword()])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", message=_l("The two passwords differ."))],
    )


class RenewCodesForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
