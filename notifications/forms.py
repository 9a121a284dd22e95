"""The forms of the notification settings: one choice of delivery per kind of event."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from capdb.config import LOCALES
from notifications.kinds import DELIVERY_LABELS, KIND_LABELS
from notifications.models import DELIVERIES

LANGUAGE_NAMES = {"en": "English", "fr": "Français"}


def _delivery_field(label: object, default: str) -> SelectField:
    choices = [SelectChoice(delivery, DELIVERY_LABELS[delivery]) for delivery in DELIVERIES]
    return SelectField(label, choices=choices, default=default)


class ChoicesForm(FlaskForm):
    """A field per kind, named after it; built for the kinds a page offers."""

    kinds: tuple[str, ...] = ()

    def choices(self) -> dict[str, str]:
        return {kind: self[kind].data for kind in self.kinds}


def preferences_form(kinds: Iterable[str], current: dict[str, str], locale: str) -> ChoicesForm:
    """The user's choice per kind, and the language of its mail."""
    kinds = tuple(kinds)
    fields = {kind: _delivery_field(KIND_LABELS[kind], current[kind]) for kind in kinds}
    fields["locale"] = SelectField(
        _l("Language of my mail"),
        choices=[SelectChoice(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        default=locale,
    )
    form_class = type("PreferencesForm", (ChoicesForm,), {**fields, "kinds": kinds})
    form: ChoicesForm = form_class()
    return form


def defaults_form(role: str, kinds: Iterable[str], current: dict[str, str]) -> ChoicesForm:
    """An administrator's defaults for one role, each field prefixed with the role."""
    kinds = tuple(kinds)
    fields = {kind: _delivery_field(KIND_LABELS[kind], current[kind]) for kind in kinds}
    form_class = type("DefaultsForm", (ChoicesForm,), {**fields, "kinds": kinds})
    # The page's one CSRF token is its confirmation form's.
    form: ChoicesForm = form_class(prefix=role, meta={"csrf": False})
    return form


class ConfirmForm(FlaskForm):
    """A button and its CSRF token."""
