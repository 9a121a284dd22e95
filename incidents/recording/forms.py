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

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from capdb.i18n import current_locale
from capdb.reference import Country, Mission
from capdb.vocabularies import VERIFICATION_STATUS
from incidents.fields import INCIDENT_FIELDS, VICTIM_FIELDS, Field, Kind, named, recorded
from incidents.models import Incident
from incidents.recording import rules
from incidents.recording.form_parts import (
    ErrorSummary,
    add_fields,
    checked,
    display,
    hidden_integer,
    initial_value,
    recorded_value,
    report,
    set_hidden,
    sort_key,
    strip,
)
from incidents.recording.rules import MAX_VICTIMS
from incidents.recording.service import (
    RETURN_REASON_MAX,
    ChangedField,
    IncidentFields,
    VictimFields,
    VictimRow,
)

__all__ = [
    "DuplicateForm",
    "ErrorSummary",
    "IncidentForm",
    "ReturnForm",
    "VictimForm",
    "WorkflowForm",
]

INCIDENT_FORM_FIELDS = recorded(INCIDENT_FIELDS)
VICTIM_FORM_FIELDS = recorded(VICTIM_FIELDS)
# The choices among vocabularies admins keep: a retired term stays on the records that hold it.
KEPT_INCIDENT_FIELDS = tuple(f for f in INCIDENT_FORM_FIELDS if f.vocabulary and f.vocabulary.kept)
KEPT_VICTIM_FIELDS = tuple(f for f in VICTIM_FORM_FIELDS if f.vocabulary and f.vocabulary.kept)


def stored_values(record: object, declared: tuple[Field, ...]) -> dict[str, Any]:
    return {f.model_attribute: getattr(record, f.model_attribute) for f in declared}


@dataclass(frozen=True)
class VictimContext:
    """What checking a victim row needs from the incident it belongs to."""

    countries: frozenset[str]  # where it happened, who contributed a unit
    victim_ids: frozenset[int]
    incident_date: date | None
    nationalities: frozenset[str] = frozenset()
    # The stored values of the victims an edit may change, by id (they may keep a retired
    # term).
    stored: Mapping[int, Mapping[str, Any]] | None = None


class _VictimFields(Form):
    """A victim row's hidden keys, then its declared fields (added below)."""

    class Meta:
        def get_translations(self, form: Form) -> Any:
            return wtforms_translations

    victim_id = hidden_integer()
    victim_version = hidden_integer()


add_fields(_VictimFields, VICTIM_FORM_FIELDS)


class VictimForm(_VictimFields):
    """One victim row. A row left blank, or marked for removal, is not checked."""

    remove = BooleanField(_l("Remove this victim"))

    context = VictimContext(frozenset(), frozenset(), None)

    def set_country_choices(
        self, choices: list[SelectChoice], nationalities: list[SelectChoice]
    ) -> None:
        self.nationality.choices = [SelectChoice("", _("Choose…")), *nationalities]
        self.contributing_country.choices = [SelectChoice("", _("None")), *choices]

    @property
    def is_blank(self) -> bool:
        """Nothing entered: a spare row, ignored."""
        # A choice with a default (the sex, "unknown") is set on a spare row too.
        filled = [self.victim_id.raw_data and self.victim_id.raw_data[0]]
        for declared in VICTIM_FORM_FIELDS:
            if declared.default is None:
                field = self[declared.name]
                filled.append(
                    field.raw_data and field.raw_data[0]
                    if declared.kind is Kind.DATE
                    else field.data
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
                "category": checked(self.category),
                "contributing_country_code": checked(self.contributing_country),
                "outcome": checked(self.outcome),
                "date_of_death": checked(self.date_of_death),
            }
            problems = rules.victim_problems(values, incident_date=self.context.incident_date)
            stored = (
                (self.context.stored or {}).get(self.victim_id.data)
                if self.victim_id.data
                else None
            )
            choices = {f.model_attribute: checked(self[f.name]) for f in KEPT_VICTIM_FIELDS}
            problems |= rules.retired_problems(choices, KEPT_VICTIM_FIELDS, stored)
            return report(self, problems) and valid
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
        if field.data not in self.context.nationalities:
            raise ValidationError(_("Choose a country from the list."))

    def validate_contributing_country(self, field: SelectField) -> None:
        if field.data and field.data not in self.context.countries:
            raise ValidationError(_("Choose a country from the list."))

    def fields(self) -> VictimFields:
        return VictimFields(**_recorded_values(self, VICTIM_FORM_FIELDS))


def _recorded_values(form: Form, declared: Sequence[Field]) -> dict[str, Any]:
    """The form's values keyed by model attribute, as the recording service takes them."""
    return {f.model_attribute: recorded_value(f, form[f.name].data) for f in declared}


def _initial_values(record: object, declared: Sequence[Field]) -> dict[str, Any]:
    return {f.name: initial_value(f, getattr(record, f.model_attribute)) for f in declared}


class _IncidentFields(FlaskForm):
    """The incident's declared fields (added below)."""


add_fields(_IncidentFields, INCIDENT_FORM_FIELDS)


def mission_label(mission: Mission, locale: str) -> str:
    """A mission as the form offers it; a closed one with its period, the dates it takes."""
    label = f"{mission.code} · {mission.name(locale)}"
    if mission.ended_on is None:
        return label
    return f"{label} ({mission.started_on.isoformat()} – {mission.ended_on.isoformat()})"


