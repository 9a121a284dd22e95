"""Forms for recording incidents: the incident with, on the same page, any number of
victims; the workflow steps; the decision on likely duplicates.

Choices are labelled in the viewer's language when a form is built, and every value is
checked server-side: each field here (vocabularies, countries, the missions the user may
record for, lengths), the rules between fields in :mod:`incidents.recording.rules`, which the API
and the import apply too. A form only ever yields the values a user may set
(:class:`incidents.recording.service.IncidentFields`); status, version, authorship and reference
are not among its fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import HiddenInput

from capdb.i18n import current_locale
from capdb.reference import Country, Mission
from capdb.vocabularies import (
    ATTACK_CONTEXT,
    DATE_PRECISION,
    GEO_PRECISION,
    LOCATION_TYPE,
    MEANS_OF_ATTACK,
    OUTCOME,
    PERPETRATOR_TYPE,
    PERSONNEL_CATEGORY,
    SEX,
    VERIFICATION_STATUS,
    Vocabulary,
)
from incidents.models import Incident
from incidents.recording import rules
from incidents.recording.rules import MAX_VICTIMS
from incidents.recording.service import (
    RETURN_REASON_MAX,
    ChangedField,
    IncidentFields,
    VictimFields,
    VictimRow,
)

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


def _empty_to_none(value: str | None) -> str | None:
    return value or None


def _checked(field: Any) -> Any:
    """The field's value for the shared rules: None when empty or refused already."""
    return None if field.errors or field.data == "" else field.data


def _report(form: Form, problems: rules.Problems) -> bool:
    """Show what the shared rules found next to each field, unless the field's own check
    refused it already; whether they found nothing."""
    for name, reasons in problems.items():
        if not form[name].errors:
            form[name].errors = list(reasons)
    return not problems


def _sort_key(label: str) -> str:
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
        choices += [SelectChoice(t.code, t.label(locale)) for t in vocabulary]
        super().__init__(
            label,
            choices=choices,
            default=default,
            invalid_choice_message=_l("Choose one of the listed values."),
            **kwargs,
        )


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


def _hidden_integer() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[Optional()])


@dataclass(frozen=True)
class VictimContext:
    """What checking a victim row needs from the incident it belongs to."""

    countries: frozenset[str]
    victim_ids: frozenset[int]
    incident_date: date | None


class VictimForm(Form):
    """One victim row. A row left blank, or marked for removal, is not checked."""

    class Meta:
        def get_translations(self, form: Form) -> Any:
            return wtforms_translations

    victim_id = _hidden_integer()
    victim_version = _hidden_integer()
    category = VocabularyField(
        _l("Personnel category"),
        PERSONNEL_CATEGORY,
        blank=_l("Choose…"),
        validators=[DataRequired(message=_l("Choose the personnel category."))],
    )
    nationality = SelectField(_l("Nationality"), validate_choice=False, default="")
    contributing_country = SelectField(
        _l("Contributing country"), validate_choice=False, default=""
    )
    unit = StringField(_l("Unit"), filters=[strip], validators=[Length(max=rules.UNIT_MAX)])
    sex = VocabularyField(_l("Sex"), SEX, default="unknown")
    outcome = VocabularyField(
        _l("Outcome"),
        OUTCOME,
        blank=_l("Choose…"),
        validators=[DataRequired(message=_l("Choose what happened to the victim."))],
    )
    date_of_death = DateField(
        _l("Date of death"),
        validators=[Optional()],
        invalid_value_message=_l("Enter a date such as 2021-03-14."),
    )
    name = StringField(
        _l("Name (optional)"), filters=[strip], validators=[Length(max=rules.NAME_MAX)]
    )
    remove = BooleanField(_l("Remove this victim"))

    context = VictimContext(frozenset(), frozenset(), None)

    def set_country_choices(self, choices: list[SelectChoice]) -> None:
        self.nationality.choices = [SelectChoice("", _("Choose…")), *choices]
        self.contributing_country.choices = [SelectChoice("", _("None")), *choices]

    @property
    def is_blank(self) -> bool:
        """Nothing entered: a spare row, ignored."""
        filled = (
            self.victim_id.raw_data and self.victim_id.raw_data[0],
            self.category.data,
            self.nationality.data,
            self.contributing_country.data,
            self.unit.data,
            self.outcome.data,
            self.date_of_death.raw_data and self.date_of_death.raw_data[0],
            self.name.data,
        )
        return not any(filled)

    @property
    def counts(self) -> bool:
        """Whether the row is saved: neither blank nor marked for removal."""
        return not (self.remove.data or self.is_blank)

    def validate(self, extra_validators: Any = None) -> bool:
        if self.counts:
            valid = bool(super().validate(extra_validators))
            values = {
                "category": _checked(self.category),
                "contributing_country_code": _checked(self.contributing_country),
                "outcome": _checked(self.outcome),
                "date_of_death": _checked(self.date_of_death),
            }
            problems = rules.victim_problems(values, incident_date=self.context.incident_date)
            return _report(self, problems) and valid
        # A skipped row still may not name another incident's victim.
        self.victim_id.errors = []
        try:
            self.validate_victim_id(self.victim_id)
        except ValidationError as error:
            self.victim_id.errors = [str(error)]
            return False
        return True

    def validate_victim_id(self, field: IntegerField) -> None:
        if field.data is not None and field.data not in self.context.victim_ids:
            raise ValidationError(_("This victim is not part of this incident."))

    def validate_nationality(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_("Choose the victim's nationality."))
        if field.data not in self.context.countries:
            raise ValidationError(_("Choose a country from the list."))

    def validate_contributing_country(self, field: SelectField) -> None:
        if field.data and field.data not in self.context.countries:
            raise ValidationError(_("Choose a country from the list."))

    def fields(self) -> VictimFields:
        return VictimFields(
            category=self.category.data,
            nationality_code=self.nationality.data,
            contributing_country_code=_empty_to_none(self.contributing_country.data),
            unit=_empty_to_none(self.unit.data),
            sex=self.sex.data,
            outcome=self.outcome.data,
            date_of_death=self.date_of_death.data,
            name=_empty_to_none(self.name.data),
        )


