"""Records as the API shows them to one viewer: codes for vocabularies, acronyms and
alpha-3 codes for missions and countries, personal data only where the access rule allows.

Building the dictionaries here, rather than dumping models through the schemas, keeps
the decision about personal data explicit, next to the access rule it applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from incidents.models import (
    CapacityAssistance,
    Defendant,
    Incident,
    JudicialCase,
    StageEvent,
    Victim,
    assistance_cases,
    case_incidents,
)
from incidents.policy import (
    keeps_record_of,
    sees_defendant_identity,
    sees_victim_identity,
    visible_cases,
    visible_defendants,
    visible_incidents,
)

Resource = dict[str, Any]


def victim(user: User, record: Victim) -> Resource:
    resource: Resource = {
        "id": record.id,
        "category": record.category,
        "nationality": record.nationality_code,
        "contributing_country": record.contributing_country_code,
        "unit": record.unit,
        "sex": record.sex,
        "outcome": record.outcome,
        "date_of_death": record.date_of_death,
        "version": record.version,
    }
    if sees_victim_identity(user, record):
        resource["name"] = record.name
        resource["identifier"] = record.identifier
    return resource


def incident(user: User, record: Incident) -> Resource:
    resource: Resource = {
        "id": record.id,
        "reference": record.reference,
        "mission": record.mission_code,
        "occurred_on": record.occurred_on,
        "occurred_time": record.occurred_time,
        "date_precision": record.date_precision,
        "country": record.country_code,
        "place": record.place,
        "latitude": record.latitude,
        "longitude": record.longitude,
        "geo_precision": record.geo_precision,
        "admin1": record.admin1,
        "admin2": record.admin2,
        "means_of_attack": record.means_of_attack,
        "attack_context": record.attack_context,
        "location_type": record.location_type,
        "perpetrator_type": record.perpetrator_type,
        "perpetrator_name": record.perpetrator_name,
        "narrative": record.narrative,
        "sources": record.sources,
        "status": record.status,
        "version": record.version,
        "victims": [victim(user, v) for v in record.victims if v.deleted_at is None],
    }
    if keeps_record_of(user, record):
        resource["return_reason"] = record.return_reason
    return resource


def feature(record: Incident, counts: dict[str, int]) -> Resource:
    """An incident on a map: where, when, what, and how many; never who."""
    geometry = None
    if record.latitude is not None and record.longitude is not None:
        geometry = {"type": "Point", "coordinates": [record.longitude, record.latitude]}
    return {
        "type": "Feature",
        "id": record.id,
        "geometry": geometry,
        "properties": {
            "reference": record.reference,
            "mission": record.mission_code,
            "country": record.country_code,
            "occurred_on": record.occurred_on,
            "place": record.place,
            "geo_precision": record.geo_precision,
            "means_of_attack": record.means_of_attack,
            "attack_context": record.attack_context,
            "location_type": record.location_type,
            "status": record.status,
            **{o: counts.get(o, 0) for o in ("killed", "injured", "abducted", "detained")},
        },
    }


# Judicial cases ------------------------------------------------------------------------------


def defendant(record: Defendant, *, shows_identity: bool) -> Resource:
    resource: Resource = {
        "id": record.id,
        "affiliation": record.affiliation,
        "current_stage": record.current_stage,
        "verdict": record.verdict,
        "sentence": record.sentence,
        "sentence_months": record.sentence_months,
        "review_status": record.review_status,
        "review_reason": record.review_reason,
        "version": record.version,
    }
    if shows_identity:
        resource["alias"] = record.alias
        resource["identifier"] = record.identifier
    return resource


def seen_incident_ids(db: Session, user: User, case_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each case, the ids of its incidents that the user may open."""
    ids = list(case_ids)
    seen: dict[int, list[int]] = {case_id: [] for case_id in ids}
    rows = db.execute(
        sa.select(case_incidents.c.case_id, Incident.id)
        .join(Incident, Incident.id == case_incidents.c.incident_id)
        .where(case_incidents.c.case_id.in_(ids), visible_incidents(user))
        .order_by(Incident.occurred_on, Incident.id)
    )
    for case_id, incident_id in rows:
        seen[case_id].append(incident_id)
    return seen


def judicial_cases(db: Session, user: User, records: Sequence[JudicialCase]) -> list[Resource]:
    seen = seen_incident_ids(db, user, [c.id for c in records])
    defendants: dict[int, list[Defendant]] = {c.id: [] for c in records}
    for record in db.scalars(
        sa.select(Defendant)
        .where(Defendant.case_id.in_(list(defendants)), visible_defendants(user))
        .order_by(Defendant.id)
    ):
        defendants[record.case_id].append(record)
    return [
        {
            "id": case.id,
            "prosecuting_state": case.prosecuting_state_code,
            "jurisdiction": case.jurisdiction,
            "national_reference": case.national_reference,
            "charges": case.charges,
            "current_stage": case.current_stage,
            "incidents": seen[case.id],
            "defendants": [
                defendant(d, shows_identity=sees_defendant_identity(user, case))
                for d in defendants[case.id]
            ],
            "review_status": case.review_status,
            "review_reason": case.review_reason,
            "version": case.version,
        }
        for case in records
    ]


def judicial_case(db: Session, user: User, record: JudicialCase) -> Resource:
    return judicial_cases(db, user, [record])[0]


def stage_event(record: StageEvent, *, reports: bool) -> Resource:
    resource: Resource = {
        "id": record.id,
        "defendant": record.defendant_id,
        "stage": record.stage,
        "occurred_on": record.occurred_on,
        "note": record.note,
        "source_document": record.source_document,
        "review_status": record.review_status,
        "version": record.version,
    }
    if reports:
        resource["review_reason"] = record.review_reason
    return resource


# Assistance ---------------------------------------------------------------------------


def seen_case_ids(
    db: Session, user: User, records: Sequence[CapacityAssistance]
) -> dict[int, list[int]]:
    """For each assistance record, the ids of its cases that the user may open."""
    seen: dict[int, list[int]] = {r.id: [] for r in records}
    rows = db.execute(
        sa.select(assistance_cases.c.assistance_id, JudicialCase.id)
        .join(JudicialCase, JudicialCase.id == assistance_cases.c.case_id)
        .where(assistance_cases.c.assistance_id.in_(list(seen)), visible_cases(user))
        .order_by(JudicialCase.id)
    )
    for assistance_id, case_id in rows:
        seen[assistance_id].append(case_id)
    return seen


def assistance_records(
    db: Session, user: User, records: Sequence[CapacityAssistance]
) -> list[Resource]:
    seen = seen_case_ids(db, user, records)
    return [
        {
            "id": r.id,
            "recipient_state": r.recipient_state_code,
            "mission": r.mission_code,
            "kind": r.kind,
            "started_on": r.started_on,
            "ended_on": r.ended_on,
            "participants": r.participants,
            "description": r.description,
            "cases": seen[r.id],
            "version": r.version,
        }
        for r in records
    ]
