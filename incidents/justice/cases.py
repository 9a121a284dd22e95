"""Judicial cases: opening and editing them, their defendants. Who may do what with them
is the policy's (``incidents.policy``); these services refuse what it denies.

Their stage events and derived stages are in :mod:`incidents.justice.stages`, what the
pages show of them in :mod:`incidents.justice.case_pages`.

Missions of the case's incidents and admins keep a case. The State prosecuting it may
report progress: its stage events wait, pending, until a keeper validates or rejects them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from auth import audit
from auth.models import User
from capdb.clock import now
from capdb.db import MAX_ID, utcnow
from capdb.reference import STATES, Country
from capdb.vocabularies import JURISDICTION
from incidents import policy
from incidents.errors import InputError, NotAllowedError, StaleEditError
from incidents.models import (
    Defendant,
    Incident,
    JudicialCase,
    case_incidents,
)
from incidents.policy import (
    enters_pending,
    sees_defendant_identity,
    visible_cases,
    visible_defendants,
    visible_incidents,
)

MAX_REFERENCES = 50
MAX_NOTE = 5000
MAX_REASON = 2000
MAX_CHARGES = 10000
MAX_SENTENCE_MONTHS = 1200


def today() -> date:
    """Today's date in UTC, by the application's clock."""
    return now().date()


# Who may do what is the policy's (incidents.policy); these services refuse what it denies.


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowedError


def cases_of_incident(db: Session, user: User, incident: Incident) -> list[JudicialCase]:
    """The incident's cases that the user may open, oldest first."""
    return list(
        db.scalars(
            sa.select(JudicialCase)
            .join(case_incidents, case_incidents.c.case_id == JudicialCase.id)
            .where(case_incidents.c.incident_id == incident.id, visible_cases(user))
            .order_by(JudicialCase.id)
        )
    )


# Opening and editing a case ----------------------------------------------------------------


@dataclass(frozen=True)
class CaseFields:
    prosecuting_state_code: str
    jurisdiction: str
    national_reference: str | None = None
    charges: str = ""


def parse_references(text: str | None, *, field_name: str = "other_incidents") -> list[str]:
    """Incident references typed in a box, separated by commas, semicolons or spaces.

    A reference holding a character that is not printable is refused: none names an
    incident, and some (NUL) no database query can carry.
    """
    seen: dict[str, None] = {}
    for reference in re.split(r"[\s,;]+", text or ""):
        if not reference:
            continue
        if not reference.isprintable():
            raise InputError({field_name: _("Control characters are not allowed.")})
        seen[reference.upper()] = None
    return list(seen)


def incidents_by_reference(
    db: Session, user: User, references: Sequence[str], *, field_name: str = "other_incidents"
) -> list[Incident]:
    """The incidents the user sees with these references; any other reference is refused.

    An unknown reference and one the user may not see get the same answer.
    """
    if not references:
        return []
    if len(references) > MAX_REFERENCES:
        raise InputError(
            {field_name: _("Link at most %(count)d incidents at once.", count=MAX_REFERENCES)}
        )
    found = db.scalars(
        sa.select(Incident).where(
            sa.func.upper(Incident.reference).in_(references), visible_incidents(user)
        )
    ).all()
    by_reference: dict[str, list[Incident]] = {}
    for incident in found:
        by_reference.setdefault(incident.reference.upper(), []).append(incident)
    missing = [r for r in references if r not in by_reference]
    if missing:
        raise InputError(
            {
                field_name: _(
                    "No incident you can see has the reference %(references)s.",
                    references=", ".join(missing),
                )
            }
        )
    ambiguous = [r for r, matches in by_reference.items() if len(matches) > 1]
    if ambiguous:
        raise InputError(
            {
                field_name: _(
                    "Several incidents have the reference %(references)s; ask an administrator.",
                    references=", ".join(ambiguous),
                )
            }
        )
    return [by_reference[r][0] for r in references]


def _check_case_fields(db: Session, fields: CaseFields) -> None:
    problems: dict[str, str] = {}
    state = db.get(Country, fields.prosecuting_state_code)
    if state is None or state.kind not in STATES:
        problems["prosecuting_state"] = _("Choose a State from the list.")
    if fields.jurisdiction not in JURISDICTION:
        problems["jurisdiction"] = _("Choose a jurisdiction from the list.")
    if fields.national_reference and len(fields.national_reference) > 120:
        problems["national_reference"] = _("At most %(count)d characters.", count=120)
    if len(fields.charges) > MAX_CHARGES:
        problems["charges"] = _("At most %(count)d characters.", count=MAX_CHARGES)
    if problems:
        raise InputError(problems)


def open_case(
    db: Session, user: User, incidents: Sequence[Incident], fields: CaseFields
) -> JudicialCase:
    """Open a case on the incidents; the user must be able to open one on each.

    A Member State's focal point opens a case its own State prosecutes, pending until a
    mission officer who keeps the case validates it.
    """
    _require(bool(incidents) and all(policy.may_open_case(user, i) for i in incidents))
    national = not any(policy.keeps_record_of(user, i) for i in incidents)
    _check_case_fields(db, fields)
    if national and fields.prosecuting_state_code != user.state_code:
        raise InputError(
            {"prosecuting_state": _("The cases you open are prosecuted by your own State.")}
        )
    unique = list({incident.id: incident for incident in incidents}.values())
    case = JudicialCase(
        prosecuting_state_code=fields.prosecuting_state_code,
        jurisdiction=fields.jurisdiction,
        national_reference=fields.national_reference or None,
        charges=fields.charges,
        created_by_id=user.id,
        incidents=unique,
        review_status="pending" if national else "validated",
    )
    db.add(case)
    db.flush()
    detail = {"incidents": [i.id for i in unique], "review_status": case.review_status}
    audit.record(db, "create", user=user, target=case, detail=detail)
    return case


