"""The recording rules, run on what an incident or a victim would be once a version is
restored: a restore never skips the validation an edit goes through."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from capdb.reference import Mission
from incidents import history
from incidents.models import Incident, Record, Victim
from incidents.recording import rules


def restore_problems(
    db: Session, record: Record, differences: list[history.FieldRestore]
) -> rules.Problems:
    """What the recording rules refuse in the content the record would have once these
    differences are restored, keyed by field as the form names them.

    A version was valid when it was saved, but what it is checked against may have moved
    since: the incident's date (for a victim), its victims (for an incident), the mission.
    """
    if not differences:
        return {}
    after = _values(record) | {d.name: d.restored for d in differences}
    if isinstance(record, Victim):
        return rules.victim_problems(after, incident_date=record.incident.occurred_on)
    if not isinstance(record, Incident):
        return {}
    problems = rules.incident_problems(after, mission=db.get(Mission, record.mission_code))
    for name, reasons in _victims_problems(record, after["occurred_on"]).items():
        _add(problems, name, reasons)
    return problems


def _victims_problems(incident: Incident, restored_date: date | None) -> rules.Problems:
    """What the incident's date, once restored, makes wrong in its victims: only what that
    date changes (a victim's own problems are its edits' to show)."""
    problems: rules.Problems = {}
    if restored_date == incident.occurred_on:
        return problems
    for victim in incident.victims:
        if victim.deleted_at is not None:
            continue
        values = _values(victim)
        present = rules.victim_problems(values, incident_date=incident.occurred_on)
        restored = rules.victim_problems(values, incident_date=restored_date)
        for name, reasons in restored.items():
            _add(problems, name, [r for r in reasons if r not in present.get(name, [])])
    return problems


def _add(problems: rules.Problems, name: str, reasons: list[str]) -> None:
    """Note the reasons not noted yet (several victims may have the same)."""
    for reason in reasons:
        if reason not in problems.setdefault(name, []):
            problems[name].append(reason)
    if not problems[name]:
        del problems[name]


def _values(record: Record) -> dict[str, Any]:
    return {a.key: getattr(record, a.key) for a in sa.inspect(record).mapper.column_attrs}
