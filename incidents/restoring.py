"""Restoring an earlier version of a record, and what the workflow does after it.

:func:`incidents.history.restore` brings back content only. This module adds what
follows from new content, as an edit would: a submitted or validated incident whose
content (or one of its victims') changes goes back to draft and through validation again,
since an edit is only ever made on a draft; a stage event waits, pending, until the
mission validates it again. Cases, defendants, assistance and comments carry no
validation: a restore changes their content and nothing else, as their edits do.
Every restore that changes something is audited with the version it brought back, the
version it replaced (both kept in the history) and the names of the fields it changed:
never their values, which the audit trail, never erased, must not keep.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth import audit
from auth.models import AuditEvent, User
from capdb.clock import now
from incidents import history
from incidents.justice.stages import recompute_stages
from incidents.models import Incident, Record, StageEvent, Victim
from incidents.signals import incidents_saved

# An incident in these statuses goes back to draft when its content changes, as an edit
# (made on drafts only) would need it to.
UNDER_VALIDATION = frozenset({"submitted", "validated"})


@dataclass(frozen=True)
class Restored:
    """What a restore did: the content fields changed, and the workflow step it caused
    (``(record type, from, to)``, e.g. an incident back from validated to draft)."""

    fields: list[history.FieldRestore]
    sent_back: tuple[str, str, str] | None = None

    def __bool__(self) -> bool:
        return bool(self.fields)


Problems = dict[str, list[str]]
# What the rules of the record's content refuse in the values a restore would give it.
ContentCheck = Callable[[Session, Record, list[history.FieldRestore]], Problems]


class RestoreRefusedError(Exception):
    """The content a restore would bring back breaks the rules: nothing changed."""

    def __init__(self, problems: Problems) -> None:
        super().__init__(problems)
        self.problems = problems


def restore_version(
    db: Session, user: User, record: Record, version: int, *, check: ContentCheck
) -> Restored:
    """Restore ``version`` of the record's content for ``user``; flushes and audits.

    Raises LookupError when the record has no such version, and RestoreRefusedError
    (changing nothing) when ``check`` (the rules of the record's feature, e.g.
    :func:`incidents.recording.restore_checks.restore_problems`, which this shared module
    cannot import without a cycle) refuses the content it would have. The caller checks
    that the user may restore the record.
    """
    problems = check(db, record, history.restore_preview(db, record, version))
    if problems:
        raise RestoreRefusedError(problems)
    replaced = record.version
    fields = history.restore(db, record, version, flush=False)
    if not fields:
        return Restored(fields)
    sent_back = _through_validation_again(db, user, record)
    db.flush()
    audit.record(
        db,
        "restore",
        user=user,
        target=record,
        detail=_audit_detail(record, version, replaced, fields, sent_back),
    )
    return Restored(fields, sent_back)


def _through_validation_again(
    db: Session, user: User, record: Record
) -> tuple[str, str, str] | None:
    if isinstance(record, Incident):
        return _changed_incident(db, user, record)
    if isinstance(record, Victim):
        # The victim is part of its incident's content: the incident changes with it.
        return _changed_incident(db, user, record.incident)
    if isinstance(record, StageEvent):
        return _changed_stage_event(db, record)
    return None


def _changed_incident(db: Session, user: User, incident: Incident) -> tuple[str, str, str] | None:
    """New content: a new version of the incident, back to draft if it was further on."""
    before = incident.status
    incident.updated_by_id = user.id
    incident.updated_at = now()
    if before in UNDER_VALIDATION:
        # As a return does, without a reason to act on: nothing the restore brought back
        # was submitted or validated by anyone.
        incident.status = "draft"
        incident.submitted_at = incident.submitted_by_id = None
        incident.validated_at = incident.validated_by_id = None
    db.flush()
    incidents_saved.send(db, incident_ids=[incident.id])
    if before == incident.status:
        return None
    return ("incidents", before, incident.status)


def _changed_stage_event(db: Session, event: StageEvent) -> tuple[str, str, str] | None:
    """A restored event waits for the mission's validation, and stops counting till then."""
    before = event.review_status
    if before == "pending":
        return None
    event.review_status = "pending"
    event.reviewed_by_id = event.reviewed_at = event.review_reason = None
    db.flush()
    recompute_stages(db, event.case)
    return ("stage_events", before, "pending")


def _audit_detail(
    record: Record,
    version: int,
    replaced: int,
    fields: list[history.FieldRestore],
    sent_back: tuple[str, str, str] | None,
) -> dict[str, Any]:
    """The fields and the versions, never the values: the trail can never be erased, and
    the values (personal data among them) are in the record's versions, which can."""
    detail: dict[str, Any] = {
        "restored_version": version,
        "replaced_version": replaced,
        "new_version": record.version,
        "fields": [f.name for f in fields],
    }
    if sent_back is not None:
        kind, before, after = sent_back
        detail["workflow"] = {"record": kind, "from": before, "to": after}
    return detail


def restores_of(db: Session, records: Iterable[Record]) -> dict[tuple[str, int, int], int]:
    """For the history page: which versions of these records a restore replaced, and the
    version it brought back, keyed by (record type, record id, version replaced)."""
    targets = [(history.record_type(r), str(r.id)) for r in records]  # type: ignore[attr-defined]
    if not targets:
        return {}
    entries = db.execute(
        sa.select(AuditEvent.target_type, AuditEvent.target_id, AuditEvent.detail).where(
            AuditEvent.action == "restore",
            sa.tuple_(AuditEvent.target_type, AuditEvent.target_id).in_(targets),
        )
    )
    return {
        (kind, int(target_id), detail["replaced_version"]): detail["restored_version"]
        for kind, target_id, detail in entries
        if "replaced_version" in detail
    }
