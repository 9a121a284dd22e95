"""What the page confirming a restore shows: each field a restore changes, by its label, with
its value now and its value after the restore, in the reader's language; and why the rules
refuse the restore, if they do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.i18n import current_locale
from capdb.reference import Country
from capdb.vocabularies import vocabulary_of
from incidents import history
from incidents.fields import INCIDENT_FIELDS, VICTIM_FIELDS
from incidents.models import Record

# The labels of the fields as the incident form names them (one declaration, one translation).
LABELS: dict[str, Any] = {
    field.model_attribute: field.label for field in (*INCIDENT_FIELDS, *VICTIM_FIELDS)
}


# The form's labels by the name the rules give their problems (the form field's).
LABELS_BY_NAME: dict[str, Any] = {
    field.name: field.label for field in (*INCIDENT_FIELDS, *VICTIM_FIELDS)
}


def problem_rows(problems: Mapping[str, list[str]]) -> list[tuple[str, str]]:
    """Why the rules refuse a restore: each field's label and reason."""
    return [
        (str(LABELS_BY_NAME.get(name, name)), reason)
        for name, reasons in problems.items()
        for reason in reasons
    ]


@dataclass(frozen=True)
class DifferenceRow:
    label: str
    current: str
    restored: str


def difference_rows(
    db: Session, record: Record, differences: list[history.FieldRestore]
) -> list[DifferenceRow]:
    """The differences as the page shows them: labels and values in the reader's language."""
    locale = current_locale()
    columns = sa.inspect(record).mapper.columns
    rows = []
    for difference in differences:
        column = columns[difference.name]
        rows.append(
            DifferenceRow(
                label=str(LABELS.get(difference.name, difference.name)),
                current=_shown(db, column, difference.current, locale),
                restored=_shown(db, column, difference.restored, locale),
            )
        )
    return rows


def _shown(db: Session, column: sa.Column[Any], value: object, locale: str) -> str:
    if value is None or value == "":
        return "—"
    vocabulary = vocabulary_of(column)
    if vocabulary is not None and value in vocabulary:
        return vocabulary.label(str(value), locale)
    if any(key.column.table.name == "countries" for key in column.foreign_keys):
        country = db.get(Country, value)
        return country.name(locale) if country is not None else str(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)