def update_case(
    db: Session,
    user: User,
    case: JudicialCase,
    fields: CaseFields,
    *,
    version: int,
    more_incidents: Sequence[Incident] = (),
) -> None:
    """Change the case's fields and link more incidents, unless it changed meanwhile."""
    _require(policy.may_edit_case(user, case))
    if version != case.version:
        raise StaleEditError
    _check_case_fields(db, fields)
    wanted = {
        "prosecuting_state_code": fields.prosecuting_state_code,
        "jurisdiction": fields.jurisdiction,
        "national_reference": fields.national_reference or None,
        "charges": fields.charges,
    }
    changed = sorted(name for name, value in wanted.items() if getattr(case, name) != value)
    for name in changed:
        setattr(case, name, wanted[name])
    linked = [i for i in more_incidents if i not in case.incidents]
    if linked:
        case.incidents.extend(linked)
        # Linking alone is a new version of the case too, checked and kept.
        case.updated_at = utcnow()
    _flush(db)
    audit.record(
        db,
        "update",
        user=user,
        target=case,
        detail={"fields": changed, "linked_incidents": [i.id for i in linked]},
    )


def _flush(db: Session) -> None:
    try:
        db.flush()
    except StaleDataError as error:
        raise StaleEditError from error


# Defendants -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefendantFields:
    alias: str
    identifier: str | None = None
    affiliation: str | None = None
    verdict: str | None = None
    sentence: str | None = None
    sentence_months: int | None = None


def _check_defendant_fields(fields: DefendantFields) -> None:
    problems: dict[str, str] = {}
    if not fields.alias.strip():
        problems["alias"] = _("This field is required.")
    limits = {
        "alias": 200,
        "identifier": 64,
        "affiliation": 200,
        "verdict": 200,
        "sentence": 200,
    }
    for name, limit in limits.items():
        value = getattr(fields, name)
        if value and len(value) > limit:
            problems[name] = _("At most %(count)d characters.", count=limit)
    months = fields.sentence_months
    if months is not None and not 0 <= months <= MAX_SENTENCE_MONTHS:
        problems["sentence_months"] = _(
            "Enter a number of months between 0 and %(max)d.", max=MAX_SENTENCE_MONTHS
        )
    if problems:
        raise InputError(problems)


def _defendant_values(fields: DefendantFields) -> dict[str, Any]:
    return {
        "alias": fields.alias.strip(),
        "identifier": fields.identifier or None,
        "affiliation": fields.affiliation or None,
        "verdict": fields.verdict or None,
        "sentence": fields.sentence or None,
        "sentence_months": fields.sentence_months,
    }


def add_defendant(
    db: Session, user: User, case: JudicialCase, fields: DefendantFields
) -> Defendant:
    """Add a defendant to the case: a keeper's counts at once, the prosecuting State's
    waits, pending, for a keeper to validate it."""
    _require(policy.may_add_defendant(user, case))
    _check_defendant_fields(fields)
    status = "pending" if enters_pending(user, case) else "validated"
    defendant = Defendant(
        case_id=case.id, created_by_id=user.id, review_status=status, **_defendant_values(fields)
    )
    db.add(defendant)
    db.flush()
    # The audit trail names the record, never the person: aliases are personal data.
    detail = {"case": case.id, "review_status": status}
    audit.record(db, "create", user=user, target=defendant, detail=detail)
    return defendant


def update_defendant(
    db: Session, user: User, defendant: Defendant, fields: DefendantFields, *, version: int
) -> None:
    _require(policy.may_edit_defendant(user, defendant))
    if version != defendant.version:
        raise StaleEditError
    _check_defendant_fields(fields)
    wanted = _defendant_values(fields)
    changed = sorted(name for name, value in wanted.items() if getattr(defendant, name) != value)
    for name in changed:
        setattr(defendant, name, wanted[name])
    _flush(db)
    audit.record(
        db,
        "update",
        user=user,
        target=defendant,
        detail={"case": defendant.case_id, "fields": changed},
    )


def defendant_or_none(db: Session, case: JudicialCase, defendant_id: int) -> Defendant | None:
    """The case's undeleted defendant of this id."""
    if not 0 < defendant_id <= MAX_ID:
        return None
    return db.scalar(
        sa.select(Defendant).where(
            Defendant.id == defendant_id,
            Defendant.case_id == case.id,
            Defendant.deleted_at.is_(None),
        )
    )


def active_defendants(db: Session, user: User, case: JudicialCase) -> list[Defendant]:
    """The case's defendants the user sees (undeleted ones of a case in its scope)."""
    return list(
        db.scalars(
            sa.select(Defendant)
            .where(Defendant.case_id == case.id, visible_defendants(user))
            .order_by(Defendant.id)
        )
    )


def defendant_labels(
    user: User, case: JudicialCase, defendants: Sequence[Defendant]
) -> dict[int, str]:
    """How each defendant is named to this user: by alias, or as "Defendant 1", "Defendant 2"."""
    if sees_defendant_identity(user, case):
        return {d.id: d.alias for d in defendants}
    return {d.id: _("Defendant %(number)d", number=n) for n, d in enumerate(defendants, 1)}
