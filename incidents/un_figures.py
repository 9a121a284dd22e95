"""The UN's published fatality figures, kept as an external reference set beside capdb's
own records and never mixed with them, and the explanations of the differences.

One :class:`UnFatalitySet` per file loaded (uploaded by an analyst, or read from the path
an admin configured); its rows are the UN's casualties, one each, with the values as the
UN wrote them and as capdb understood them (the mission, the nationality, the personnel
categories the UN's personnel type covers). The newest set is the one reconciled.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from capdb.db import Base, utcnow

MALICIOUS_ACT = "Malicious Act"


class UnFatalitySet(Base):
    __tablename__ = "un_fatality_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    loaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The file's name as uploaded, or the configured path; its SHA-256, which tells a
    # periodic refresh whether the file changed.
    source: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(default=0)
    malicious: Mapped[int] = mapped_column(default=0)


class UnFatality(Base):
    """One casualty of the UN's data."""

    __tablename__ = "un_fatalities"

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("un_fatality_sets.id", ondelete="CASCADE"))
    casualty_id: Mapped[str] = mapped_column(String(40))
    incident_date: Mapped[date]
    mission_acronym: Mapped[str] = mapped_column(String(40))
    # The mission capdb knows by that acronym on that day; None: unknown to capdb.
    mission_code: Mapped[str | None] = mapped_column(String(16), index=True)
    type_of_casualty: Mapped[str] = mapped_column(String(40), default="")
    gender: Mapped[str] = mapped_column(String(20), default="")
    nationality: Mapped[str] = mapped_column(String(120), default="")
    # ISO alpha-3, or XXX when the UN gives none capdb recognises (undetermined).
    nationality_code: Mapped[str] = mapped_column(String(3))
    personnel_type: Mapped[str] = mapped_column(String(40), default="")
    type_of_incident: Mapped[str] = mapped_column(String(40))
    m49_code: Mapped[str] = mapped_column(String(10), default="")
    isocode3: Mapped[str] = mapped_column(String(10), default="")
    last_update: Mapped[str] = mapped_column(String(40), default="")

    fatality_set: Mapped[UnFatalitySet] = relationship()

    __table_args__ = (sa.Index("ix_un_fatalities_set_mission", "set_id", "mission_code"),)

    @property
    def malicious(self) -> bool:
        return self.type_of_incident == MALICIOUS_ACT


class ReconciliationNote(Base):
    """Why capdb's and the UN's figures differ for a mission and year (and a nationality or
    a personnel type, when the difference is read at that level)."""

    __tablename__ = "reconciliation_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_code: Mapped[str] = mapped_column(String(16))
    year: Mapped[int]
    # "" for every nationality or every personnel type.
    nationality_code: Mapped[str] = mapped_column(String(3), default="")
    personnel_type: Mapped[str] = mapped_column(String(40), default="")
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        sa.UniqueConstraint(
            "mission_code",
            "year",
            "nationality_code",
            "personnel_type",
            name="uq_reconciliation_notes_key",
        ),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012