class IncidentForm(FlaskForm):
    """An incident and its victims. Built with the missions the user may record for and
    the countries; ``victim_ids`` are the victims an edit may change."""

    mission = SelectField(_l("Mission"), validate_choice=False, default="")
    occurred_on = DateField(
        _l("Date"),
        validators=[InputRequired(message=_l("Enter the date of the incident."))],
        invalid_value_message=_l("Enter a date such as 2021-03-14."),
    )
    occurred_time = TimeField(
        _l("Time (optional)"),
        format=["%H:%M", "%H:%M:%S"],
        validators=[Optional()],
        invalid_value_message=_l("Enter a time such as 14:30."),
    )
    date_precision = VocabularyField(_l("Date precision"), DATE_PRECISION, default="day")
    country = SelectField(_l("Country where it happened"), validate_choice=False, default="")
    place = StringField(
        _l("Place"),
        filters=[strip],
        validators=[DataRequired(message=_l("Name the place.")), Length(max=rules.PLACE_MAX)],
    )
    latitude = DegreesField(_l("Latitude"), render_kw={"inputmode": "decimal"})
    longitude = DegreesField(_l("Longitude"), render_kw={"inputmode": "decimal"})
    geo_precision = VocabularyField(_l("Location precision"), GEO_PRECISION, default="exact")
    means_of_attack = VocabularyField(
        _l("Means of attack"),
        MEANS_OF_ATTACK,
        blank=_l("Choose…"),
        validators=[DataRequired(message=_l("Choose the means of attack."))],
    )
    attack_context = VocabularyField(
        _l("Context of the attack"),
        ATTACK_CONTEXT,
        blank=_l("Choose…"),
        validators=[DataRequired(message=_l("Choose the context of the attack."))],
    )
    location_type = VocabularyField(
        _l("Location type"),
        LOCATION_TYPE,
        blank=_l("Choose…"),
        validators=[DataRequired(message=_l("Choose the type of location."))],
    )
    perpetrator_type = VocabularyField(
        _l("Perpetrator"),
        PERPETRATOR_TYPE,
        blank=_l("Choose…"),
        validators=[DataRequired(message=_l("Choose the type of perpetrator."))],
    )
    perpetrator_name = StringField(
        _l("Perpetrator's name (optional)"),
        filters=[strip],
        validators=[Length(max=rules.PERPETRATOR_NAME_MAX)],
    )
    narrative = TextAreaField(
        _l("Narrative"), filters=[strip], validators=[Length(max=rules.NARRATIVE_MAX)]
    )
    sources = TextAreaField(
        _l("Sources"), filters=[strip], validators=[Length(max=rules.SOURCES_MAX)]
    )
    victims = FieldList(FormField(VictimForm), label=_l("Victims"), min_entries=1)
    # The version the edit form was loaded at: only compared, never assigned.
    version = _hidden_integer()
    add_victim = SubmitField(_l("Add a victim"))
    save = SubmitField(_l("Save"))

    def __init__(
        self,
        *,
        missions: Sequence[Mission],
        countries: Sequence[Country],
        victim_ids: Collection[int] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        locale = current_locale()
        self.allowed_missions = {m.code: m for m in missions}
        self.known_countries = frozenset(c.code for c in countries)
        self.victim_ids = frozenset(victim_ids)
        self.mission.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(m.code, f"{m.code} · {m.name(locale)}") for m in missions
        ]
        named = sorted(((c.code, c.name(locale)) for c in countries), key=lambda c: _sort_key(c[1]))
        self.country_choices = [SelectChoice(code, name) for code, name in named]
        self.country.choices = [
            SelectChoice("", _("The mission's host country")),
            *self.country_choices,
        ]
        for entry in self.victims:
            entry.form.set_country_choices(self.country_choices)

    @staticmethod
    def initial_data(incident: Incident | None, missions: Sequence[Mission]) -> dict[str, Any]:
        """What a form shows before it is submitted: the incident's values, or defaults."""
        if incident is None:
            first = missions[0] if missions else None
            return {
                "mission": first.code if first else "",
                "country": first.hosts[0].code if first and first.hosts else "",
                "victims": [{}],
            }
        return {
            "mission": incident.mission_code,
            "occurred_on": incident.occurred_on,
            "occurred_time": incident.occurred_time,
            "date_precision": incident.date_precision,
            "country": incident.country_code,
            "place": incident.place,
            "latitude": incident.latitude,
            "longitude": incident.longitude,
            "geo_precision": incident.geo_precision,
            "means_of_attack": incident.means_of_attack,
            "attack_context": incident.attack_context,
            "location_type": incident.location_type,
            "perpetrator_type": incident.perpetrator_type,
            "perpetrator_name": incident.perpetrator_name or "",
            "narrative": incident.narrative,
            "sources": incident.sources,
            "version": incident.version,
            "victims": [
                {
                    "victim_id": v.id,
                    "victim_version": v.version,
                    "category": v.category,
                    "nationality": v.nationality_code,
                    "contributing_country": v.contributing_country_code or "",
                    "unit": v.unit or "",
                    "sex": v.sex,
                    "outcome": v.outcome,
                    "date_of_death": v.date_of_death,
                    "name": v.name or "",
                }
                for v in incident.victims
                if v.deleted_at is None
            ]
            or [{}],
        }

    @property
    def wants_another_victim(self) -> bool:
        return bool(self.is_submitted() and self.add_victim.data)

    def add_victim_row(self) -> None:
        if len(self.victims.entries) >= MAX_VICTIMS:
            return
        entry = self.victims.append_entry({})
        entry.form.set_country_choices(self.country_choices)

    def validate(self, extra_validators: Any = None) -> bool:
        context = VictimContext(self.known_countries, self.victim_ids, self.occurred_on.data)
        for entry in self.victims:
            entry.form.context = context
        valid = bool(super().validate(extra_validators))
        values = {
            name: _checked(self[name])
            for name in ("occurred_on", "occurred_time", "date_precision", "latitude", "longitude")
        }
        values["country_code"] = _checked(self.country)
        problems = rules.incident_problems(values, mission=self._mission)
        return _report(self, problems) and valid

    @property
    def _mission(self) -> Mission | None:
        return self.allowed_missions.get(self.mission.data)

    def validate_mission(self, field: SelectField) -> None:
        if not field.data:
            raise ValidationError(_("Choose the mission."))
        if field.data not in self.allowed_missions:
            raise ValidationError(_("You cannot record incidents for this mission."))

    def validate_country(self, field: SelectField) -> None:
        field.data = rules.country_where(field.data, self._mission) or ""
        if field.data and field.data not in self.known_countries:
            raise ValidationError(_("Choose a country from the list."))

    def validate_victims(self, field: FieldList) -> None:
        if len(field.entries) > MAX_VICTIMS:
            raise ValidationError(_("At most %(max)d victims per incident.", max=MAX_VICTIMS))
        ids = [e.form.victim_id.data for e in field.entries if e.form.victim_id.data is not None]
        if len(ids) != len(set(ids)):
            raise ValidationError(_("The same victim appears twice."))

    def incident_fields(self) -> IncidentFields:
        return IncidentFields(
            mission_code=self.mission.data,
            occurred_on=self.occurred_on.data,
            occurred_time=self.occurred_time.data,
            date_precision=self.date_precision.data,
            country_code=self.country.data,
            place=self.place.data,
            latitude=self.latitude.data,
            longitude=self.longitude.data,
            geo_precision=self.geo_precision.data,
            means_of_attack=self.means_of_attack.data,
            attack_context=self.attack_context.data,
            location_type=self.location_type.data,
            perpetrator_type=self.perpetrator_type.data,
            perpetrator_name=_empty_to_none(self.perpetrator_name.data),
            narrative=self.narrative.data or "",
            sources=self.sources.data or "",
        )

    def victim_rows(self) -> list[VictimRow]:
        """The rows to save: blank spare rows left out, removed ones without values."""
        rows = []
        for entry in self.victims:
            victim: VictimForm = entry.form
            if victim.is_blank:
                continue
            if victim.remove.data and victim.victim_id.data is None:
                continue
            rows.append(
                VictimRow(
                    victim_id=victim.victim_id.data,
                    version=victim.victim_version.data,
                    fields=None if victim.remove.data else victim.fields(),
                )
            )
        return rows

    def rebase(self, version: int, versions: dict[int, int]) -> None:
        """Carry the current versions, after the user was shown what changed meanwhile:
        saving again is then a decision taken knowing those changes."""
        _set_hidden(self.version, version)
        for entry in self.victims:
            victim: VictimForm = entry.form
            victim_id = victim.victim_id.data
            if victim_id is None:
                continue
            if victim_id in versions:
                _set_hidden(victim.victim_version, versions[victim_id])
            else:  # removed meanwhile: saving the row records the victim anew
                _set_hidden(victim.victim_id, None)
                _set_hidden(victim.victim_version, None)

    def summary(self) -> ErrorSummary:
        return ErrorSummary(self)

    def describe(self, changes: Sequence[ChangedField]) -> list[tuple[str, str]]:
        """Each changed field as its label and its newer value, in the viewer's language."""
        fields = {
            "mission_code": self.mission,
            "country_code": self.country,
            **{name: self[name] for name in IncidentFields.__dataclass_fields__ if name in self},
        }
        extra_labels = {
            "status": _("Status"),
            "return_reason": _("Reason for return"),
            "duplicate_of_id": _("Duplicate of"),
            "deleted_at": _("Deleted"),
        }
        described = []
        for change in changes:
            form_field = fields.get(change.name)
            if form_field is not None:
                described.append((form_field.label.text, _display(form_field, change.value)))
            elif change.name == "status" and isinstance(change.value, str):
                described.append(
                    (
                        extra_labels["status"],
                        VERIFICATION_STATUS.label(change.value, current_locale()),
                    )
                )
            else:
                label = extra_labels.get(change.name, change.name)
                described.append((label, "" if change.value is None else str(change.value)))
        return described


def _display(field: Any, value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(field, SelectField):
        for choice in field.choices:
            if choice.value == value:
                return str(choice.label)
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def _set_hidden(field: IntegerField, value: int | None) -> None:
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

    def __init__(self, form: IncidentForm) -> None:
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


class WorkflowForm(FlaskForm):
    """A workflow step, taken on the version of the incident its page showed."""

    version = IntegerField(validators=[InputRequired()])


class ReturnForm(WorkflowForm):
    reason = TextAreaField(
        _l("Reason for returning it to draft"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Give the reason for returning the incident.")),
            Length(max=RETURN_REASON_MAX),
        ],
    )


class DuplicateForm(FlaskForm):
    """Either the incident this one duplicates, or the decision that it is a new one."""

    duplicate_of = IntegerField(validators=[Optional()])
    new_incident = SubmitField(_l("This is a new incident"))
