"""The columns of an import's spreadsheet, found by their header in English or in French or
by their key; their headers, vocabularies and lengths are those declared for the incident's
and the victim's fields (:mod:`incidents.fields`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from capdb.reference import Country
from capdb.vocabularies import Term, Vocabulary
from incidents.fields import INCIDENT_FIELDS, Kind, imported
from incidents.fields import VICTIM_FIELDS as VICTIM_DECLARED
from incidents.fields import Field as DeclaredField

TEMPLATE_VICTIMS = 10
MAX_VICTIM_COLUMNS = 30
IMPORTABLE_STATUSES = ("draft", "submitted")


@dataclass(frozen=True)
class Column:
    key: str
    en: str
    fr: str
    required: bool = False

    def header(self, locale: str) -> str:
        return self.fr if locale.startswith("fr") else self.en


def _column(declared: DeclaredField) -> Column:
    return Column(declared.name, declared.en, declared.fr, required=declared.required)


def incident_imported(declared: tuple[DeclaredField, ...]) -> tuple[DeclaredField, ...]:
    """The imported fields in the template's order: the status, the workflow's rather than
    the incident's own, comes last as it always has."""
    return tuple(sorted(imported(declared), key=lambda field: field.name == "status"))


INCIDENT_IMPORTED = incident_imported(INCIDENT_FIELDS)
INCIDENT_COLUMNS = tuple(_column(declared) for declared in INCIDENT_IMPORTED)
VICTIM_IMPORTED = imported(VICTIM_DECLARED)

# field of a victim -> English and French header after "Victim N" / "Victime N"
VICTIM_FIELDS = {declared.name: (declared.en, declared.fr) for declared in VICTIM_IMPORTED}


def victim_column(number: int, name: str) -> Column:
    en, fr = VICTIM_FIELDS[name]
    return Column(f"victim{number}_{name}", f"Victim {number} {en}", f"Victime {number} {fr}")


def template_columns(victims: int = TEMPLATE_VICTIMS) -> list[Column]:
    victim_columns = [
        victim_column(n, name) for n in range(1, victims + 1) for name in VICTIM_FIELDS
    ]
    return [*INCIDENT_COLUMNS, *victim_columns]


@lru_cache(maxsize=8192)  # a column repeats the same few labels thousands of times
def fold(text: str) -> str:
    """Text compared without case, accents or extra spaces: "Engin  explosif IMPROVISE"."""
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def header_key(text: str) -> str:
    """A header reduced to letters and digits, so "Victim 1 category" is victim1_category."""
    return re.sub(r"[^a-z0-9]", "", fold(text))


@cache
def known_headers() -> dict[str, Column]:
    columns = [
        *INCIDENT_COLUMNS,
        *(
            victim_column(n, name)
            for n in range(1, MAX_VICTIM_COLUMNS + 1)
            for name in VICTIM_FIELDS
        ),
    ]
    return {header_key(text): c for c in columns for text in (c.key, c.en, c.fr)}


def vocabulary_lookup(vocabulary: Vocabulary) -> dict[str, str]:
    """Folded code and labels in both languages -> code, as the vocabulary is now (admins
    keep some); a text that would name two terms names the first (codes first)."""
    return _lookup(vocabulary.name, tuple(vocabulary))


@lru_cache(maxsize=64)
def _lookup(_name: str, terms: tuple[Term, ...]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for term in terms:
        lookup.setdefault(fold(term.code), term.code)
    for term in terms:
        for text in (term.en, term.fr):
            lookup.setdefault(fold(text), term.code)
    return lookup


def country_lookups(
    countries: Sequence[Country],
) -> dict[frozenset[str], dict[str, str | None]]:
    """A lookup for each kinds of country the imported fields take."""
    declared = (*INCIDENT_IMPORTED, *VICTIM_IMPORTED)
    kinds = {f.countries for f in declared if f.kind is Kind.COUNTRY}
    return {k: country_lookup([c for c in countries if c.kind in k]) for k in kinds}


def country_lookup(countries: Sequence[Country]) -> dict[str, str | None]:
    """Folded code and names in both languages -> code; None for a name two countries share."""
    lookup: dict[str, str | None] = {}
    for country in countries:
        for name in (country.name_en, country.name_fr):
            key = fold(name)
            lookup[key] = country.code if lookup.get(key, country.code) == country.code else None
    lookup.update((country.code.casefold(), country.code) for country in countries)
    return lookup
