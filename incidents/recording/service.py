"""Recording incidents: creating and editing them with their victims. The verification
workflow is in :mod:`incidents.recording.workflow`, likely duplicates in
:mod:`incidents.recording.duplicates`.

Services take a session and only flush; the request commits. They take values that a form
has already validated (:class:`IncidentFields`, :class:`VictimRow`), whose fields are the
only ones a user may set: status, version, authorship and reference never come from input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from auth import audit
from auth.models import User
from capdb.clock import now
from incidents import history, policy
from incidents.errors import NotAllowedError
from incidents.models import Incident, RecordVersion, ReferenceCounter, Victim
from incidents.policy import incident_if_visible
from incidents.signals import incidents_saved

# How many times a new incident tries the next free reference when another request took
# the one it computed.
REFERENCE_ATTEMPTS = 5
RETURN_REASON_MAX = 2000


class RecordingError(Exception):
    """A refusal with a message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidTransitionError(RecordingError):
    """The incident's status does not allow this step (409)."""


class NotACandidateError(RecordingError):
    """The incident to link is not among the likely duplicates the user may see."""


@dataclass(frozen=True)
class IncidentFields:
    """The incident's values a user may set; named as the model's attributes."""

    mission_code: str
    occurred_on: date
    occurred_time: time | None
    date_precision: str
    country_code: str
    place: str
    latitude: float | None
    longitude: float | None
    geo_precision: str
    means_of_attack: str
    attack_context: str
    location_type: str
    perpetrator_type: str
    perpetrator_name: str | None
    narrative: str
    sources: str


@dataclass(frozen=True)
class VictimFields:
    """A victim's values a user may set; named as the model's attributes."""

    category: str
    nationality_code: str
    contributing_country_code: str | None
    unit: str | None
    sex: str
    outcome: str
    date_of_death: date | None
    name: str | None


@dataclass(frozen=True)
class VictimRow:
    """One victim row of the form: an existing victim (with the version the form was loaded
    at) or a new one; ``fields`` is None when the row is to be removed."""

    victim_id: int | None
    version: int | None
    fields: VictimFields | None

    @property
    def remove(self) -> bool:
        return self.fields is None


# Missions and permissions


