"""The session hook that keeps ``incident_states`` and ``case_states`` current after every
flush of the ORM (why a hook: :mod:`incidents.concerned`)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from capdb.reference import Mission, MissionHost
from incidents.concerned import (
    refresh_case_states,
    refresh_cases_of,
    refresh_incident_states,
    refresh_mission_hosts,
)
from incidents.models import Incident, JudicialCase, Victim

# What the rows depend on: the incident's and victims' columns that decide the States it
# concerns; the incident's columns that decide whether focal points see it (and so its
# cases); the case's prosecuting State and links (changed from either side: see _case_ids).
_INCIDENT_SCOPE = ("country_code", "mission_code", "occurred_on")
_INCIDENT_SIGHT = ("status", "deleted_at")
_VICTIM_SCOPE = ("nationality_code", "contributing_country_code", "deleted_at", "incident_id")
_CASE_SCOPE = ("prosecuting_state_code", "incidents")


def keep_current() -> None:
    """Keep the tables current in every session's flushes (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


@dataclass
class _Changes:
    incidents: set[int] = field(default_factory=set)  # whose States may have changed
    seen: set[int] = field(default_factory=set)  # whose visibility (so cases) may have
    cases: set[int] = field(default_factory=set)
    missions: set[str] = field(default_factory=set)


def _after_flush(session: Session, _context: object) -> None:
    # Attribute histories still hold the flushed changes here (they are reset afterwards).
    changes = _Changes()
    for record in session.new:
        _new(record, changes)
    for record in session.dirty:
        _dirty(record, changes)
    for record in session.deleted:
        if isinstance(record, MissionHost):
            _host(record, changes)
        elif isinstance(record, Victim):
            changes.incidents |= _incident_ids_of(record)
        elif isinstance(record, Incident):
            # Its links went with it: the cases it was linked to are no longer seen
            # through it, and only its collection still names them.
            changes.cases |= _case_ids(record, everything=True)
    if changes.incidents:
        refresh_incident_states(session, changes.incidents)
    if changes.seen - changes.incidents:
        refresh_cases_of(session, changes.seen - changes.incidents)
    if changes.cases:
        refresh_case_states(session, changes.cases)
    for code in sorted(changes.missions):
        refresh_mission_hosts(session, code)


def _new(record: object, changes: _Changes) -> None:
    if isinstance(record, Incident):
        changes.incidents.add(record.id)
    elif isinstance(record, Victim):
        changes.incidents.add(record.incident_id)
    elif isinstance(record, JudicialCase):
        changes.cases.add(record.id)
    elif isinstance(record, MissionHost):
        _host(record, changes)


def _dirty(record: object, changes: _Changes) -> None:
    if isinstance(record, Incident):
        if _changed(record, _INCIDENT_SCOPE):
            changes.incidents.add(record.id)
        elif _changed(record, _INCIDENT_SIGHT):
            changes.seen.add(record.id)
        changes.cases |= _case_ids(record)
    elif isinstance(record, Victim) and _changed(record, _VICTIM_SCOPE):
        changes.incidents |= _incident_ids_of(record)
    elif isinstance(record, JudicialCase) and _changed(record, _CASE_SCOPE):
        changes.cases.add(record.id)
    elif isinstance(record, Mission) and _changed(record, ("host_periods",)):
        changes.missions.add(record.code)
    elif isinstance(record, MissionHost):
        _host(record, changes)


def _host(host: MissionHost, changes: _Changes) -> None:
    """A host period added, changed or removed on its own (through its mission's
    ``host_periods``, the mission itself shows the change)."""
    if host.mission_code:
        changes.missions.add(host.mission_code)


def _changed(record: object, names: Collection[str]) -> bool:
    attributes = sa.inspect(record).attrs
    return any(attributes[name].history.has_changes() for name in names)


def _case_ids(incident: Incident, *, everything: bool = False) -> set[int]:
    """The cases linked to or unlinked from the incident in the flush (with ``everything``,
    those it was linked to as well).

    Read from the incident's side: a case unlinked there drops out of the links that
    :func:`refresh_cases_of` follows after the flush, and the case itself shows no change
    when its own collection was not loaded (the backref only queues the removal)."""
    history = sa.inspect(incident).attrs.cases.history
    cases = history.sum() if everything else [*history.added, *history.deleted]
    return {case.id for case in cases if case.id is not None}


def _incident_ids_of(victim: Victim) -> set[int]:
    """The victim's incident, and the one it belonged to before the flush if it moved."""
    history = sa.inspect(victim).attrs.incident_id.history
    ids = {victim.incident_id, *history.deleted}
    return {i for i in ids if i is not None}
