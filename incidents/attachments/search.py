"""Finding records by the words of their attachments, for those who may download them.

The full-text search of incidents (:mod:`incidents.search`) joins these conditions to its
own: an incident matches when its own fields do, or when :func:`incidents_found` (which
``capdb.app`` registers with the search) holds it, through its documents or its cases'. The
words are those the text job extracted (:mod:`incidents.attachments.text`); an attachment
the viewer may not download (out of scope, or holding personal data the viewer may not
see) never makes a record match, so the search tells nothing of what is in it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from auth.models import User
from incidents.attachments.models import Attachment, AttachmentFile
from incidents.attachments.policy import visible_attachments
from incidents.models import case_incidents
from incidents.visibility import Condition

MAX_WORDS = 10


def _escaped(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def matching_attachments(user: User, words: str) -> Condition:
    """Attachments the user may download with a file version holding every word (in any
    case), as a condition over ``Attachment``."""
    terms = words.split()[:MAX_WORDS]
    if not terms:
        return sa.false()
    holding = [AttachmentFile.text.ilike(f"%{_escaped(term)}%", escape="\\") for term in terms]
    has_text = (
        sa.exists()
        .where(AttachmentFile.attachment_id == Attachment.id, *holding)
        .correlate(Attachment)
    )
    return sa.and_(visible_attachments(user), has_text)


def incidents_matching(user: User, words: str) -> sa.Select[int | None]:
    """The ids of incidents with an attachment matching the words for the user."""
    return (
        sa.select(Attachment.incident_id)
        .where(Attachment.incident_id.is_not(None), matching_attachments(user, words))
        .correlate(None)
    )


def cases_matching(user: User, words: str) -> sa.Select[int | None]:
    """The ids of cases with an attachment (on the case itself) matching the words."""
    return (
        sa.select(Attachment.case_id)
        .where(Attachment.case_id.is_not(None), matching_attachments(user, words))
        .correlate(None)
    )


def incidents_found(user: User | None, words: str) -> sa.Select[Any]:
    """For the full-text search of incidents (:func:`incidents.search.also_found_by`): the
    ids of incidents whose documents, or whose cases' documents, hold the words for the
    user. The search narrows them to the incidents the user sees."""
    if user is None:
        return sa.select(case_incidents.c.incident_id).where(sa.false())
    through_cases = sa.select(case_incidents.c.incident_id).where(
        case_incidents.c.case_id.in_(cases_matching(user, words))
    )
    found = sa.union(incidents_matching(user, words), through_cases).subquery("found")
    return sa.select(found.c[0])