def casualties(db: Session, incident_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Victims per outcome for each of the incidents (a page of a list), in one query."""
    counts: dict[int, dict[str, int]] = {incident_id: {} for incident_id in incident_ids}
    rows = db.execute(
        sa.select(Victim.incident_id, Victim.outcome, sa.func.count())
        .where(Victim.incident_id.in_(incident_ids), Victim.deleted_at.is_(None))
        .group_by(Victim.incident_id, Victim.outcome)
    )
    for incident_id, outcome, count in rows:
        counts[incident_id][outcome] = count
    return counts


def ensure_editable(user: User, incident: Incident) -> None:
    if not policy.may_edit(user, incident):
        raise NotAllowedError(_("Only drafts can be edited; return the incident to draft first."))


# Creating and editing


def take_references(db: Session, mission_code: str, year: int, count: int = 1) -> int:
    """Take the next ``count`` numbers of the mission's references for the year and return
    the first. The mission and year's counter row stays locked until the transaction ends
    (on PostgreSQL), so a concurrent recorder waits for it rather than taking the same
    number."""
    row = (ReferenceCounter.mission_code == mission_code) & (ReferenceCounter.year == year)
    take = (
        sa.update(ReferenceCounter)
        .where(row)
        .values(last_number=ReferenceCounter.last_number + count)
        .returning(ReferenceCounter.last_number)
    )
    last: int | None = db.scalar(take)
    if last is None:
        # The first reference of the mission and year since counters exist.
        start = _highest_number(db, mission_code, year)
        try:
            with db.begin_nested():
                db.execute(
                    sa.insert(ReferenceCounter).values(
                        mission_code=mission_code, year=year, last_number=start + count
                    )
                )
            last = start + count
        except IntegrityError:  # a concurrent request started the row first
            last = int(db.execute(take).scalar_one())
    return last - count + 1


def format_reference(mission_code: str, year: int, number: int) -> str:
    """``MINUSMA-2021-0042``."""
    return f"{mission_code}-{year}-{number:04d}"


def next_reference(db: Session, mission_code: str, year: int) -> str:
    """Take the next reference of the mission for the year, such as ``MINUSMA-2021-0042``."""
    return format_reference(mission_code, year, take_references(db, mission_code, year))


def references_for(db: Session, keys: Sequence[tuple[str, int]]) -> list[str]:
    """The next references of each (mission, year) of ``keys``, in their order, past any
    number already in use (a clash would fail a whole import): each group's numbers taken
    at once, the groups in order, so that two imports queue for each other's counters
    rather than each holding one the other needs."""
    groups = Counter(keys)
    following = {}
    for group in sorted(groups):
        catch_up_references(db, *group)
        following[group] = take_references(db, *group, groups[group])
    references = []
    for group in keys:
        references.append(format_reference(*group, following[group]))
        following[group] += 1
    return references


def _highest_number(db: Session, mission_code: str, year: int) -> int:
    """The highest number among the mission's references of the year (0 if none); reads
    every one of them, so only where the counter must start or catch up."""
    prefix = f"{mission_code}-{year}-"
    taken = db.scalars(
        sa.select(Incident.reference).where(
            Incident.mission_code == mission_code,
            Incident.reference.startswith(prefix, autoescape=True),
        )
    )
    numbers = [int(s) for s in (r[len(prefix) :] for r in taken) if s.isascii() and s.isdigit()]
    return max(numbers, default=0)


def catch_up_references(db: Session, mission_code: str, year: int) -> None:
    """Move the counter past the numbers used without it (incidents put in by other means
    than recording, such as the demo data)."""
    highest = _highest_number(db, mission_code, year)
    db.execute(
        sa.update(ReferenceCounter)
        .where(
            ReferenceCounter.mission_code == mission_code,
            ReferenceCounter.year == year,
            ReferenceCounter.last_number < highest,
        )
        .values(last_number=highest)
    )


def create_incident(
    db: Session, user: User, fields: IncidentFields, rows: Sequence[VictimRow]
) -> Incident:
    """A new draft incident with its victims, under the next free reference."""
    if fields.mission_code not in {m.code for m in policy.missions_for(db, user)}:
        raise NotAllowedError(_("You cannot record incidents for this mission."))
    incident = Incident(
        **asdict(fields), status="draft", created_by_id=user.id, updated_by_id=user.id
    )
    incident.victims = [Victim(**asdict(row.fields)) for row in rows if row.fields is not None]
    _insert_under_next_reference(db, incident)
    audit.record(
        db,
        "create",
        user=user,
        target=incident,
        detail={"reference": incident.reference, "victims": [v.id for v in incident.victims]},
    )
    incidents_saved.send(db, incident_ids=[incident.id])
    return incident


def _insert_under_next_reference(db: Session, incident: Incident) -> None:
    """Insert the incident under the next reference, and under the one after the highest
    in use when that one was taken without the counter (a unique violation)."""
    for _attempt in range(REFERENCE_ATTEMPTS):
        incident.reference = next_reference(db, incident.mission_code, incident.occurred_on.year)
        try:
            with db.begin_nested():
                db.add(incident)
                db.flush()
            return
        except IntegrityError:
            # The savepoint is rolled back and the incident is transient again.
            if not _reference_taken(db, incident.mission_code, incident.reference):
                raise
            catch_up_references(db, incident.mission_code, incident.occurred_on.year)
    raise RecordingError(_("No free reference was found; please save again."))


def _reference_taken(db: Session, mission_code: str, reference: str) -> bool:
    return bool(
        db.scalar(
            sa.select(
                sa.exists().where(
                    Incident.mission_code == mission_code, Incident.reference == reference
                )
            )
        )
    )


@dataclass(frozen=True)
class ChangedField:
    """A field changed since a version, with its newer value (as the history stores it)."""

    name: str
    value: object


@dataclass(frozen=True)
class ChangedVictim:
    victim: Victim
    how: str  # "added", "changed" or "removed"


class StaleEditError(Exception):
    """The incident changed since the form was loaded: nothing was saved."""

    def __init__(
        self,
        fields: list[ChangedField],
        victims: list[ChangedVictim],
        editors: list[str],
        current_version: int,
    ) -> None:
        super().__init__("the incident changed since the form was loaded")
        self.fields = fields
        self.victims = victims
        self.editors = editors
        self.current_version = current_version


@dataclass(frozen=True)
class EditSummary:
    fields: list[str] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.added or self.changed or self.removed)


# Kept by the database, the optimistic lock or the workflow rather than by an edit; admin
# areas are derived from the coordinates.
_NOT_REPORTED = frozenset(
    {
        "id",
        "version",
        "created_at",
        "updated_at",
        "created_by_id",
        "updated_by_id",
        "submitted_at",
        "submitted_by_id",
        "validated_at",
        "validated_by_id",
        "admin1",
        "admin2",
    }
)


def update_incident(
    db: Session,
    user: User,
    incident: Incident,
    fields: IncidentFields,
    rows: Sequence[VictimRow],
    *,
    loaded_version: int,
) -> EditSummary:
    """Apply an edit made on the form loaded at ``loaded_version``.

    Raises :class:`StaleEditError` when the incident or one of its victims changed since
    then, whether that is seen before writing or by the optimistic lock while writing.
    """
    ensure_editable(user, incident)
    if fields.mission_code not in {m.code for m in policy.missions_for(db, user)}:
        raise NotAllowedError(_("You cannot record incidents for this mission."))
    current = {v.id: v for v in incident.victims if v.deleted_at is None}
    stale_rows = [
        row
        for row in rows
        if row.victim_id is not None
        and (row.victim_id not in current or current[row.victim_id].version != row.version)
    ]
    if incident.version != loaded_version or stale_rows:
        raise stale_edit(db, incident, loaded_version, user=user)
    try:
        with db.begin_nested():
            fields_changed, added, changed, removed = _apply(incident, fields, rows, current)
            if fields_changed or added or changed or removed:
                # The incident's version moves with any change of its victims too, so
                # that a form loaded earlier is always recognised as stale.
                incident.updated_by_id = user.id
                incident.updated_at = now()
                db.flush()
    except (StaleDataError, IntegrityError):
        db.expire(incident)
        if incident.version == loaded_version:
            raise
        raise stale_edit(db, incident, loaded_version, user=user) from None
    summary = EditSummary(fields_changed, [v.id for v in added], changed, removed)
    if summary:
        audit.record(
            db,
            "update",
            user=user,
            target=incident,
            detail={
                "fields": summary.fields,
                "victims": {
                    "added": summary.added,
                    "changed": summary.changed,
                    "removed": summary.removed,
                },
            },
        )
        incidents_saved.send(db, incident_ids=[incident.id])
    return summary


def _apply(
    incident: Incident,
    fields: IncidentFields,
    rows: Sequence[VictimRow],
    current: dict[int, Victim],
) -> tuple[list[str], list[Victim], list[int], list[int]]:
    """Set the edited values; the fields changed, and the victims added, changed, removed."""
    fields_changed = _assign(incident, asdict(fields))
    added: list[Victim] = []
    changed: list[int] = []
    removed: list[int] = []
    for row in rows:
        victim = current.get(row.victim_id) if row.victim_id is not None else None
        if row.fields is None:
            if victim is not None:
                victim.deleted_at = now()
                removed.append(victim.id)
        elif victim is None:
            added.append(Victim(**asdict(row.fields)))
        elif _assign(victim, asdict(row.fields)):
            changed.append(victim.id)
    incident.victims.extend(added)
    return fields_changed, added, changed, removed


def _assign(record: Any, values: dict[str, Any]) -> list[str]:
    """Set the values that differ; the names of those changed."""
    changed = []
    for name, value in values.items():
        if getattr(record, name) != value:
            setattr(record, name, value)
            changed.append(name)
    return changed


def stale_edit(
    db: Session, incident: Incident, loaded_version: int, *, user: User | None = None
) -> StaleEditError:
    """What changed in the incident and its victims since ``loaded_version``, as the user
    may learn it (without a user, no other incident is named)."""
    earlier = {v.version: v for v in history.versions(db, incident)}
    base = earlier.get(loaded_version)
    current = history.snapshot(incident)
    fields = []
    if base is not None:
        fields = [
            ChangedField(name, _describe_reference(db, user, name, value))
            for name, value in current.items()
            if name not in _NOT_REPORTED and base.data.get(name) != value
        ]
    since = base.replaced_at if base is not None else None
    victims = [] if since is None else _victims_changed_since(incident, since)
    later = [v for number, v in earlier.items() if number >= loaded_version]
    return StaleEditError(
        fields=fields,
        victims=victims,
        editors=_editors(db, user, later),
        current_version=incident.version,
    )


def _describe_reference(db: Session, user: User | None, name: str, value: object) -> object:
    if name == "duplicate_of_id" and value is not None:
        # The reference of an incident the user may not open is never told.
        original = incident_if_visible(db, user, int(str(value))) if user else None
        return original.reference if original is not None else _("an incident you cannot see")
    return value


def _victims_changed_since(incident: Incident, since: datetime) -> list[ChangedVictim]:
    changed = []
    for victim in incident.victims:
        if victim.deleted_at is not None and victim.deleted_at >= since:
            changed.append(ChangedVictim(victim, "removed"))
        elif victim.deleted_at is None and victim.created_at >= since:
            changed.append(ChangedVictim(victim, "added"))
        elif victim.deleted_at is None and victim.updated_at >= since:
            changed.append(ChangedVictim(victim, "changed"))
    return changed


def _editors(db: Session, user: User | None, versions: Iterable[RecordVersion]) -> list[str]:
    """Who made the versions, named as the policy lets this user know them (an address
    for the United Nations staff, a role and State otherwise; nobody without a user)."""
    ids = {v.replaced_by_id for v in versions if v.replaced_by_id is not None}
    if not ids or user is None:
        return []
    editors = db.scalars(sa.select(User).where(User.id.in_(ids)))
    return sorted({policy.person_label(user, editor) for editor in editors})
