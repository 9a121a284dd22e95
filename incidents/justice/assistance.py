"""Capacity-building assistance given to host States, and the cases it supported.

Who sees a record, and who records and edits one, is the policy's (incidents.policy):
admins and analysts see all of them, mission officers those of their missions, Member
State focal points those their State received. Mission officers record assistance for
their missions, admins for any.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.db import MAX_ID, utcnow
from capdb.i18n import current_locale
from capdb.reference import STATES, Country, countries_of, missions_among
from capdb.vocabularies import ASSISTANCE_KIND
from incidents import policy
from incidents.errors import InputError, NotAllowedError, StaleEditError
from incidents.filters import (
    FilterField,
    mission_codes,
    parse_acting_state,
    parse_mission,
    parse_vocabulary,
    read_fields,
    state_codes,
    vocabulary_codes,
)
from incidents.models import CapacityAssistance, JudicialCase, assistance_cases
from incidents.policy import visible_assistance, visible_cases

MAX_PARTICIPANTS = 100_000
MAX_DESCRIPTION = 5000
MAX_LINKED_CASES = 100
MAX_LISTED = 1000


@dataclass(frozen=True)
class AssistanceFields:
    recipient_state_code: str
    mission_code: str
    kind: str
    started_on: date
    ended_on: date | None = None
    participants: int = 0
    description: str = ""
    case_ids: tuple[int, ...] = ()


def parse_case_numbers(text: str | None) -> tuple[int, ...]:
    """Case numbers typed in a box, separated by commas or spaces; "#12" reads as 12."""
    numbers: dict[int, None] = {}
    for token in re.split(r"[\s,;]+", text or ""):
        token = token.removeprefix("#")
        if not token:
            continue
        if not token.isdigit() or not 0 < int(token) <= MAX_ID:
            raise InputError({"cases": _("%(token)s is not a case number.", token=token[:20])})
        numbers[int(token)] = None
    return tuple(numbers)


def _check(db: Session, user: User, fields: AssistanceFields) -> list[JudicialCase]:
    """Refuse what the user may not record; answer the cases to link."""
    problems: dict[str, str] = {}
    state = db.get(Country, fields.recipient_state_code)
    if state is None or state.kind not in STATES:
        problems["recipient_state"] = _("Choose a State from the list.")
    if fields.mission_code not in {m.code for m in policy.missions_for(db, user)}:
        problems["mission"] = _("Choose one of your missions.")
    if fields.kind not in ASSISTANCE_KIND:
        problems["kind"] = _("Choose a kind from the list.")
    if fields.ended_on is not None and fields.ended_on < fields.started_on:
        problems["ended_on"] = _("The end date is before the start date.")
    if not 0 <= fields.participants <= MAX_PARTICIPANTS:
        problems["participants"] = _("Enter a number between 0 and %(max)d.", max=MAX_PARTICIPANTS)
    if len(fields.description) > MAX_DESCRIPTION:
        problems["description"] = _("At most %(count)d characters.", count=MAX_DESCRIPTION)
    cases: list[JudicialCase] = []
    if len(fields.case_ids) > MAX_LINKED_CASES:
        problems["cases"] = _("Link at most %(count)d cases.", count=MAX_LINKED_CASES)
    elif fields.case_ids:
        cases = list(
            db.scalars(
                sa.select(JudicialCase).where(
                    JudicialCase.id.in_(fields.case_ids), visible_cases(user)
                )
            )
        )
        missing = sorted(set(fields.case_ids) - {case.id for case in cases})
        if missing:
            problems["cases"] = _(
                "No case you can see has the number %(numbers)s.",
                numbers=", ".join(str(n) for n in missing),
            )
    if problems:
        raise InputError(problems)
    return cases


def _values(fields: AssistanceFields) -> dict[str, Any]:
    return {
        "recipient_state_code": fields.recipient_state_code,
        "mission_code": fields.mission_code,
        "kind": fields.kind,
        "started_on": fields.started_on,
        "ended_on": fields.ended_on,
        "participants": fields.participants,
        "description": fields.description,
    }


def create_assistance(db: Session, user: User, fields: AssistanceFields) -> CapacityAssistance:
    if not policy.may_record_assistance(user):
        raise NotAllowedError
    cases = _check(db, user, fields)
    record = CapacityAssistance(**_values(fields), cases=cases)
    db.add(record)
    db.flush()
    audit.record(db, "create", user=user, target=record, detail={"cases": [c.id for c in cases]})
    return record


def update_assistance(
    db: Session, user: User, record: CapacityAssistance, fields: AssistanceFields, *, version: int
) -> None:
    """Change the record unless it changed meanwhile.

    Links to cases the editor cannot see stay as they are: the editor neither sees nor
    removes them.
    """
    if not policy.may_edit_assistance(user, record):
        raise NotAllowedError
    if version != record.version:
        raise StaleEditError
    chosen = _check(db, user, fields)
    # Read before anything changes, so that the edit is flushed once, as one version.
    unseen = _unseen_case_ids(db, user, record)
    before = {case.id for case in record.cases}
    wanted = _values(fields)
    changed = sorted(name for name, value in wanted.items() if getattr(record, name) != value)
    for name in changed:
        setattr(record, name, wanted[name])
    kept = [case for case in record.cases if case.id in unseen]
    record.cases = kept + [case for case in chosen if case.id not in unseen]
    after = {case.id for case in record.cases}
    if before != after:
        # A change of links alone is a new version of the record too, checked and kept.
        record.updated_at = utcnow()
    try:
        db.flush()
    except sa.orm.exc.StaleDataError as error:
        raise StaleEditError from error
    audit.record(
        db,
        "update",
        user=user,
        target=record,
        detail={
            "fields": changed,
            "linked_cases": sorted(after - before),
            "unlinked_cases": sorted(before - after),
        },
    )


def _unseen_case_ids(db: Session, user: User, record: CapacityAssistance) -> set[int]:
    linked = sa.select(assistance_cases.c.case_id).where(
        assistance_cases.c.assistance_id == record.id
    )
    seen = sa.select(JudicialCase.id).where(JudicialCase.id.in_(linked), visible_cases(user))
    return set(db.scalars(linked.except_(seen)))


def linked_cases(db: Session, user: User, record: CapacityAssistance) -> list[JudicialCase]:
    """The record's cases that the user may open."""
    return list(
        db.scalars(
            sa.select(JudicialCase)
            .join(assistance_cases, assistance_cases.c.case_id == JudicialCase.id)
            .where(assistance_cases.c.assistance_id == record.id, visible_cases(user))
            .order_by(JudicialCase.id)
        )
    )