class IncidentForm(_IncidentFields):
    """An incident and its victims. Built with the missions the user may record for and
    the countries; ``victim_ids`` are the victims an edit may change."""

    victims = FieldList(FormField(VictimForm), label=_l("Victims"), min_entries=1)
    # The version the edit form was loaded at: only compared, never assigned.
    version = hidden_integer()
    # The key the browser gave the draft (incidents.recording.drafts); set by its script.
    draft_key = StringField(widget=HiddenInput(), filters=[strip])
    add_victim = SubmitField(_l("Add a victim"))
    save = SubmitField(_l("Save"))

    def __init__(
        self,
        *,
        missions: Sequence[Mission],
        countries: Sequence[Country],
        victim_ids: Collection[int] = (),
        stored: Incident | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        locale = current_locale()
        self.stored = stored_values(stored, KEPT_INCIDENT_FIELDS) if stored else None
        self.stored_victims = {
            v.id: stored_values(v, KEPT_VICTIM_FIELDS)
            for v in (stored.victims if stored else ())
            if v.deleted_at is None
        }
        self.allowed_missions = {m.code: m for m in missions}
        places = named(INCIDENT_FIELDS, "country").countries
        nationalities = named(VICTIM_FIELDS, "nationality").countries
        self.known_countries = frozenset(c.code for c in countries if c.kind in places)
        self.known_nationalities = frozenset(c.code for c in countries if c.kind in nationalities)
        self.victim_ids = frozenset(victim_ids)
        self.mission.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(m.code, mission_label(m, locale)) for m in missions
        ]
        by_name = sorted(countries, key=lambda c: sort_key(c.name(locale)))
        self.country_choices = [
            SelectChoice(c.code, c.name(locale)) for c in by_name if c.code in self.known_countries
        ]
        self.nationality_choices = [
            SelectChoice(c.code, c.name(locale))
            for c in by_name
            if c.code in self.known_nationalities
        ]
        self.country.choices = [
            SelectChoice("", _("The mission's host country")),
            *self.country_choices,
        ]
        for entry in self.victims:
            entry.form.set_country_choices(self.country_choices, self.nationality_choices)
        self._offer_stored_terms()

    def _offer_stored_terms(self) -> None:
        """A retired term the record holds stays among the choices, and only there."""
        for declared in KEPT_INCIDENT_FIELDS:
            self[declared.name].keep_current((self.stored or {}).get(declared.model_attribute))
        for entry in self.victims:
            stored = self.stored_victims.get(entry.form.victim_id.data) or {}
            for declared in KEPT_VICTIM_FIELDS:
                entry.form[declared.name].keep_current(stored.get(declared.model_attribute))

    @staticmethod
    def initial_data(incident: Incident | None, missions: Sequence[Mission]) -> dict[str, Any]:
        """What a form shows before it is submitted: the incident's values, or defaults."""
        if incident is None:
            # An open mission first: today's incident is the likeliest to be recorded.
            first = next(
                (m for m in missions if not m.is_closed), missions[0] if missions else None
            )
            return {
                "mission": first.code if first else "",
                "country": first.hosts[0].code if first and first.hosts else "",
                "victims": [{}],
            }
        return {
            **_initial_values(incident, INCIDENT_FORM_FIELDS),
            "version": incident.version,
            "victims": [
                {
                    "victim_id": v.id,
                    "victim_version": v.version,
                    **_initial_values(v, VICTIM_FORM_FIELDS),
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
        entry.form.set_country_choices(self.country_choices, self.nationality_choices)

    def validate(self, extra_validators: Any = None) -> bool:
        context = VictimContext(
            self.known_countries,
            self.victim_ids,
            self.occurred_on.data,
            self.known_nationalities,
            self.stored_victims,
        )
        for entry in self.victims:
            entry.form.context = context
        valid = bool(super().validate(extra_validators))
        values = {
            name: checked(self[name])
            for name in ("occurred_on", "occurred_time", "date_precision", "latitude", "longitude")
        }
        values["country_code"] = checked(self.country)
        problems = rules.incident_problems(values, mission=self._mission)
        choices = {f.model_attribute: checked(self[f.name]) for f in KEPT_INCIDENT_FIELDS}
        problems |= rules.retired_problems(choices, KEPT_INCIDENT_FIELDS, self.stored)
        return report(self, problems) and valid

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
        return IncidentFields(**_recorded_values(self, INCIDENT_FORM_FIELDS))

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
        set_hidden(self.version, version)
        for entry in self.victims:
            victim: VictimForm = entry.form
            victim_id = victim.victim_id.data
            if victim_id is None:
                continue
            if victim_id in versions:
                set_hidden(victim.victim_version, versions[victim_id])
            else:  # removed meanwhile: saving the row records the victim anew
                set_hidden(victim.victim_id, None)
                set_hidden(victim.victim_version, None)

    def summary(self) -> ErrorSummary:
        return ErrorSummary(self)

    def describe(self, changes: Sequence[ChangedField]) -> list[tuple[str, str]]:
        """Each changed field as its label and its newer value, in the viewer's language."""
        fields = {f.model_attribute: self[f.name] for f in INCIDENT_FORM_FIELDS}
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
                described.append((form_field.label.text, display(form_field, change.value)))
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
