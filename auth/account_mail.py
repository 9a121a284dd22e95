"""Mail to a user about its own account: a password reset link, and a word after every
change of password, of two-factor sign-in or of API tokens, so that a change the user did
not make does not go unnoticed. In the user's language; no secret but a reset link."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth.models import User
from capdb.i18n import current_locale
from capdb.mail.links import external_url
from capdb.mail.outbox import Mail, queue_mail


def _send(db: Session, user: User, template: str, kind: str, **context: Any) -> None:
    # Its own choice, else the language of the request that caused the mail.
    with force_locale(user.locale or current_locale()):
        subjects = {
            "password_reset": _("[capdb] Choose a new password"),
            "password_changed": _("[capdb] Your password was changed"),
            "two_factor_changed": _("[capdb] Your two-factor sign-in changed"),
            "token_created": _("[capdb] A new API token for your account"),
        }
        context |= {"login_url": external_url("auth.login")}
        mail = Mail(
            recipient=user.email,
            subject=subjects[template],
            text=render_template(f"auth/mail/{template}.txt", **context),
            html=render_template(f"auth/mail/{template}.html", **context),
            kind=kind,
        )
    queue_mail(db, mail)


def password_reset_link(db: Session, user: User, link: str, minutes: int) -> None:
    _send(db, user, "password_reset", "password_reset", link=link, minutes=minutes)


def password_changed(db: Session, user: User) -> None:
    _send(db, user, "password_changed", "account")


# What changed in the two-factor sign-in, for two_factor_changed.
ENROLLED, RESET, CODES_RENEWED, CODE_USED = "enrolled", "reset", "codes_renewed", "code_used"


def two_factor_changed(db: Session, user: User, change: str, *, codes_left: int = 0) -> None:
    _send(db, user, "two_factor_changed", "account", change=change, codes_left=codes_left)


def token_created(db: Session, user: User, prefix: str) -> None:
    _send(db, user, "token_created", "account", prefix=prefix)
