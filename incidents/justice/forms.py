"""Forms for judicial cases, their defendants and stages, and assistance.

The forms carry what the user typed and check its shape; the rules that need the
database (a State exists, an incident is visible, a date follows the incident) are the
services', whose reasons :meth:`ServiceForm.show` puts next to the fields. Fields not
declared here are never read, so a posted ``review_status`` or ``entered_by_id`` changes
nothing.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
)
from wtforms.validators import (
    InputRequired,
    NumberRange,
    Optional,
)

from capdb.forms import choice, long_text, text
from capdb.reference import STATES, Mission, countries_of
from capdb.vocabularies import ASSISTANCE_KIND, JUDICIAL_STAGE, JURISDICTION
from incidents.errors import InputError
from incidents.justice.assistance import MAX_DESCRIPTION, MAX_PARTICIPANTS, AssistanceFields
from incidents.justice.cases import (
    MAX_CHARGES,
    MAX_NOTE,
    MAX_REASON,
    MAX_SENTENCE_MONTHS,
    CaseFields,
    DefendantFields,
)
from incidents.justice.stages import EventFields


def country_choices(db: Session, locale: str) -> list[tuple[str, str]]:
    countries = sorted(countries_of(db, STATES), key=lambda c: c.name(locale).casefold())
    return [(c.code, c.name(locale)) for c in countries]


class ServiceForm(FlaskForm):
    """A form that shows a service's reasons next to its fields."""

    def show(self, error: InputError) -> list[str]:
        """Put each reason next to its field; answer those that belong to no field."""
        unplaced = []
        for name, reason in error.problems.items():
            field = self._fields.get(name)
            if field is None:
                unplaced.append(reason)
            else:
                field.errors = [*field.errors, reason]
        return unplaced


class VersionedForm(ServiceForm):
    version = HiddenField()

    def expected_version(self) -> int:
        """The version the form was loaded at; -1 (never current) when it is missing."""
        value = (self.version.data or "").strip()
        return int(value) if value.isdigit() and len(value) < 10 else -1


class CaseForm(ServiceForm):
    prosecuting_state = choice(_l("Prosecuting State"))
    jurisdiction = choice(_l("Jurisdiction"))
    national_reference = text(_l("National case reference"), 120)
    charges = long_text(_l("Charges"), MAX_CHARGES)
    other_incidents = text(_l("Other incidents of the case (references)"), 2000)

    def fill_choices(self, db: Session, locale: str) -> None:
        self.prosecuting_state.choices = country_choices(db, locale)
        current = self.jurisdiction.data
        self.jurisdiction.choices = [
            (t.code, t.label(locale)) for t in JURISDICTION.active([current])
        ]

    def case_fields(self) -> CaseFields:
        return CaseFields(
            prosecuting_state_code=self.prosecuting_state.data or "",
            jurisdiction=self.jurisdiction.data or "",
            national_reference=self.national_reference.data or None,
            charges=self.charges.data or "",
        )


class EditCaseForm(CaseForm, VersionedForm):
    other_incidents = text(_l("Link more incidents (references)"), 2000)


class DefendantForm(VersionedForm):
    alias = text(_l("Alias or name"), 200, required=True)
    identifier = text(_l("Identifier"), 64)
    affiliation = text(_l("Affiliation"), 200)
    verdict = text(_l("Verdict"), 200)
    sentence = text(_l("Sentence"), 200)
    sentence_months = IntegerField(
        _l("Sentence in months"),
        validators=[
            Optional(),
            NumberRange(
                min=0,
                max=MAX_SENTENCE_MONTHS,
                message=_l("Enter a number of months between 0 and %(max)d."),
            ),
        ],
    )

    def defendant_fields(self) -> DefendantFields:
        return DefendantFields(
            alias=self.alias.data or "",
            identifier=self.identifier.data or None,
            affiliation=self.affiliation.data or None,
            verdict=self.verdict.data or None,
            sentence=self.sentence.data or None,
            sentence_months=self.sentence_months.data,
        )


class StageEventForm(ServiceForm):
    subject = SelectField(_l("Concerns"), validate_choice=False)
    stage = choice(_l("Stage"))
    occurred_on = DateField(_l("Date"), validators=[InputRequired()])
    note = long_text(_l("Note"), MAX_NOTE)
    source_document = text(_l("Source document reference"), 200)

    def fill_choices(self, subjects: list[tuple[str, str]], locale: str) -> None:
        self.subject.choices = subjects
        current = self.stage.data
        self.stage.choices = [(t.code, t.label(locale)) for t in JUDICIAL_STAGE.active([current])]

    def event_fields(self) -> EventFields:
        subject = (self.subject.data or "").strip()
        if subject and not subject.isdigit():
            raise InputError({"subject": str(_l("Choose the case or one of its defendants."))})
        return EventFields(
            stage=self.stage.data or "",
            occurred_on=self.occurred_on.data,
            note=self.note.data or "",
            source_document=self.source_document.data or None,
            defendant_id=int(subject) if subject else None,
        )


class RejectForm(ServiceForm):
    reason = long_text(_l("Why the update is rejected"), MAX_REASON)


class AssistanceForm(VersionedForm):
    recipient_state = choice(_l("Recipient State"))
    mission = choice(_l("Mission"))
    kind = choice(_l("Kind of assistance"))
    started_on = DateField(_l("Start date"), validators=[InputRequired()])
    ended_on = DateField(_l("End date"), validators=[Optional()])
    participants = IntegerField(
        _l("Participants"),
        default=0,
        validators=[
            InputRequired(),
            NumberRange(
                min=0,
                max=MAX_PARTICIPANTS,
                message=_l("Enter a number between 0 and %(max)d."),
            ),
        ],
    )
    description = long_text(_l("Description"), MAX_DESCRIPTION)
    cases = text(_l("Linked cases (case numbers)"), 1000)

    def fill_choices(self, db: Session, missions: list[Mission], locale: str) -> None:
        self.recipient_state.choices = country_choices(db, locale)
        self.mission.choices = [(m.code, f"{m.code} – {m.name(locale)}") for m in missions]
        self.kind.choices = [(t.code, t.label(locale)) for t in ASSISTANCE_KIND]

    def assistance_fields(self, case_ids: tuple[int, ...]) -> AssistanceFields:
        return AssistanceFields(
            recipient_state_code=self.recipient_state.data or "",
            mission_code=self.mission.data or "",
            kind=self.kind.data or "",
            started_on=self.started_on.data,
            ended_on=self.ended_on.data,
            participants=self.participants.data or 0,
            description=self.description.data or "",
            case_ids=case_ids,
        )
