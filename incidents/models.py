"""Incidents, their victims, the judicial cases that follow them, and assistance to host States."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from auth.models import User
from capdb.db import Base, utcnow
from capdb.reference import Country, Mission
from capdb.vocabularies import (
    ASSISTANCE_KIND,
    ATTACK_CONTEXT,
    COMMENT_KIND,
    DATE_PRECISION,
    GEO_PRECISION,
    JUDICIAL_STAGE,
    JURISDICTION,
    LOCATION_TYPE,
    MEANS_OF_ATTACK,
    OUTCOME,
    PERPETRATOR_TYPE,
    PERSONNEL_CATEGORY,
    REVIEW_STATUS,
    SEX,
    VERIFICATION_STATUS,
)

# The States an incident or a case concerns, kept by incidents.concerned; defined apart.
from incidents.scope_models import CONCERN_REASONS as CONCERN_REASONS
from incidents.scope_models import CaseMission as CaseMission
from incidents.scope_models import CaseState as CaseState
from incidents.scope_models import IncidentState as IncidentState


class Record:
    """What every editable record carries: a version for optimistic locking, timestamps,
    and a soft-delete mark."""

    version: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 (a class-level directive)
        return {"version_id_col": cls.version}


case_incidents = sa.Table(
    "case_incidents",
    Base.metadata,
    sa.Column("case_id", ForeignKey("judicial_cases.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("incident_id", ForeignKey("incidents.id"), primary_key=True, index=True),
)

assistance_cases = sa.Table(
    "assistance_cases",
    Base.metadata,
    sa.Column(
        "assistance_id", ForeignKey("capacity_assistance.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("case_id", ForeignKey("judicial_cases.id"), primary_key=True, index=True),
)


class Incident(Record, Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40))
    mission_code: Mapped[str] = mapped_column(ForeignKey("missions.code"))
    occurred_on: Mapped[date]
    occurred_time: Mapped[time | None]
    date_precision: Mapped[str] = mapped_column(DATE_PRECISION.column_type())
    country_code: Mapped[str] = mapped_column(ForeignKey("countries.code"))
    place: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    geo_precision: Mapped[str] = mapped_column(GEO_PRECISION.column_type())
    admin1: Mapped[str | None] = mapped_column(String(120))
    admin2: Mapped[str | None] = mapped_column(String(120))
    # Codes of the boundaries the point falls in, derived from them and recomputed when
    # boundaries are reloaded (names can repeat across countries, codes cannot).
    admin1_code: Mapped[str | None] = mapped_column(String(40), index=True)
    admin2_code: Mapped[str | None] = mapped_column(String(40), index=True)
    # Set when the point lies outside every host country of the mission: flagged, not refused.
    outside_mission_area: Mapped[bool] = mapped_column(default=False)
    # The mission's own reference for the incident in the spreadsheet it came from; with
    # the mission, the natural key that makes a re-import add nothing twice.
    source_reference: Mapped[str | None] = mapped_column(String(80))
    means_of_attack: Mapped[str] = mapped_column(MEANS_OF_ATTACK.column_type())
    attack_context: Mapped[str] = mapped_column(ATTACK_CONTEXT.column_type())
    location_type: Mapped[str] = mapped_column(LOCATION_TYPE.column_type())
    perpetrator_type: Mapped[str] = mapped_column(PERPETRATOR_TYPE.column_type())
    perpetrator_name: Mapped[str | None] = mapped_column(String(200))
    narrative: Mapped[str] = mapped_column(Text, default="")
    sources: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(VERIFICATION_STATUS.column_type(), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    validated_at: Mapped[datetime | None]
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Why the incident was last returned to draft, for its author to act on.
    return_reason: Mapped[str | None] = mapped_column(Text)
    # Set when a user links this incident to one recorded earlier as the same event.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)

    mission: Mapped[Mission] = relationship()
    country: Mapped[Country] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])
    duplicate_of: Mapped[Incident | None] = relationship(remote_side="Incident.id")
    victims: Mapped[list[Victim]] = relationship(
        back_populates="incident", order_by="Victim.id", cascade="all, delete-orphan"
    )
    cases: Mapped[list[JudicialCase]] = relationship(
        secondary=case_incidents, back_populates="incidents"
    )

    __table_args__ = (
        sa.UniqueConstraint("mission_code", "reference", name="uq_incidents_mission_reference"),
        sa.UniqueConstraint(
            "mission_code", "source_reference", name="uq_incidents_mission_source_reference"
        ),
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        sa.CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name="coordinates_paired"),
        sa.CheckConstraint(
            "occurred_time IS NULL OR date_precision = 'exact'", name="time_needs_exact_date"
        ),
        sa.CheckConstraint("version > 0", name="version_positive"),
        sa.Index("ix_incidents_occurred_on_id", "occurred_on", "id"),
        sa.Index("ix_incidents_mission_occurred_on", "mission_code", "occurred_on", "id"),
        sa.Index("ix_incidents_status", "status"),
        # Map aggregation reads only these columns of live incidents.
        sa.Index(
            "ix_incidents_map",
            "status",
            "longitude",
            "latitude",
            "id",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        ),
        sa.Index("ix_incidents_country", "country_code"),
    )

    def __repr__(self) -> str:
        return f"<Incident {self.reference}>"


class Victim(Record, Base):
    __tablename__ = "victims"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    category: Mapped[str] = mapped_column(PERSONNEL_CATEGORY.column_type())
    nationality_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), index=True)
    contributing_country_code: Mapped[str | None] = mapped_column(
        ForeignKey("countries.code"), index=True
    )
    unit: Mapped[str | None] = mapped_column(String(120))
    sex: Mapped[str] = mapped_column(SEX.column_type(), default="unknown")
    outcome: Mapped[str] = mapped_column(OUTCOME.column_type())
    date_of_death: Mapped[date | None]
    # Personal data: shown only to those the access rule allows.
    name: Mapped[str | None] = mapped_column(String(200))
    identifier: Mapped[str | None] = mapped_column(String(64))

    incident: Mapped[Incident] = relationship(back_populates="victims")
    nationality: Mapped[Country] = relationship(foreign_keys=[nationality_code])
    contributing_country: Mapped[Country | None] = relationship(
        foreign_keys=[contributing_country_code]
    )

    __table_args__ = (
        sa.CheckConstraint(
            "date_of_death IS NULL OR outcome = 'killed'", name="death_date_only_if_killed"
        ),
        # Fatality counts on maps and charts.
        sa.Index(
            "ix_victims_killed",
            "incident_id",
            postgresql_where=sa.text("outcome = 'killed' AND deleted_at IS NULL"),
            sqlite_where=sa.text("outcome = 'killed' AND deleted_at IS NULL"),
        ),
    )


class ReferenceCounter(Base):
    """The last number given to an incident reference of a mission and year
    (``MINUSMA-2021-0042``): a new incident takes the next one by updating this row, which
    PostgreSQL locks until the transaction ends, so that concurrent recorders queue for a
    moment instead of clashing, and finding the number never reads the year's references.

    A row starts from the highest number already used (incidents inserted before it
    existed); one put in by other means, such as the demo data, is caught by the
    reference's uniqueness and the row moved past it.
    """

    __tablename__ = "reference_counters"

    mission_code: Mapped[str] = mapped_column(ForeignKey("missions.code"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int]


def pending_index(name: str, column: str) -> sa.Index:
    """An index of the rows awaiting review alone: the work queues find them among a
    million without reading the others (:mod:`incidents.policy_queues`)."""
    pending = sa.text("review_status = 'pending' AND deleted_at IS NULL")
    return sa.Index(name, column, postgresql_where=pending, sqlite_where=pending)


class JudicialCase(Record, Base):
    __tablename__ = "judicial_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    prosecuting_state_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), index=True)
    jurisdiction: Mapped[str] = mapped_column(JURISDICTION.column_type())
    national_reference: Mapped[str | None] = mapped_column(String(120))
    charges: Mapped[str] = mapped_column(Text, default="")
    # Derived from the validated stage events; kept here so lists can filter on it.
    current_stage: Mapped[str | None] = mapped_column(JUDICIAL_STAGE.column_type(), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A case a Member State opens waits, pending, until the mission validates it.
    review_status: Mapped[str] = mapped_column(
        REVIEW_STATUS.column_type(), default="validated", server_default="validated"
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_reason: Mapped[str | None] = mapped_column(Text)

    prosecuting_state: Mapped[Country] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    incidents: Mapped[list[Incident]] = relationship(
        secondary=case_incidents, back_populates="cases", order_by=Incident.occurred_on
    )
    defendants: Mapped[list[Defendant]] = relationship(
        back_populates="case", order_by="Defendant.id"
    )
    stage_events: Mapped[list[StageEvent]] = relationship(
        back_populates="case", order_by="(StageEvent.occurred_on, StageEvent.id)"
    )

    __table_args__ = (
        pending_index("ix_judicial_cases_pending", "id"),
        # The oldest first: the stalled cases of a work queue.
        sa.Index("ix_judicial_cases_created_at", "created_at", "id"),
    )

    def title(self) -> str:
        """How pages name the case, in the viewer's language: "Case 12 (NR-2021/7)"."""
        if self.national_reference:
            title = _(
                "Case %(number)d (%(reference)s)", number=self.id, reference=self.national_reference
            )
        else:
            title = _("Case %(number)d", number=self.id)
        return str(title)


