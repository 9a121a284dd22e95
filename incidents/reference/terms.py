"""Vocabularies and countries kept by admins: a term's labels, a new term, retiring and
bringing back a term, and a country's names.

A term is never deleted (records hold its code): it is retired, hidden from new records and
kept on old ones. The codes the application itself names (an outcome the figures count, a
stage of the justice ladder) are never retired. Every change is audited and marks the row
as an admin's, so that loading the shipped data no longer changes it; a stale change (on a
version the row no longer has) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from auth import audit
from auth.models import User
from capdb.clock import now
from capdb.reference import Country
from capdb.vocabularies import CODE_MAX, VOCABULARIES, Vocabulary
from capdb.vocabulary_terms import LABEL_MAX, VocabularyTerm, refresh
from incidents.errors import InputError, StaleEditError

CODE = re.compile(r"[a-z][a-z0-9_]*")
COUNTRY_NAME_MAX = 120


class TermError(InputError):
    """The input is invalid; ``problems`` maps each field to the reason."""


def kept_vocabulary(name: str) -> Vocabulary | None:
    vocabulary = VOCABULARIES.get(name)
    return vocabulary if vocabulary is not None and vocabulary.kept else None


def terms_of(db: Session, vocabulary: Vocabulary) -> list[VocabularyTerm]:
    return list(
        db.scalars(
            sa.select(VocabularyTerm)
            .where(VocabularyTerm.vocabulary == vocabulary.name)
            .order_by(VocabularyTerm.position, VocabularyTerm.code)
        )
    )


def term_of(db: Session, vocabulary: Vocabulary, code: str) -> VocabularyTerm | None:
    if len(code) > CODE_MAX or not CODE.fullmatch(code):
        return None
    return db.get(VocabularyTerm, (vocabulary.name, code))


@dataclass(frozen=True)
class Labels:
    en: str
    fr: str


def _label_problems(
    db: Session, vocabulary: Vocabulary, labels: Labels, code: str | None
) -> dict[str, str]:
    """Both labels given, short enough, and naming no other term (an import reads them)."""
    problems: dict[str, str] = {}
    others = [t for t in terms_of(db, vocabulary) if t.code != code]
    taken = {text.casefold() for t in others for text in (t.label_en, t.label_fr, t.code)}
    for name, text in (("label_en", labels.en), ("label_fr", labels.fr)):
        if not text.strip():
            problems[name] = _("Give the label.")
        elif len(text) > LABEL_MAX:
            problems[name] = _("Use at most %(max)d characters.", max=LABEL_MAX)
        elif text.strip().casefold() in taken:
            problems[name] = _("Another term of this vocabulary has this label.")
    return problems


def _changed(db: Session) -> None:
    try:
        db.flush()
    except StaleDataError:
        raise StaleEditError() from None
    refresh(db)


def add_term(
    db: Session,
    vocabulary: Vocabulary,
    code: str,
    labels: Labels,
    *,
    uniformed: bool = False,
    by: User | None,
) -> VocabularyTerm:
    """A new term, offered at once for new records; audited."""
    problems = _label_problems(db, vocabulary, labels, None)
    if not CODE.fullmatch(code) or len(code) > CODE_MAX:
        problems["code"] = _(
            "A code is lowercase letters, digits and underscores, starting with a letter, "
            "at most %(max)d characters.",
            max=CODE_MAX,
        )
    elif term_of(db, vocabulary, code) is not None:
        problems["code"] = _("This vocabulary has a term with this code already.")
    if problems:
        raise TermError(problems)
    last = db.scalar(
        sa.select(sa.func.max(VocabularyTerm.position)).where(
            VocabularyTerm.vocabulary == vocabulary.name
        )
    )
    term = VocabularyTerm(
        vocabulary=vocabulary.name,
        code=code,
        label_en=labels.en.strip(),
        label_fr=labels.fr.strip(),
        position=(last or 0) + 1,
        uniformed=uniformed and vocabulary.name == "personnel_category",
        curated=True,
    )
    db.add(term)
    _changed(db)
    audit.record(
        db, "create", user=by, target_type="vocabulary_terms",
        target_id=f"{vocabulary.name}:{code}",
    )  # fmt: skip
    return term


def change_term(
    db: Session,
    vocabulary: Vocabulary,
    term: VocabularyTerm,
    labels: Labels,
    *,
    retired: bool,
    by: User | None,
    expected_version: int,
) -> list[str]:
    """New labels, or the term retired or brought back; the fields that changed."""
    if expected_version != term.version:
        raise StaleEditError()
    problems = _label_problems(db, vocabulary, labels, term.code)
    if retired and term.code in vocabulary.protected:
        problems["retired"] = _("capdb counts this term in its figures: it stays in use.")
    if problems:
        raise TermError(problems)
    changes = {
        "label_en": labels.en.strip(),
        "label_fr": labels.fr.strip(),
    }
    changed = [k for k, v in changes.items() if getattr(term, k) != v]
    if retired != (term.retired_at is not None):
        changed.append("retired")
        term.retired_at = now() if retired else None
    if not changed:
        return []
    for key, value in changes.items():
        setattr(term, key, value)
    term.curated = True
    _changed(db)
    audit.record(
        db, "update", user=by, target_type="vocabulary_terms",
        target_id=f"{vocabulary.name}:{term.code}", detail={"changed": changed},
    )  # fmt: skip
    return changed


def change_country(
    db: Session, country: Country, labels: Labels, *, by: User | None, expected_version: int
) -> list[str]:
    """A country's English and French names; audited."""
    if expected_version != country.version:
        raise StaleEditError()
    problems: dict[str, str] = {}
    for name, text in (("name_en", labels.en), ("name_fr", labels.fr)):
        if not text.strip():
            problems[name] = _("Give the name.")
        elif len(text) > COUNTRY_NAME_MAX:
            problems[name] = _("Use at most %(max)d characters.", max=COUNTRY_NAME_MAX)
    if problems:
        raise TermError(problems)
    changes = {"name_en": labels.en.strip(), "name_fr": labels.fr.strip()}
    changed = [k for k, v in changes.items() if getattr(country, k) != v]
    if not changed:
        return []
    for key, value in changes.items():
        setattr(country, key, value)
    country.curated = True
    try:
        db.flush()
    except StaleDataError:
        raise StaleEditError() from None
    audit.record(
        db, "update", user=by, target_type="countries", target_id=country.code,
        detail={"changed": changed},
    )  # fmt: skip
    return changed
