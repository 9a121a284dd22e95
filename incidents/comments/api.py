"""Comments and requests for clarification on incidents and cases, through the API.

Member State focal points read their State's threads and the United Nations side (mission
officers, administrators) every thread, and write in them, as on the pages; HQ analysts
take part in no conversation and read none (``incidents.policy.visible_comments``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from auth.models import User
from incidents import policy
from incidents.api.access import allowed_or_403, session, viewer, with_case, with_incident
from incidents.api.blueprint import api_blueprint
from incidents.api.errors import abort, refused
from incidents.api.idempotency import idempotent
from incidents.comments import threads as comments
from incidents.comments.schemas import CommentInput, CommentList, CommentSchema
from incidents.errors import InputError, NotAllowedError
from incidents.models import Comment, Incident, JudicialCase
from incidents.policy import person_label

blp = api_blueprint(
    "api_comments", __name__, "Comments and requests for clarification on incidents and cases."
)

Subject = Incident | JudicialCase


def comment_resource(record: Comment, user: User) -> dict[str, Any]:
    """A comment as the user reads it: its author by address only where the policy allows."""
    return {
        "id": record.id,
        "kind": record.kind,
        "body": record.body,
        "author": person_label(user, record.author),
        "side": comments.side_of(record.author),
        "created_at": record.created_at,
    }


def thread(subject: Subject) -> dict[str, Any]:
    """The comments about the subject that the viewer reads: its State's thread only, for
    a focal point."""
    user = viewer()
    found = comments.comments_read_by(session(), user, subject)
    return {"items": [comment_resource(c, user) for c in found]}


def post(subject: Subject, values: dict[str, Any]) -> dict[str, Any]:
    db, user = session(), viewer()
    allowed_or_403(policy.may_comment(user, subject))
    try:
        if values["answers"] is None:
            comment = comments.post_comment(
                db, user, subject, kind=values["kind"], body=values["body"]
            )
        else:
            asked = comments.comment_or_none(db, user, subject, values["answers"])
            if asked is None:
                abort(422, errors={"answers": [_("There is no such comment here.")]})
            comment = comments.answer_request(db, user, subject, asked, values["body"])
    except NotAllowedError:
        abort(403, message=_("Only the other side answers a request for clarification."))
    except InputError as error:
        refused(error, renamed={"answer": "answers"})
    return comment_resource(comment, user)


@blp.route("/incidents/<int:incident_id>/comments", methods=["GET"])
@with_incident()
@blp.response(200, CommentList)
def incident_comments(incident: Incident) -> dict[str, Any]:
    """The incident's comments, oldest first."""
    return thread(incident)


@blp.route("/incidents/<int:incident_id>/comments", methods=["POST"])
@with_incident()
@idempotent
@blp.arguments(CommentInput)
@blp.response(201, CommentSchema)
def post_incident_comment(values: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Comment on the incident, ask for a clarification, or answer one (``answers``)."""
    return post(incident, values)


@blp.route("/cases/<int:case_id>/comments", methods=["GET"])
@with_case()
@blp.response(200, CommentList)
def case_comments(case: JudicialCase) -> dict[str, Any]:
    """The case's comments, oldest first."""
    return thread(case)


@blp.route("/cases/<int:case_id>/comments", methods=["POST"])
@with_case()
@idempotent
@blp.arguments(CommentInput)
@blp.response(201, CommentSchema)
def post_case_comment(values: dict[str, Any], case: JudicialCase) -> dict[str, Any]:
    """Comment on the case, ask for a clarification, or answer one (``answers``)."""
    return post(case, values)
