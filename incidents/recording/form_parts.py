"""The parts the recording forms are made of: the widgets of a declared field
(:mod:`incidents.fields`), the cleaning of typed text, and the summary of a form's
errors at the top of its page."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    FieldList,
    Form,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

from capdb.i18n import current_locale
from capdb.vocabularies import Vocabulary
from incidents.fields import Field, Kind
from incidents.recording import rules

# A point or a comma as the decimal mark: French keyboards type "18,44".
DEGREES = re.compile(r"[+-]?(\d{1,3}([.,]\d{0,12})?|[.,]\d{1,12})")


def strip(value: Any) -> Any:
    """Trim typed text; refuse NUL, which no one types and PostgreSQL cannot store."""
    if not isinstance(value, str):
        return value
    if "\x00" in value:
        # WTForms turns a filter's ValueError into an error on the field.
        raise ValueError(_("This text holds characters that are not allowed."))
    return value.strip()


def empty_to_none(value: str | None) -> str | None:
    return value or None


def checked(field: Any) -> Any:
    """The field's value for the shared rules: None when empty or refused already."""
    return None if field.errors or field.data == "" else field.data


def report(form: Form, problems: rules.Problems) -> bool:
    """Show what the shared rules found next to each field, unless the field's own check
    refused it already; whether they found nothing."""
    for name, reasons in problems.items():
        if not form[name].errors:
            form[name].errors = list(reasons)
    return not problems


def sort_key(label: str) -> str:
    # "Égypte" sorts with the E's, as a French reader expects.
    decomposed = unicodedata.normalize("NFKD", label)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


class VocabularyField(SelectField):
    """A choice among a controlled vocabulary, labelled in the viewer's language."""

    def __init__(
        self,
        label: Any,
        vocabulary: Vocabulary,
        *,
        blank: Any = None,
        default: str = "",
        **kwargs: Any,
    ) -> None:
        locale = current_locale()
        choices = [SelectChoice("", str(blank))] if blank is not None else []
        choices += [SelectChoice(t.code, t.label(locale)) for t in vocabulary.active()]
        self.vocabulary = vocabulary
        super().__init__(
            label,
            choices=choices,
            default=default,
            invalid_choice_message=_l("Choose one of the listed values."),
            **kwargs,
        )

    def keep_current(self, current: str | None) -> None:
        """Offer the record's own value too, retired as it may be: old records keep it."""
        offered: list[Any] = list(getattr(self, "choices", None) or [])
        if current and current in self.vocabulary and current not in {c.value for c in offered}:
            term = self.vocabulary[current]
            label = _("%(label)s (retired)", label=term.label(current_locale()))
            self.choices = [*offered, SelectChoice(current, label)]


class DegreesField(StringField):
    """Decimal degrees, as a float; empty is None."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = valuelist[0].strip() if valuelist else ""
        if not text:
            return
        if not DEGREES.fullmatch(text):
            raise ValueError(_("Enter decimal degrees, such as 18.44 or -1.41."))
        self.data = float(text.replace(",", "."))

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else f"{self.data:.6f}".rstrip("0").rstrip(".")


def hidden_integer() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[Optional()])


def form_field(field: Field) -> Any:
    """The form field of a declared field: its label, vocabulary, length and presence."""
    if field.kind in (Kind.MISSION, Kind.COUNTRY):
        # Their choices depend on the user and the language: set when the form is built.
        return SelectField(field.label, validate_choice=False, default="")
    if field.kind is Kind.CHOICE and field.vocabulary is not None:
        if field.default is not None:
            return VocabularyField(field.label, field.vocabulary, default=field.default)
        validators = [DataRequired(message=field.missing)] if field.required else []
        return VocabularyField(
            field.label, field.vocabulary, blank=_l("Choose…"), validators=validators
        )
    if field.kind is Kind.DATE:
        presence = InputRequired(message=field.missing) if field.required else Optional()
        return DateField(
            field.label,
            validators=[presence],
            invalid_value_message=_l("Enter a date such as 2021-03-14."),
        )
    if field.kind is Kind.TIME:
        return TimeField(
            field.label,
            format=["%H:%M", "%H:%M:%S"],
            validators=[Optional()],
            invalid_value_message=_l("Enter a time such as 14:30."),
        )
    if field.kind is Kind.DEGREES:
        return DegreesField(field.label, render_kw={"inputmode": "decimal"})
    return _text_field(field)


def _text_field(field: Field) -> Any:
    validators: list[Any] = [DataRequired(message=field.missing)] if field.required else []
    if field.max_length is not None:
        validators.append(Length(max=field.max_length))
    kind = TextAreaField if field.kind is Kind.LONG_TEXT else StringField
    return kind(field.label, filters=[strip], validators=validators)


def add_fields(form: type[Form], declared: Sequence[Field]) -> None:
    """Give the form class a field for each declared one, in their order."""
    for field in declared:
        setattr(form, field.name, form_field(field))


def initial_value(field: Field, value: Any) -> Any:
    """What the form shows of a record's value: an empty text rather than None."""
    if value is None and field.kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.COUNTRY):
        return ""
    return value


def recorded_value(field: Field, value: Any) -> Any:
    """What the form gives the service: None or "" for an empty text, as declared."""
    if field.kind in (Kind.TEXT, Kind.LONG_TEXT, Kind.COUNTRY):
        if field.nullable:
            return empty_to_none(value)
        if field.default == "":
            return value or ""
    return value


def display(field: Any, value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(field, SelectField):
        for choice in field.choices:
            if choice.value == value:
                return str(choice.label)
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def set_hidden(field: IntegerField, value: int | None) -> None:
    field.data = value
    field.raw_data = [] if value is None else [str(value)]


@dataclass(frozen=True)
class _SummaryEntry:
    id: str
    label: Any


@dataclass(frozen=True)
class _Label:
    text: str


class ErrorSummary:
    """The form's errors, one entry per field, victims' fields included, in the shape the
    ``errors_summary`` macro reads (``errors`` and ``summary[name].id`` / ``.label.text``)."""

    def __init__(self, form: Form) -> None:
        self.errors: dict[str, list[str]] = {}
        self._entries: dict[str, _SummaryEntry] = {}
        for field in form:
            if field.short_name == "victims":
                self._add_victims(field)
            elif field.errors:
                self._add(field.name, field.id, field.label.text, field.errors)

    def _add_victims(self, victims: FieldList) -> None:
        own = [str(e) for e in victims.errors if isinstance(e, str)]
        if own:
            self._add(victims.name, victims.id, victims.label.text, own)
        for number, entry in enumerate(victims.entries, start=1):
            for sub in entry.form:
                if sub.errors:
                    label = _("Victim %(number)d: %(field)s", number=number, field=sub.label.text)
                    self._add(sub.name, sub.id, label, sub.errors)

    def _add(self, name: str, field_id: str, label: str, errors: Sequence[Any]) -> None:
        self.errors[name] = [str(e) for e in errors]
        self._entries[name] = _SummaryEntry(field_id, _Label(str(label)))

    def __getitem__(self, name: str) -> _SummaryEntry:
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.errors)