class Defendant(Record, Base):
    __tablename__ = "defendants"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("judicial_cases.id"), index=True)
    # Personal data: shown only to those the access rule allows.
    alias: Mapped[str] = mapped_column(String(200))
    identifier: Mapped[str | None] = mapped_column(String(64))
    affiliation: Mapped[str | None] = mapped_column(String(200))
    current_stage: Mapped[str | None] = mapped_column(JUDICIAL_STAGE.column_type())
    verdict: Mapped[str | None] = mapped_column(String(200))
    sentence: Mapped[str | None] = mapped_column(String(200))
    sentence_months: Mapped[int | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A defendant a Member State adds waits, pending, until the mission validates it.
    review_status: Mapped[str] = mapped_column(
        REVIEW_STATUS.column_type(), default="validated", server_default="validated"
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[JudicialCase] = relationship(back_populates="defendants")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __table_args__ = (
        sa.CheckConstraint("sentence_months IS NULL OR sentence_months >= 0", name="sentence"),
        pending_index("ix_defendants_pending", "case_id"),
    )


class StageEvent(Record, Base):
    """One step of a case or of one defendant; the current stage is derived from these."""

    __tablename__ = "stage_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("judicial_cases.id"), index=True)
    defendant_id: Mapped[int | None] = mapped_column(ForeignKey("defendants.id"), index=True)
    stage: Mapped[str] = mapped_column(JUDICIAL_STAGE.column_type())
    occurred_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    source_document: Mapped[str | None] = mapped_column(String(200))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_status: Mapped[str] = mapped_column(REVIEW_STATUS.column_type(), default="validated")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[JudicialCase] = relationship(back_populates="stage_events")
    defendant: Mapped[Defendant | None] = relationship()
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])

    __table_args__ = (pending_index("ix_stage_events_pending", "case_id"),)


