"""The States each incident and each case concerns, and the missions that keep each case:
tables derived from the records and kept current by :mod:`incidents.concerned`, which the
access rule and the lists read (:mod:`incidents.visibility`). Re-exported by
:mod:`incidents.models`.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from capdb.db import Base

# Why an incident concerns a State: the mission's host, the country it happened in, a
# victim's contributing country, a victim's nationality.
CONCERN_REASONS = ("host", "place", "contributor", "nationality")


class IncidentState(Base):
    """A State an incident concerns, and why (one flag per reason); derived from the
    incident, its undeleted victims and its mission's hosts, and kept current by
    :mod:`incidents.concerned`.

    One row per incident and State, with the incident's date, so that a State's incidents
    lie in date order in one index: a focal point's list reads a page of it.
    """

    __tablename__ = "incident_states"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key: every value is copied from a column that has one.
    state: Mapped[str] = mapped_column(String(3), primary_key=True)
    occurred_on: Mapped[date]
    host: Mapped[bool] = mapped_column(default=False)
    place: Mapped[bool] = mapped_column(default=False)
    contributor: Mapped[bool] = mapped_column(default=False)
    nationality: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        sa.CheckConstraint("host OR place OR contributor OR nationality", name="some_reason"),
        # "The incidents concerning State X", newest first.
        sa.Index("ix_incident_states_state_date", "state", "occurred_on", "incident_id"),
    )

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(reason for reason in CONCERN_REASONS if getattr(self, reason))


class CaseState(Base):
    """A State whose focal points see a case, and why: it prosecutes the case, or one of
    the case's incidents that they see (validated, undeleted, concerning the State) is
    linked to it. Kept current by :mod:`incidents.concerned`, with ``incident_states``."""

    __tablename__ = "case_states"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("judicial_cases.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(3), primary_key=True)
    prosecutor: Mapped[bool] = mapped_column(default=False)
    through_incident: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        sa.CheckConstraint("prosecutor OR through_incident", name="some_reason"),
        # "The cases State X sees", newest first.
        sa.Index("ix_case_states_state_case", "state", "case_id"),
    )


class CaseMission(Base):
    """A mission whose officers keep a case: one of the case's incidents, deleted or not,
    is the mission's (as :func:`incidents.policy.keeps_case` says). Kept current by
    :mod:`incidents.concerned`, with ``case_states``, so that "the cases of my missions",
    newest first, is an index range rather than a walk through every newer case of other
    missions."""

    __tablename__ = "case_missions"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("judicial_cases.id", ondelete="CASCADE"), primary_key=True
    )
    # No foreign key: copied from the incident's, which has one.
    mission_code: Mapped[str] = mapped_column(String(16), primary_key=True)

    __table_args__ = (sa.Index("ix_case_missions_mission_case", "mission_code", "case_id"),)
