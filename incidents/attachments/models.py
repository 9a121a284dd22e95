"""An attachment, and the files it has had: replacing the file adds a version, never
overwrites one."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from auth.models import User
from capdb.db import Base, utcnow
from capdb.vocabularies import ATTACHMENT_KIND

# What became of a file's text, for the search: waiting for the job, extracted, none to
# extract (an image), or the file could not be read.
TEXT_STATES = ("pending", "done", "none", "failed")


class Attachment(Base):
    """A document on exactly one incident, judicial case or stage event."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("judicial_cases.id"), index=True)
    stage_event_id: Mapped[int | None] = mapped_column(ForeignKey("stage_events.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(ATTACHMENT_KIND.column_type())
    # Marked by its uploader: only those who may see identities list or download it.
    personal_data: Mapped[bool] = mapped_column(default=False)
    # Raised by every change (a new file, new details, deletion, restoration): a change made
    # on an older revision is refused (409). Not the file's version (AttachmentFile.number).
    revision: Mapped[int] = mapped_column(sa.Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    files: Mapped[list[AttachmentFile]] = relationship(
        back_populates="attachment", order_by="AttachmentFile.number"
    )

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 (SQLAlchemy's own)
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN incident_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN case_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN stage_event_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
        sa.CheckConstraint("revision > 0", name="revision_positive"),
    )

    @property
    def current(self) -> AttachmentFile:
        """The file the attachment has now: its newest version."""
        return self.files[-1]


class AttachmentFile(Base):
    """One version of an attachment's file: where it is kept (its SHA-256) and what it is."""

    __tablename__ = "attachment_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id"), index=True)
    number: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    # The uploader's file name, made safe (see intake.safe_name).
    filename: Mapped[str] = mapped_column(String(200))
    # An image's metadata (EXIF, GPS) kept on purpose by its uploader; stripped otherwise.
    metadata_kept: Mapped[bool] = mapped_column(default=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The words of the file, extracted by a job for the search (never shown as such).
    text: Mapped[str | None] = mapped_column(Text)
    text_state: Mapped[str] = mapped_column(String(10), default="pending")

    attachment: Mapped[Attachment] = relationship(back_populates="files")
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    __table_args__ = (
        sa.UniqueConstraint("attachment_id", "number", name="uq_attachment_files_number"),
        sa.CheckConstraint("size >= 0", name="size_not_negative"),
        sa.CheckConstraint("number > 0", name="number_positive"),
        sa.CheckConstraint(
            "text_state IN ('pending', 'done', 'none', 'failed')", name="known_text_state"
        ),
    )
