"""The terms of the vocabularies admins keep, in the database.

``vocabulary_terms`` holds every term of the kept vocabularies (:data:`capdb.vocabularies.KEPT`):
the shipped ones, loaded by :func:`load_vocabularies` on every ``db upgrade``, and those
admins added. Admins change labels and retire terms; a term is never deleted, since records
hold its code. Each process keeps the terms in the :class:`~capdb.vocabularies.Vocabulary`
objects every form, schema, import, export and figure reads, and :func:`refresh` reloads
them when the table changed (every request and job asks, with one small query).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, request
from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from capdb.db import Base, reading, utcnow
from capdb.vocabularies import CODE_MAX, KEPT, VOCABULARIES, Term

LABEL_MAX = 200

log = logging.getLogger(__name__)


class VocabularyTerm(Base):
    __tablename__ = "vocabulary_terms"

    vocabulary: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    label_en: Mapped[str] = mapped_column(String(LABEL_MAX))
    label_fr: Mapped[str] = mapped_column(String(LABEL_MAX))
    # The order terms are offered in.
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None]
    uniformed: Mapped[bool] = mapped_column(default=False)
    # Changed by an admin: loading the shipped terms leaves its labels alone.
    curated: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    def term(self) -> Term:
        return Term(
            self.code,
            self.label_en,
            self.label_fr,
            retired=self.retired_at is not None,
            uniformed=self.uniformed,
        )


def load_vocabularies(db: Session) -> int:
    """Add the shipped terms missing from the table and refresh the labels no admin changed;
    how many rows changed. Running it twice changes nothing."""
    stored = {(t.vocabulary, t.code): t for t in db.scalars(sa.select(VocabularyTerm))}
    changed = 0
    for vocabulary in KEPT:
        for position, term in enumerate(vocabulary.shipped):
            row = stored.get((vocabulary.name, term.code))
            if row is None:
                db.add(
                    VocabularyTerm(
                        vocabulary=vocabulary.name,
                        code=term.code,
                        label_en=term.en,
                        label_fr=term.fr,
                        position=position,
                        uniformed=term.uniformed,
                    )
                )
                changed += 1
            elif not row.curated and (row.label_en, row.label_fr) != (term.en, term.fr):
                row.label_en, row.label_fr = term.en, term.fr
                changed += 1
    db.flush()
    if changed:
        _forget()
    return changed


# Keeping each process's vocabularies current ----------------------------------------------

_lock = threading.Lock()
_generation: tuple[int, int] | None = None


def _forget() -> None:
    global _generation
    with _lock:
        _generation = None


def reset() -> None:
    """Back to the shipped terms until the next :func:`refresh` (a test's rolled-back terms)."""
    global _generation
    with _lock:
        for vocabulary in KEPT:
            vocabulary.replace_terms(())
        _generation = None


def generation(db: Session) -> tuple[int, int]:
    """What changes whenever a term is added or changed: their number and their versions."""
    count, versions = db.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(VocabularyTerm.version), 0))
    ).one()
    return int(count), int(versions)


def refresh(db: Session) -> None:
    """Reload the kept vocabularies' terms if the table changed since they were loaded."""
    global _generation
    now = generation(db)
    if now == _generation:
        return
    rows = db.scalars(
        sa.select(VocabularyTerm).order_by(
            VocabularyTerm.vocabulary, VocabularyTerm.position, VocabularyTerm.code
        )
    ).all()
    with _lock:
        by_vocabulary: dict[str, list[Term]] = {}
        for row in rows:
            by_vocabulary.setdefault(row.vocabulary, []).append(row.term())
        for vocabulary in KEPT:
            vocabulary.replace_terms(by_vocabulary.get(vocabulary.name, ()))
        _generation = now


def kept(name: str) -> bool:
    vocabulary = VOCABULARIES.get(name)
    return vocabulary is not None and vocabulary.kept


def refresh_quietly(sessions: sessionmaker[Session]) -> None:
    """:func:`refresh` in a short session of its own, outside the caller's transaction; a
    database that cannot answer keeps the terms as they were (logged), and the request
    meets the failure itself if it needs the database."""
    try:
        with reading(), sessions() as session:
            refresh(session)
    except sa.exc.SQLAlchemyError:
        log.warning("the vocabularies could not be reloaded; keeping them as they were")


# Requests that read nothing of the vocabularies: health checks and assets.
_UNCONCERNED = ("health.", "vendor.", "static")


def init_app(app: Flask) -> None:
    sessions = app.extensions["capdb.db"].sessionmaker

    @app.before_request
    def current_vocabularies() -> None:
        if not (request.endpoint or "").startswith(_UNCONCERNED):
            refresh_quietly(sessions)
