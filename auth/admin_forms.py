"""Forms for administering accounts.

The forms only carry what the administrator typed; every rule (valid role, missions for
mission officers, a State for focal points, the password policy) is checked by
:mod:`auth.accounts`, whose reasons the views put next to the fields. Fields not declared
here are never read, so a posted ``password_hash`` or ``id`` changes nothing.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
)

from auth.accounts import AccountError
from capdb.reference import STATES, Mission, countries_of
from capdb.vocabularies import ROLE


# Built per form, so that each form lists its fields in the order the page shows them.
def role_field() -> SelectField:
    return SelectField(_l("Role"), validate_choice=False)


def missions_field() -> SelectMultipleField:
    return SelectMultipleField(_l("Missions"), validate_choice=False, render_kw={"size": 8})


def state_field() -> SelectField:
    return SelectField(_l("Member State"), validate_choice=False)


class AccountForm(FlaskForm):
    """What the create and edit forms share: the choices and the service's reasons."""

    role: SelectField
    missions: SelectMultipleField
    state: SelectField

    def fill_choices(self, db: Session, locale: str) -> None:
        """Offer the roles, missions and States, labelled in the reader's language."""
        self.role.choices = [(term.code, term.label(locale)) for term in ROLE]
        self.missions.choices = [
            (m.code, f"{m.code} – {m.name(locale)}")
            for m in db.scalars(select(Mission).order_by(Mission.code))
        ]
        countries = sorted(countries_of(db, STATES), key=lambda c: c.name(locale).casefold())
        self.state.choices = [("", "—")] + [(c.code, c.name(locale)) for c in countries]

    def show(self, error: AccountError) -> None:
        """Put each reason of the service next to its field."""
        for name, reason in error.problems.items():
            field = self[name]
            field.errors = [*field.errors, reason]


class NewUserForm(AccountForm):
    email = EmailField(_l("Email"))
    role = role_field()
    missions = missions_field()
    state = state_field()
    password = PasswordField(_l("Initial password"))


class EditUserForm(AccountForm):
    role = role_field()
    missions = missions_field()
    state = state_field()
    active = BooleanField(_l("Active (may sign in)"))
    version = HiddenField()

    def expected_version(self) -> int:
        """The version the form was loaded at; -1 (never current) when it is missing."""
        value = (self.version.data or "").strip()
        return int(value) if value.isdigit() else -1