class CapacityAssistance(Record, Base):
    __tablename__ = "capacity_assistance"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_state_code: Mapped[str] = mapped_column(ForeignKey("countries.code"), index=True)
    mission_code: Mapped[str] = mapped_column(ForeignKey("missions.code"))
    kind: Mapped[str] = mapped_column(ASSISTANCE_KIND.column_type())
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    participants: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text, default="")

    recipient_state: Mapped[Country] = relationship()
    mission: Mapped[Mission] = relationship()
    cases: Mapped[list[JudicialCase]] = relationship(secondary=assistance_cases)

    __table_args__ = (
        sa.CheckConstraint("participants >= 0", name="participants_not_negative"),
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_ordered"),
    )


class Comment(Record, Base):
    """A comment or a request for clarification between a Member State and a mission."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("judicial_cases.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(COMMENT_KIND.column_type(), default="comment")
    body: Mapped[str] = mapped_column(Text)
    # The State whose thread with the mission this is; none when the mission speaks to
    # every reader of the subject. Only that State's focal points read its thread.
    thread_state_code: Mapped[str | None] = mapped_column(ForeignKey("countries.code"))

    author: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint("(incident_id IS NULL) <> (case_id IS NULL)", name="one_subject"),
    )


class RecordVersion(Base):
    """The state a record had before one of its changes: nothing edited is ever lost."""

    __tablename__ = "record_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[int]
    version: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    replaced_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("record_type", "record_id", "version", name="uq_record_versions_key"),
    )


class IdempotencyKey(Base):
    """The answer given to a POST carrying an ``Idempotency-Key``, replayed if it comes again."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(300))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Background jobs ----------------------------------------------------------------------------

JOB_STATUSES = ("queued", "running", "done", "failed")
FINISHED = ("done", "failed")


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    # What the job was asked: a filter, a file kept in the instance folder, a language.
    params: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    progress_message: Mapped[str] = mapped_column(String(200), default="")
    # For the owner's eyes: what went wrong in their words, never a stack trace.
    error: Mapped[str | None] = mapped_column(String(1000))
    # The result file's random name in the instance folder, and what it is to the owner.
    result_name: Mapped[str | None] = mapped_column(String(64))
    result_filename: Mapped[str | None] = mapped_column(String(200))
    result_media_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    owner: Mapped[User] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')", name="known_status"
        ),
        sa.CheckConstraint("progress_done >= 0 AND progress_total >= 0", name="progress"),
    )

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)


# Saved views --------------------------------------------------------------------------------

SAVED_VIEW_PAGES = ("list", "map", "trends")


class SavedView(Base):
    """A filter a user named, to open again on the list, the map or the trends page.

    It holds query arguments only, never data: opened, the page reads them through the
    viewer's own scope. An analyst may share a view with the other analysts.
    """

    __tablename__ = "saved_views"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    page: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    shared: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    owner: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("owner_id", "page", "name", name="uq_saved_views_owner_page_name"),
        sa.CheckConstraint("page IN ('list', 'map', 'trends')", name="known_page"),
    )
