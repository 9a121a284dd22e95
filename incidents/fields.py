"""The fields of an incident and of a victim, declared once.

Each field says what it is called everywhere (its model attribute, its API name, which is
also its form field and its import and export key), how it is labelled on the form, its
header in a spreadsheet (the export's column and the import's, in English and in French),
its vocabulary or reference data, how long it may be, whether it must be given, its
default, and whether it is personal data. The incident form
(:mod:`incidents.recording.forms`), the API schemas (:mod:`incidents.recording.schemas`),
the import (:mod:`incidents.transfer.importing`) and the export
(:mod:`incidents.transfer.exporting`) are built from these tuples; what only one of them
needs (a widget, an order of columns) stays beside it.

Spreadsheet headers are a bilingual vocabulary, like the vocabularies, rather than
translated strings: a French template stays importable whatever the catalog says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l

from capdb.reference import NATIONALITIES, PLACES
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

# The longest texts an incident and its victims take, whichever way they are recorded.
PLACE_MAX = 200
PERPETRATOR_NAME_MAX = 200
NARRATIVE_MAX = 20_000
SOURCES_MAX = 5_000
UNIT_MAX = 120
NAME_MAX = 200


class Kind(StrEnum):
    """What a field holds, which decides how each interface reads and writes it."""

    TEXT = "text"
    LONG_TEXT = "long_text"  # several paragraphs: a text area on the form
    DATE = "date"
    TIME = "time"
    DEGREES = "degrees"
    CHOICE = "choice"  # a code of the field's vocabulary
    COUNTRY = "country"  # an ISO alpha-3 code of the reference countries
    MISSION = "mission"  # a mission's acronym


@dataclass(frozen=True)
class Field:
    """One field of an incident or of a victim."""

    name: str  # the API's name, the form field's, the import and export key
    kind: Kind
    label: Any  # on the form and in change lists, in the viewer's language
    en: str  # the spreadsheet header (export and import), in English
    fr: str  # ... and in French
    attribute: str = ""  # the model's attribute, when not the name
    vocabulary: Vocabulary | None = None
    max_length: int | None = None
    # Must be given. A field with a default may be left out of an API request and is
    # pre-selected on the form; the import still wants its cell.
    required: bool = False
    missing: Any = None  # the form's message when a required value is missing
    default: Any = None  # the value when left out; None: none
    nullable: bool = False  # may be empty in the record
    personal: bool = False  # shown only to who may see identities
    note: str = ""  # what the API document says of it, in English like the document
    recorded: bool = True  # set by the user: on the form, in the API body, in the import
    imported: bool | None = None  # in the import; None: when recorded
    exported: bool = True  # in the export (never personal data)
    served: bool = True  # in the API's responses
    # Brought back by a restore (incidents.history.CONTENT); None: when recorded. The
    # mission is recorded but is who the record belongs to, never restored content.
    restored: bool | None = None
    # A country field: the kinds of country it takes (capdb.reference: PLACES, NATIONALITIES).
    countries: frozenset[str] = PLACES

    @property
    def model_attribute(self) -> str:
        return self.attribute or self.name

    @property
    def in_import(self) -> bool:
        return self.recorded if self.imported is None else self.imported

    @property
    def in_restore(self) -> bool:
        return self.recorded if self.restored is None else self.restored

    def header(self, locale: str) -> str:
        return self.fr if locale.startswith("fr") else self.en


# The incident, in the order of the export's columns -----------------------------------------

INCIDENT_FIELDS: tuple[Field, ...] = (
    Field(
        "reference", Kind.TEXT, _l("Reference"), "Reference", "Référence", recorded=False
    ),
    Field(
        "source_reference", Kind.TEXT, _l("Source reference"), "Source reference",
        "Référence source", max_length=80, required=True, recorded=False, imported=True,
        exported=False, served=False,
    ),
    Field(
        "mission", Kind.MISSION, _l("Mission"), "Mission", "Mission", attribute="mission_code",
        required=True, note="The mission's acronym; one the user records incidents for.",
        restored=False,
    ),
    Field(
        "occurred_on", Kind.DATE, _l("Date"), "Date", "Date", required=True,
        missing=_l("Enter the date of the incident."),
        note="Not in the future, nor outside the mission's years.",
    ),
    Field(
        "occurred_time", Kind.TIME, _l("Time (optional)"), "Time", "Heure", nullable=True,
        note="Only with date_precision 'exact'.",
    ),
    Field(
        "date_precision", Kind.CHOICE, _l("Date precision"), "Date precision",
        "Précision de la date", vocabulary=DATE_PRECISION, required=True, default="day",
    ),
    Field(
        "country", Kind.COUNTRY, _l("Country where it happened"), "Country", "Pays",
        attribute="country_code",
        note="ISO alpha-3; the mission's first host country if left out.",
    ),
    Field(
        "place", Kind.TEXT, _l("Place"), "Place", "Lieu", max_length=PLACE_MAX,
        required=True, missing=_l("Name the place."),
    ),
    Field("latitude", Kind.DEGREES, _l("Latitude"), "Latitude", "Latitude", nullable=True),
    Field("longitude", Kind.DEGREES, _l("Longitude"), "Longitude", "Longitude", nullable=True),
    Field(
        "geo_precision", Kind.CHOICE, _l("Location precision"), "Location precision",
        "Précision du lieu", vocabulary=GEO_PRECISION, required=True, default="exact",
    ),
    Field(
        "admin1", Kind.TEXT, _l("Administrative area"), "Administrative area",
        "Zone administrative", nullable=True, recorded=False,
    ),
    Field(
        "admin2", Kind.TEXT, _l("Administrative subarea"), "Administrative subarea",
        "Subdivision administrative", nullable=True, recorded=False,
    ),
    Field(
        "means_of_attack", Kind.CHOICE, _l("Means of attack"), "Means of attack",
        "Moyen d'attaque", vocabulary=MEANS_OF_ATTACK, required=True,
        missing=_l("Choose the means of attack."),
    ),
    Field(
        "attack_context", Kind.CHOICE, _l("Context of the attack"), "Attack context",
        "Contexte de l'attaque", vocabulary=ATTACK_CONTEXT, required=True,
        missing=_l("Choose the context of the attack."),
    ),
    Field(
        "location_type", Kind.CHOICE, _l("Location type"), "Location type", "Type de lieu",
        vocabulary=LOCATION_TYPE, required=True, missing=_l("Choose the type of location."),
    ),
    Field(
        "perpetrator_type", Kind.CHOICE, _l("Perpetrator"), "Perpetrator type",
        "Type d'auteur", vocabulary=PERPETRATOR_TYPE, required=True,
        missing=_l("Choose the type of perpetrator."),
    ),
    Field(
        "perpetrator_name", Kind.TEXT, _l("Perpetrator's name (optional)"),
        "Perpetrator name", "Nom de l'auteur", max_length=PERPETRATOR_NAME_MAX,
        nullable=True,
    ),
    # Set by the workflow; an import may create drafts or submitted incidents.
    Field(
        "status", Kind.CHOICE, _l("Status"), "Status", "Statut",
        vocabulary=VERIFICATION_STATUS, recorded=False, imported=True,
    ),
    Field(
        "narrative", Kind.LONG_TEXT, _l("Narrative"), "Narrative", "Récit",
        max_length=NARRATIVE_MAX, default="",
    ),
    Field(
        "sources", Kind.LONG_TEXT, _l("Sources"), "Sources", "Sources",
        max_length=SOURCES_MAX, default="",
    ),
)  # fmt: skip

# Its victims ---------------------------------------------------------------------------------

# A victim's headers follow "Victim N " / "Victime N " in a spreadsheet; victims are not
# exported one by one, only counted by outcome.
VICTIM_FIELDS: tuple[Field, ...] = (
    Field(
        "category", Kind.CHOICE, _l("Personnel category"), "category", "catégorie",
        vocabulary=PERSONNEL_CATEGORY, required=True,
        missing=_l("Choose the personnel category."), exported=False,
    ),
    Field(
        "nationality", Kind.COUNTRY, _l("Nationality"), "nationality", "nationalité",
        attribute="nationality_code", required=True, exported=False,
        countries=NATIONALITIES,
        note="ISO alpha-3, or XXA (stateless) or XXX (nationality undetermined).",
    ),
    Field(
        "contributing_country", Kind.COUNTRY, _l("Contributing country"),
        "contributing country", "pays contributeur", attribute="contributing_country_code",
        nullable=True, exported=False,
        note="For uniformed personnel only: who contributed their unit.",
    ),
    Field(
        "unit", Kind.TEXT, _l("Unit"), "unit", "unité", max_length=UNIT_MAX,
        nullable=True, exported=False,
    ),
    Field(
        "sex", Kind.CHOICE, _l("Sex"), "sex", "sexe", vocabulary=SEX, default="unknown",
        exported=False,
    ),
    Field(
        "outcome", Kind.CHOICE, _l("Outcome"), "outcome", "conséquence", vocabulary=OUTCOME,
        required=True, missing=_l("Choose what happened to the victim."), exported=False,
    ),
    Field(
        "date_of_death", Kind.DATE, _l("Date of death"), "date of death", "date du décès",
        nullable=True, exported=False, note="Only for a victim who was killed.",
    ),
    Field(
        "name", Kind.TEXT, _l("Name (optional)"), "name", "nom", max_length=NAME_MAX,
        nullable=True, personal=True, exported=False,
    ),
    Field(
        "identifier", Kind.TEXT, _l("Identifier"), "identifier", "identifiant",
        nullable=True, personal=True, recorded=False, exported=False, restored=True,
    ),
)  # fmt: skip


def recorded(declared: tuple[Field, ...]) -> tuple[Field, ...]:
    """The fields a user sets: on the form, in the API's body."""
    return tuple(f for f in declared if f.recorded)


def imported(declared: tuple[Field, ...]) -> tuple[Field, ...]:
    return tuple(f for f in declared if f.in_import)


def exported(declared: tuple[Field, ...]) -> tuple[Field, ...]:
    return tuple(f for f in declared if f.exported)


def restored(declared: tuple[Field, ...]) -> frozenset[str]:
    """The model attributes a restore brings back: the record's content."""
    return frozenset(f.model_attribute for f in declared if f.in_restore)


def named(declared: tuple[Field, ...], name: str) -> Field:
    return next(f for f in declared if f.name == name)
