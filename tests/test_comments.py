"""Comments and requests for clarification between Member States and missions.

The incident is a validated MINUSMA incident in Mali: Mali's focal point and MINUSMA's
officers both see it, and talk about it.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth.models import AuditEvent
from incidents.comments import threads as comments
from incidents.models import Comment, Incident
from tests.factories import IncidentFactory, LoginAs, UserFactory
from tests.test_cases import new_case
from tests.test_i18n import csrf_token


@pytest.fixture
def incident(make_incident: IncidentFactory) -> Incident:
    return make_incident(occurred_on=date(2021, 3, 14))


def thread_path(incident: Incident) -> str:
    return f"/incidents/{incident.id}/comments"


def say(client: FlaskClient, path: str, body: str, kind: str = "comment") -> TestResponse:
    token = csrf_token(client.get(path).text)
    return client.post(path, data={"kind": kind, "body": body, "csrf_token": token})


def answer(client: FlaskClient, path: str, request: Comment, body: str) -> TestResponse:
    token = csrf_token(client.get(path).text)
    return client.post(f"{path}/{request.id}/answer", data={"answer": body, "csrf_token": token})


def comments_in(db: Session) -> list[Comment]:
    return list(db.scalars(sa.select(Comment).order_by(Comment.id)))


def test_a_clarification_request_stays_open_until_the_other_side_answers(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    focal = login_as("member_state", state="MLI")
    asked = say(client, thread_path(incident), "Which unit was hit?", "clarification_request")
    assert asked.status_code == 302
    request = comments_in(db)[0]
    assert (request.author_id, request.incident_id, request.kind) == (
        focal.id,
        incident.id,
        "clarification_request",
    )
    page = client.get(thread_path(incident)).text
    assert "Open requests for clarification: 1" in page
    assert f"/comments/{request.id}/answer" not in page  # not for the side that asked
    # The same side cannot answer its own request.
    assert answer(client, thread_path(incident), request, "Ourselves").status_code == 403

    officer = login_as("mission", missions=("MINUSMA",))
    page = client.get(thread_path(incident)).text
    assert f"/comments/{request.id}/answer" in page
    answered = answer(client, thread_path(incident), request, "The Chadian convoy escort.")
    assert answered.status_code == 302
    _request, reply = comments_in(db)
    assert (reply.author_id, reply.kind, reply.body) == (
        officer.id,
        "comment",
        "The Chadian convoy escort.",
    )
    audited = db.scalars(
        sa.select(AuditEvent.detail).where(
            AuditEvent.target_type == "comments", AuditEvent.target_id == str(reply.id)
        )
    ).one()
    assert audited["answers"] == request.id
    page = client.get(thread_path(incident)).text
    assert "Open requests for clarification" not in page
    assert f"answered on {reply.created_at.strftime('%Y-%m-%d %H:%M UTC')}" in page
    # Answered once: a second answer is refused and nothing is added.
    again = answer(client, thread_path(incident), request, "Again")
    assert again.status_code == 422
    assert "This request was already answered." in again.text
    assert len(comments_in(db)) == 2


def test_the_mission_asks_and_the_state_answers_on_a_case(
    app: Flask, client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    case = new_case(db, incident, state="NER")
    path = f"/cases/{case.id}/comments"
    login_as("admin")
    assert (
        say(client, path, "Has the suspect been heard?", "clarification_request").status_code == 302
    )
    request = comments_in(db)[0]
    assert (request.case_id, request.incident_id) == (case.id, None)
    login_as("member_state", state="NER")  # the prosecuting State
    assert "Has the suspect been heard?" in client.get(f"/cases/{case.id}").text
    assert answer(client, path, request, "Yes, on 3 May.").status_code == 302
    with app.test_request_context():
        entries = {e.id: e for e in comments.thread(db, request.author, case)}
    assert entries[request.id].answer is not None


def test_analysts_read_no_thread_and_do_not_post(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs, make_user: UserFactory
) -> None:
    """Threads belong to the State that opened them and the mission: HQ analysts see no
    comment panel on the incident page, and the thread page refuses them."""
    db.add(Comment(incident_id=incident.id, author_id=make_user("admin").id, body="For the record"))
    db.flush()
    login_as("analyst")
    detail = client.get(f"/incidents/{incident.id}")
    assert detail.status_code == 200
    assert 'id="comments"' not in detail.text
    assert "For the record" not in detail.text
    assert client.get(thread_path(incident)).status_code == 403
    response = say(client, thread_path(incident), "An analyst's view")
    assert response.status_code == 403
    assert len(comments_in(db)) == 1


def test_bodies_are_text_and_validated(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    script = "<script>alert('x')</script> & <b>bold</b>"
    assert say(client, thread_path(incident), script).status_code == 302
    page = client.get(thread_path(incident)).text
    assert script not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    for body, kind, field, reason in (
        ("   ", "comment", "body", "Write something first."),
        ("x" * (comments.MAX_BODY + 1), "comment", "body", "Field cannot be longer than 5000"),
        ("fine", "gossip", "kind", "Not a valid choice"),
        ("nul\x00byte", "comment", "body", "Control characters are not allowed."),
    ):
        response = say(client, thread_path(incident), body, kind)
        assert response.status_code == 422, body
        assert f'id="comment-{field}-error"' in response.text
        assert reason in response.text
    assert len(comments_in(db)) == 1


def test_the_incident_page_carries_the_thread_and_the_form(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    login_as("member_state", state="MLI")
    incident_page = f"/incidents/{incident.id}"
    token = csrf_token(client.get(incident_page).text)
    response = client.post(
        thread_path(incident),
        data={
            "kind": "comment",
            "body": "Seen, thank you.",
            "next": incident_page,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert response.location == f"{incident_page}#comments"
    page = client.get(incident_page).text
    assert "Seen, thank you." in page
    assert f'action="{thread_path(incident)}"' in page
    # A foreign "next" never leads off the site.
    evil = client.post(
        thread_path(incident),
        data={"kind": "comment", "body": "x", "next": "//evil.example/", "csrf_token": token},
    )
    assert evil.location == f"{thread_path(incident)}#comments"


def test_comment_routes_answer_404_out_of_scope(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs, make_user: UserFactory
) -> None:
    case = new_case(db, incident, state="NER")
    author = make_user("mission", missions=("MINUSMA",))
    on_incident = Comment(
        incident_id=incident.id, author_id=author.id, kind="clarification_request", body="?"
    )
    on_case = Comment(case_id=case.id, author_id=author.id, kind="clarification_request", body="?")
    db.add_all([on_incident, on_case])
    db.flush()
    login_as("member_state", state="BRA")
    token = csrf_token(client.get("/assistance/").text)
    data = {"kind": "comment", "body": "hello", "answer": "hello", "csrf_token": token}
    for base, request in (
        (thread_path(incident), on_incident),
        (f"/cases/{case.id}/comments", on_case),
    ):
        assert client.get(base).status_code == 404
        assert client.post(base, data=data).status_code == 404
        assert client.post(f"{base}/{request.id}/answer", data=data).status_code == 404
    # A comment is answered only under its own subject.
    login_as("member_state", state="MLI")
    token = csrf_token(client.get("/assistance/").text)
    wrong = client.post(
        f"{thread_path(incident)}/{on_case.id}/answer", data={"answer": "x", "csrf_token": token}
    )
    assert wrong.status_code == 404
    assert (
        client.post(
            f"{thread_path(incident)}/99999999999999/answer",
            data={"answer": "x", "csrf_token": token},
        ).status_code
        == 404
    )
    assert len(comments_in(db)) == 2


def test_posting_without_csrf_token_is_refused(
    client: FlaskClient, db: Session, incident: Incident, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))
    response = client.post(thread_path(incident), data={"kind": "comment", "body": "hi"})
    assert response.status_code == 400
    assert comments_in(db) == []


def test_an_answer_is_the_first_later_comment_from_the_other_side(
    db: Session, incident: Incident, make_user: UserFactory
) -> None:
    state = make_user("member_state", state="MLI")
    officer = make_user("mission", missions=("MINUSMA",))
    analyst = make_user("analyst")

    def add(author_id: int, kind: str = "comment") -> Comment:
        comment = Comment(incident_id=incident.id, author_id=author_id, kind=kind, body="b")
        db.add(comment)
        db.flush()
        return comment

    asked = add(state.id, "clarification_request")
    add(state.id)  # the same side again: no answer
    add(analyst.id)  # analysts speak for neither side
    counter = add(officer.id, "clarification_request")
    reply = add(state.id)
    add(officer.id)  # later comments never replace an answer
    add(state.id)
    answers = comments._answers(officer, comments_in(db))
    assert answers[asked.id].comment_id == counter.id
    assert answers[counter.id].comment_id == reply.id
    assert set(answers) == {asked.id, counter.id}
