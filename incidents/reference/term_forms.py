"""The forms of the vocabularies' and countries' admin pages; the rules are
:mod:`incidents.reference.terms`'."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField

from capdb.forms import text
from capdb.vocabularies import CODE_MAX
from capdb.vocabulary_terms import LABEL_MAX
from incidents.errors import InputError
from incidents.reference.terms import COUNTRY_NAME_MAX


class ShowsProblems(FlaskForm):
    def show(self, error: InputError) -> None:
        for name, reason in error.problems.items():
            if name in self:
                self[name].errors = [*self[name].errors, reason]

    def expected_version(self) -> int:
        value = (self["version"].data or "").strip()
        return int(value) if value.isdigit() else -1


class TermForm(ShowsProblems):
    label_en = text(_l("English label"), LABEL_MAX)
    label_fr = text(_l("French label"), LABEL_MAX)
    retired = BooleanField(_l("Retired: kept on old records, not offered for new ones"))
    version = HiddenField()


class NewTermForm(FlaskForm):
    code = text(_l("Code (lowercase, never changes)"), CODE_MAX)
    label_en = text(_l("English label"), LABEL_MAX)
    label_fr = text(_l("French label"), LABEL_MAX)
    uniformed = BooleanField(_l("Uniformed personnel (they have a contributing country)"))

    def show(self, error: InputError) -> None:
        for name, reason in error.problems.items():
            field = self[name] if name in self else self.code  # noqa: SIM401 (a form)
            field.errors = [*field.errors, reason]


class CountryForm(ShowsProblems):
    name_en = text(_l("Name in English"), COUNTRY_NAME_MAX)
    name_fr = text(_l("Name in French"), COUNTRY_NAME_MAX)
    version = HiddenField()
