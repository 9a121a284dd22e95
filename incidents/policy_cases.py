"""Who keeps a judicial case, and what a Member State may enter on one pending review.

Part of the access rule (:mod:`incidents.policy` re-exports :func:`keeps_case` and
:func:`prosecutes`, and builds its case verbs on these); kept apart only so that each
module stays short.

National authorities open prosecutions: a focal point opens a case on an incident that
concerns its State, which prosecutes it; it adds defendants to the cases its State
prosecutes, and reports their stages. Everything it enters waits, pending, until a mission
officer of one of the case's incidents (or an admin), who keeps the case, validates it or
rejects it with a reason. Pending and rejected records are seen by those who keep the case
and by the prosecuting State, never counted or shown to anyone else (see
:func:`incidents.visibility.visible_cases`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import object_session

from auth.models import User
from incidents.models import Defendant, Incident, JudicialCase
from incidents.visibility import visible_incidents

log = logging.getLogger(__name__)
Verb = TypeVar("Verb", bound=Callable[..., bool])


def denying(verb: Verb) -> Verb:
    """A verb that fails answers False (and is logged), never True."""

    @wraps(verb)
    def safe(*args: Any, **kwargs: Any) -> bool:
        try:
            return bool(verb(*args, **kwargs))
        except Exception:
            log.exception("access rule %s failed; denying", verb.__name__)
            return False

    return safe  # type: ignore[return-value]


@denying
def keeps_case(user: User, case: JudicialCase) -> bool:
    """Admins, and mission officers of one of the case's incidents, keep the case."""
    if case.deleted_at is not None:
        return False
    if user.role == "admin":
        return True
    return user.role == "mission" and any(
        incident.mission_code in user.mission_codes for incident in case.incidents
    )


@denying
def prosecutes(user: User, case: JudicialCase) -> bool:
    """The user is a focal point of the State prosecuting the case."""
    return user.role == "member_state" and user.state_code == case.prosecuting_state_code


@denying
def may_open_national_case(user: User, incident: Incident) -> bool:
    """A focal point opens a case, which its own State prosecutes, on an incident that
    concerns its State: one it sees (validated, undeleted, concerning it)."""
    if user.role != "member_state" or not user.state_code or incident.deleted_at is not None:
        return False
    db = object_session(incident)
    if db is None:
        return False
    seen = sa.exists().where(Incident.id == incident.id, visible_incidents(user))
    return bool(db.scalar(sa.select(seen)))


def enters_pending(user: User, case: JudicialCase) -> bool:
    """Whether what the user enters on the case (the case itself, a defendant, a stage)
    waits for a keeper's validation: everything but a keeper's own entries."""
    return not keeps_case(user, case)


@denying
def may_validate_case(user: User, case: JudicialCase) -> bool:
    """A keeper of the case validates (or rejects) a case a Member State opened."""
    return case.review_status == "pending" and keeps_case(user, case)


@denying
def may_validate_defendant(user: User, defendant: Defendant) -> bool:
    """A keeper of the case validates (or rejects) a defendant a Member State added."""
    return (
        defendant.review_status == "pending"
        and defendant.deleted_at is None
        and keeps_case(user, defendant.case)
    )
