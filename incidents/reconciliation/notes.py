"""Explanations of the differences between capdb's figures and the UN's: one per mission
and year (and nationality or personnel type), written by HQ, audited, checked against the
version the writer saw."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from auth import audit
from auth.models import User
from capdb.reference import ACRONYM_MAX
from incidents.errors import InputError, StaleEditError
from incidents.reconciliation.un_data import UN_PERSONNEL_TYPES
from incidents.un_figures import ReconciliationNote

NOTE_MAX = 5_000


@dataclass(frozen=True)
class NoteKey:
    mission: str
    year: int
    nationality: str = ""
    personnel_type: str = ""


def note_of(db: Session, key: NoteKey) -> ReconciliationNote | None:
    return db.scalar(
        sa.select(ReconciliationNote).where(
            ReconciliationNote.mission_code == key.mission,
            ReconciliationNote.year == key.year,
            ReconciliationNote.nationality_code == key.nationality,
            ReconciliationNote.personnel_type == key.personnel_type,
        )
    )


def _problems(key: NoteKey, text: str) -> dict[str, str]:
    problems: dict[str, str] = {}
    # A mission capdb knows, or an acronym of the UN's data it does not.
    if not key.mission.strip() or len(key.mission) > ACRONYM_MAX:
        problems["mission"] = _("Choose a mission.")
    if not 1945 <= key.year <= 2200:
        problems["year"] = _("Give a year.")
    if key.personnel_type and key.personnel_type not in UN_PERSONNEL_TYPES:
        problems["personnel_type"] = _("Choose one of the UN's personnel types.")
    if len(key.nationality) not in (0, 3):
        problems["nationality"] = _("Give an ISO alpha-3 code.")
    if len(text) > NOTE_MAX:
        problems["text"] = _("Use at most %(max)d characters.", max=NOTE_MAX)
    return problems


def explain(
    db: Session, key: NoteKey, text: str, *, by: User, expected_version: int | None
) -> ReconciliationNote | None:
    """Write, change or (with no text) remove the explanation; ``expected_version``: the
    version the writer saw, None for a new one."""
    text = text.strip()
    problems = _problems(key, text)
    if problems:
        raise InputError(problems)
    note = note_of(db, key)
    if (note.version if note else None) != expected_version:
        raise StaleEditError()
    detail = {"mission": key.mission, "year": key.year, "nationality": key.nationality,
              "personnel_type": key.personnel_type}  # fmt: skip
    if note is None:
        if not text:
            return None
        note = ReconciliationNote(
            mission_code=key.mission, year=key.year, nationality_code=key.nationality,
            personnel_type=key.personnel_type, text=text, updated_by_id=by.id,
        )  # fmt: skip
        db.add(note)
        action = "create"
    elif not text:
        db.delete(note)
        action = "delete"
    else:
        note.text, note.updated_by_id = text, by.id
        action = "update"
    try:
        db.flush()
    except StaleDataError:
        raise StaleEditError() from None
    audit.record(db, action, user=by, target_type="reconciliation_notes",
                 target_id=f"{key.mission}:{key.year}", detail=detail)  # fmt: skip
    return None if action == "delete" else note
