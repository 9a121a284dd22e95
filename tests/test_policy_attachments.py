"""The attachment rows of the capability truth table (tests/test_policy.py's small world,
with documents on its records): who may attach to each record, who sees each document,
and who may change, delete and restore it.

The verbs live in incidents/attachments/policy.py (incidents/policy.py is full); the
expected answers are written out, not computed.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from capdb.db import utcnow
from incidents.attachments import policy
from incidents.attachments.models import Attachment, AttachmentFile
from tests.test_policy import MINUSMA, MONUSCO, NOBODY, SEE_CONGO, SEE_MALI, Small
from tests.test_policy import small as small  # the world of the truth table

TABLE: dict[tuple[str, str], frozenset[str]] = {
    # Attaching: those who keep the record; for a case and its stage events, the
    # prosecuting State too. Seeing what personal-data documents hold: an incident's
    # mission; a case's missions and prosecuting State (and admins everywhere).
    ("validated", "may_attach"): MINUSMA,
    ("validated", "sees_identities_in"): MINUSMA,
    ("draft", "may_attach"): MINUSMA,
    ("congo", "may_attach"): MONUSCO,
    ("congo", "sees_identities_in"): MONUSCO,
    ("deleted", "may_attach"): NOBODY,
    ("mali_case", "may_attach"): MINUSMA | {"mali"},
    ("mali_case", "sees_identities_in"): MINUSMA | {"mali"},
    ("congo_case", "may_attach"): MONUSCO | {"france"},
    ("congo_case", "sees_identities_in"): MONUSCO | {"france"},
    ("validated_event", "may_attach"): MINUSMA | {"mali"},
    ("pending_update", "may_attach"): MONUSCO | {"france"},
    # A document on the validated Mali incident, by officer A: as the incident.
    ("doc_mali", "may_view_attachment"): SEE_MALI,
    ("doc_mali", "may_change_attachment"): MINUSMA,
    ("doc_mali", "may_delete_attachment"): MINUSMA,
    ("doc_mali", "may_restore_attachment"): NOBODY,
    # The same, marked as holding personal data: the incident's mission only.
    ("personal_mali", "may_view_attachment"): MINUSMA,
    ("personal_mali", "may_change_attachment"): MINUSMA,
    ("doc_draft", "may_view_attachment"): MINUSMA,
    # Deleted: out of everyone's sight but the keepers', who restore it.
    ("doc_deleted", "may_view_attachment"): NOBODY,
    ("doc_deleted", "may_change_attachment"): NOBODY,
    ("doc_deleted", "may_delete_attachment"): NOBODY,
    ("doc_deleted", "may_restore_attachment"): MINUSMA,
    # Mali's judgment on its case: the case's readers; changed by its keepers and by Mali,
    # who sent it.
    ("case_doc", "may_view_attachment"): SEE_MALI,
    ("case_doc", "may_change_attachment"): MINUSMA | {"mali"},
    ("case_doc", "may_delete_attachment"): MINUSMA | {"mali"},
    ("case_doc", "may_restore_attachment"): NOBODY,
    ("personal_case", "may_view_attachment"): MINUSMA | {"mali"},
    # On the Congo case prosecuted by France, sent by the mission: France reads it, as the
    # case, but changes only what it sent.
    ("congo_case_doc", "may_view_attachment"): SEE_CONGO | {"france"},
    ("congo_case_doc", "may_change_attachment"): MONUSCO,
    # On France's pending update: those who keep or report on the case.
    ("pending_doc", "may_view_attachment"): MONUSCO | {"france"},
    ("event_doc", "may_view_attachment"): MINUSMA | {"mali"},
    ("event_doc", "may_change_attachment"): MINUSMA,
}


def _document(db: Session, subject: Any, by: User, **values: Any) -> Attachment:
    column = {
        "incidents": "incident_id",
        "judicial_cases": "case_id",
        "stage_events": "stage_event_id",
    }[subject.__tablename__]
    file = AttachmentFile(
        number=1, sha256="a" * 64, size=10, media_type="application/pdf", filename="x.pdf"
    )
    values = {"title": "Document", "kind": "report", **values}
    document = Attachment(**{column: subject.id}, created_by_id=by.id, files=[file], **values)
    db.add(document)
    db.flush()
    return document


@pytest.fixture
def documents(small: Small, db: Session) -> dict[str, Any]:
    r, u = small.records, small.users
    officer, mali, monusco = u["officer_a"], u["mali"], u["monusco"]
    return {
        **r,
        "doc_mali": _document(db, r["validated"], officer),
        "personal_mali": _document(db, r["validated"], officer, personal_data=True),
        "doc_draft": _document(db, r["draft"], officer),
        "doc_deleted": _document(db, r["validated"], officer, deleted_at=utcnow()),
        "case_doc": _document(db, r["mali_case"], mali, kind="judgment"),
        "personal_case": _document(db, r["mali_case"], mali, personal_data=True),
        "congo_case_doc": _document(db, r["congo_case"], monusco),
        "pending_doc": _document(db, r["pending_update"], u["france"]),
        "event_doc": _document(db, r["validated_event"], officer, personal_data=True),
    }


ROWS = [pytest.param(record, verb, id=f"{record}.{verb}") for record, verb in sorted(TABLE)]


@pytest.mark.parametrize(("record", "verb"), ROWS)
def test_truth_table(small: Small, documents: dict[str, Any], record: str, verb: str) -> None:
    check = getattr(policy, verb)
    allowed = {name for name, user in small.users.items() if check(user, documents[record])}
    assert allowed == TABLE[record, verb]


def test_the_table_covers_every_attachment_verb() -> None:
    verbs = {verb for _record, verb in TABLE}
    own = {
        name
        for name in dir(policy)
        if name.startswith(("may_", "sees_"))
        and getattr(policy, name).__module__ == policy.__name__
    }
    assert own == verbs


@pytest.mark.parametrize("record", sorted({r for r, v in TABLE if v == "may_view_attachment"}))
def test_lists_use_the_same_rule(
    small: Small, documents: dict[str, Any], db: Session, record: str
) -> None:
    """The SQL condition of every list answers what the verb answers."""
    document = documents[record]
    seen = {
        name
        for name, user in small.users.items()
        if db.scalar(
            sa.select(
                sa.exists().where(Attachment.id == document.id, policy.visible_attachments(user))
            )
        )
    }
    assert seen == TABLE[record, "may_view_attachment"]
    restorers = {
        name
        for name, user in small.users.items()
        if db.scalar(
            sa.select(
                sa.exists().where(
                    Attachment.id == document.id, policy.deleted_attachments_kept(user)
                )
            )
        )
    }
    assert restorers == (MINUSMA if record == "doc_deleted" else set())


def test_an_error_inside_the_attachment_policy_denies(small: Small) -> None:
    admin = small.users["admin"]
    assert policy.may_attach(admin, object()) is False  # type: ignore[arg-type]
    assert str(policy.visible_attachments(object())) == "false"  # type: ignore[arg-type]
