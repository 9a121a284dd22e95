"""Comments and requests for clarification between Member States and missions.

Two sides talk: the Member State focal points, and the United Nations side (mission
officers and administrators); who may answer a request is ``incidents.policy.may_answer``.
HQ analysts take part in no conversation and read none. Each State's focal points talk
with the mission in their State's own thread, which no other State reads
(``incidents.policy.visible_comments``); what the mission posts outside an answer is
addressed to every reader. A request for clarification stays open
until someone from the other side answers it in the same thread.

The comments table has no column linking an answer to its request, so a request counts
as answered by the first later comment on the same subject and thread, written by the
other side and read by the viewer, and its answer time is that comment's.
:func:`answer_request` writes exactly such a comment. Should the schema gain
``answered_at`` and a reply link, only :func:`_answers` changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.db import MAX_ID
from capdb.i18n import current_locale
from capdb.vocabularies import COMMENT_KIND
from incidents import policy
from incidents.errors import InputError, NotAllowedError
from incidents.models import Comment, Incident, JudicialCase
from incidents.policy import person_label, visible_comments
from incidents.signals import comment_posted

MAX_BODY = 5000
MAX_THREAD = 500
STATE_SIDE = "state"
UN_SIDE = "un"

Subject = Incident | JudicialCase


def side_of(user: User) -> str | None:
    """Which side of the conversation the user speaks for, if any: how a thread is shown
    and told apart, never who may do what (the policy's)."""
    if user.role == "member_state":
        return STATE_SIDE
    if user.role in ("mission", "admin"):
        return UN_SIDE
    return None


def _about(subject: Subject) -> sa.ColumnElement[bool]:
    if isinstance(subject, Incident):
        return Comment.incident_id == subject.id
    return Comment.case_id == subject.id


def _check_body(body: str, field_name: str = "body") -> str:
    body = body.strip()
    if not body:
        raise InputError({field_name: _("Write something first.")})
    if len(body) > MAX_BODY:
        raise InputError({field_name: _("At most %(count)d characters.", count=MAX_BODY)})
    return body


def post_comment(db: Session, user: User, subject: Subject, *, kind: str, body: str) -> Comment:
    """Add a comment or a request for clarification about an incident or a case.

    The caller has already established that the user sees the subject.
    """
    if not policy.may_comment(user, subject):
        raise NotAllowedError
    if kind not in COMMENT_KIND:
        raise InputError({"kind": _("Choose a kind from the list.")})
    comment = Comment(
        author_id=user.id,
        kind=kind,
        body=_check_body(body),
        # A focal point always writes in its State's thread; the mission, to every reader.
        thread_state_code=user.state_code if side_of(user) == STATE_SIDE else None,
    )
    if isinstance(subject, Incident):
        comment.incident_id = subject.id
    else:
        comment.case_id = subject.id
    db.add(comment)
    db.flush()
    audit.record(db, "create", user=user, target=comment, detail=_subject_detail(subject, kind))
    comment_posted.send(db, comment=comment, user=user, answers=None)
    return comment


def _subject_detail(subject: Subject, kind: str) -> dict[str, Any]:
    key = "incident" if isinstance(subject, Incident) else "case"
    return {key: subject.id, "kind": kind}


def comment_or_none(db: Session, user: User, subject: Subject, comment_id: int) -> Comment | None:
    """The subject's undeleted comment of this id, if the user may read it."""
    if not 0 < comment_id <= MAX_ID:
        return None
    return db.scalar(
        sa.select(Comment).where(Comment.id == comment_id, _about(subject), visible_comments(user))
    )


@dataclass(frozen=True)
class Answer:
    comment_id: int
    at: datetime
    by: str


def _same_thread(one: str | None, other: str | None) -> bool:
    # What the mission addresses to every reader belongs to each State's thread too.
    return one is None or other is None or one == other


def _answers(user: User, comments: list[Comment]) -> dict[int, Answer]:
    """For each request for clarification among the comments the user reads (in id
    order), the comment answering it."""
    answers: dict[int, Answer] = {}
    waiting: list[tuple[int, str, str | None]] = []
    for comment in comments:
        side = side_of(comment.author)
        if side is None:
            continue
        thread = comment.thread_state_code
        still_waiting = []
        for request_id, asked_by, asked_in in waiting:
            if asked_by != side and _same_thread(asked_in, thread):
                by = person_label(user, comment.author)
                answers[request_id] = Answer(comment.id, comment.created_at, by)
            else:
                still_waiting.append((request_id, asked_by, asked_in))
        waiting = still_waiting
        if comment.kind == "clarification_request":
            waiting.append((comment.id, side, thread))
    return answers


def answer_request(
    db: Session, user: User, subject: Subject, request: Comment, body: str
) -> Comment:
    """Answer an open request for clarification from the other side."""
    if not policy.may_comment(user, subject):
        raise NotAllowedError
    if request.kind != "clarification_request":
        raise InputError({"answer": _("Only a request for clarification takes an answer.")})
    if not policy.may_answer(user, request):
        raise NotAllowedError
    thread = comments_read_by(db, user, subject)
    if request.id in _answers(user, thread):
        raise InputError({"answer": _("This request was already answered.")})
    # The answer joins the thread of the request; a State answering the mission answers in
    # its own thread.
    in_thread = user.state_code if side_of(user) == STATE_SIDE else request.thread_state_code
    reply = Comment(
        author_id=user.id,
        kind="comment",
        body=_check_body(body, "answer"),
        thread_state_code=in_thread,
    )
    if isinstance(subject, Incident):
        reply.incident_id = subject.id
    else:
        reply.case_id = subject.id
    db.add(reply)
    db.flush()
    detail = _subject_detail(subject, "comment") | {"answers": request.id}
    audit.record(db, "create", user=user, target=reply, detail=detail)
    comment_posted.send(db, comment=reply, user=user, answers=request)
    return reply


def comments_read_by(db: Session, user: User, subject: Subject) -> list[Comment]:
    """The comments about the subject the user may read, oldest first."""
    return list(
        db.scalars(
            sa.select(Comment)
            .where(_about(subject), visible_comments(user))
            .order_by(Comment.id)
            .limit(MAX_THREAD)
        )
    )


@dataclass(frozen=True)
class Entry:
    id: int
    author: str
    side: str
    kind: str
    is_request: bool
    body: str
    created_at: datetime
    answer: Answer | None
    may_answer: bool


def _side_label(side: str | None) -> str:
    if side == STATE_SIDE:
        return str(_("Member State"))
    if side == UN_SIDE:
        return str(_("United Nations"))
    return ""


def thread(db: Session, user: User, subject: Subject) -> list[Entry]:
    """The comments about the subject, oldest first, each request with its answer."""
    locale = current_locale()
    comments = comments_read_by(db, user, subject)
    answers = _answers(user, comments)
    return [
        Entry(
            id=c.id,
            author=person_label(user, c.author),
            side=_side_label(side_of(c.author)),
            kind=COMMENT_KIND.label(c.kind, locale),
            is_request=c.kind == "clarification_request",
            body=c.body,
            created_at=c.created_at,
            answer=answers.get(c.id),
            may_answer=c.id not in answers and policy.may_answer(user, c),
        )
        for c in comments
    ]


def _answer_url(subject: Subject, comment_id: int) -> str:
    if isinstance(subject, Incident):
        return url_for(
            "comments.answer_incident_comment", incident_id=subject.id, comment_id=comment_id
        )
    return url_for("comments.answer_case_comment", case_id=subject.id, comment_id=comment_id)


def _panel(db: Session, user: User, subject: Subject, post_url: str) -> dict[str, Any]:
    locale = current_locale()
    entries = thread(db, user, subject)
    return {
        "entries": entries,
        "open_requests": sum(1 for e in entries if e.is_request and e.answer is None),
        # Those who may not comment (HQ analysts) read no thread either: no panel.
        "shown": policy.may_comment(user, subject),
        "may_post": policy.may_comment(user, subject),
        "post_url": post_url,
        "answer_urls": {e.id: _answer_url(subject, e.id) for e in entries if e.may_answer},
        "kinds": [(term.code, term.label(locale)) for term in COMMENT_KIND],
        "max_body": MAX_BODY,
        "draft": {"kind": "comment", "body": ""},
        "errors": {},
        "answer_errors": {},
    }


def comment_panel(db: Session, user: User, incident: Incident) -> dict[str, Any]:
    """What the incident page shows of its comments, for this user."""
    return _panel(
        db,
        user,
        incident,
        url_for("comments.incident_comments", incident_id=incident.id),
    )


def case_comment_panel(db: Session, user: User, case: JudicialCase) -> dict[str, Any]:
    """What the case page shows of its comments, for this user."""
    return _panel(
        db,
        user,
        case,
        url_for("comments.case_comments", case_id=case.id),
    )