@dataclass(frozen=True)
class AssistanceFilter:
    state: str | None = None
    mission: str | None = None
    kind: str | None = None

    def conditions(self) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if self.state:
            conditions.append(CapacityAssistance.recipient_state_code == self.state)
        if self.mission:
            conditions.append(CapacityAssistance.mission_code == self.mission)
        if self.kind:
            conditions.append(CapacityAssistance.kind == self.kind)
        return conditions


# Read as the incident filter is, from the same pieces: a value given twice, holding a NUL
# character or not among those allowed is refused, with the field named.
FILTER_FIELDS: tuple[FilterField, ...] = (
    FilterField("state", parse_acting_state, "ISO alpha-3 of the recipient State.", state_codes),
    FilterField("mission", parse_mission, "A mission's acronym.", mission_codes),
    FilterField(
        "kind",
        parse_vocabulary(ASSISTANCE_KIND),
        "The kind of assistance.",
        vocabulary_codes(ASSISTANCE_KIND),
    ),
)


def parse_filter(db: Session, args: Mapping[str, str]) -> tuple[AssistanceFilter, dict[str, str]]:
    """The list's filter from the query string (pages and API alike), and a reason for each
    value refused."""
    values, errors = read_fields(db, args, FILTER_FIELDS)
    return AssistanceFilter(**values), errors


@dataclass(frozen=True)
class RecipientGroup:
    state: str
    state_name: str
    records: list[CapacityAssistance]
    participants: int


def grouped_by_recipient(
    db: Session, user: User, assistance_filter: AssistanceFilter, *, limit: int = MAX_LISTED
) -> tuple[list[RecipientGroup], bool]:
    """The records the user sees, grouped per recipient State; and whether some were left off."""
    locale = current_locale()
    name = Country.name_fr if locale.startswith("fr") else Country.name_en
    rows = list(
        db.scalars(
            sa.select(CapacityAssistance)
            .join(Country, Country.code == CapacityAssistance.recipient_state_code)
            .where(visible_assistance(user), *assistance_filter.conditions())
            .order_by(name, CapacityAssistance.started_on.desc(), CapacityAssistance.id.desc())
            .limit(limit + 1)
        )
    )
    more = len(rows) > limit
    groups = [
        RecipientGroup(
            state=code,
            state_name=records[0].recipient_state.name(locale),
            records=records,
            participants=sum(r.participants for r in records),
        )
        for code, group in groupby(rows[:limit], key=lambda r: r.recipient_state_code)
        for records in [list(group)]
    ]
    return groups, more


def filter_choices(db: Session, user: User) -> dict[str, list[tuple[str, str]]]:
    locale = current_locale()
    countries = sorted(countries_of(db, STATES), key=lambda c: c.name(locale).casefold())
    missions = missions_among(db, policy.missions_seen(user))
    return {
        "state": [(c.code, c.name(locale)) for c in countries],
        "mission": [(m.code, m.code) for m in missions],
        "kind": [(t.code, t.label(locale)) for t in ASSISTANCE_KIND],
    }
