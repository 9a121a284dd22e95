"""The mission's review of what a Member State entered: a case it opened, a defendant it added.

Both wait, pending, until a keeper of the case validates them (they then count, and are
seen by everyone who sees the case) or rejects them with a reason (they stay with the
keepers and the prosecuting State, marked rejected). Stage events are reviewed the same way
in :mod:`incidents.justice.stages`. Every review is audited.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from incidents import policy
from incidents.errors import InputError, NotAllowedError
from incidents.justice.cases import MAX_REASON, _flush
from incidents.models import Defendant, JudicialCase

Reviewed = JudicialCase | Defendant


def may_review(user: User, record: Reviewed) -> bool:
    """The policy's verb for the record: validating a case, or a defendant."""
    if isinstance(record, JudicialCase):
        return policy.may_validate_case(user, record)
    return policy.may_validate_defendant(user, record)


def case_of(record: Reviewed) -> JudicialCase:
    return record if isinstance(record, JudicialCase) else record.case


def goes_to_review(user: User, record: Reviewed) -> bool:
    """Whether a review request goes on to :func:`validate` or :func:`reject`: the policy
    allows it, or the record is no longer pending (answered with a reason, 409)."""
    return record.review_status != "pending" or may_review(user, record)


def _check(user: User, record: Reviewed) -> None:
    if may_review(user, record):
        return
    if not policy.keeps_case(user, case_of(record)):
        raise NotAllowedError
    raise InputError({"review": _("This was already reviewed.")})


def validate(db: Session, user: User, record: Reviewed, *, at: datetime) -> None:
    """Accept what a Member State entered: it now counts, for everyone who sees the case."""
    _check(user, record)
    record.review_status = "validated"
    record.reviewed_by_id = user.id
    record.reviewed_at = at
    _flush(db)
    audit.record(
        db, "update", user=user, target=record, detail={**_about(record), "review": "validated"}
    )


def reject(db: Session, user: User, record: Reviewed, reason: str, *, at: datetime) -> None:
    """Refuse what a Member State entered, saying why; it never counts."""
    _check(user, record)
    reason = reason.strip()
    if not reason:
        raise InputError({"reason": _("Say why it is rejected.")})
    if len(reason) > MAX_REASON:
        raise InputError({"reason": _("At most %(count)d characters.", count=MAX_REASON)})
    record.review_status = "rejected"
    record.reviewed_by_id = user.id
    record.reviewed_at = at
    record.review_reason = reason
    _flush(db)
    audit.record(
        db, "update", user=user, target=record, detail={**_about(record), "review": "rejected"}
    )


def _about(record: Reviewed) -> dict[str, int]:
    return {} if isinstance(record, JudicialCase) else {"case": record.case_id}
