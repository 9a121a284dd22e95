"""Saved views: a user names the filter of the list, the map or the trends page and opens it
again from a menu; analysts may share theirs with the other analysts. A view keeps query
arguments only, and opens through the viewer's own scope."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from auth import tokens
from auth.models import User
from incidents.models import SavedView
from tests.factories import IncidentFactory, LoginAs, UserFactory
from tests.test_i18n import csrf_token


def save(client: FlaskClient, page: str, name: str, query: str, **extra: str) -> TestResponse:
    token = csrf_token(client.get("/views/").text)
    data = {"csrf_token": token, "page": page, "name": name, "query": query, **extra}
    return client.post("/views/", data=data)


def views(db: Session) -> list[SavedView]:
    return list(db.scalars(sa.select(SavedView).order_by(SavedView.id)))


def test_an_officer_saves_the_filter_on_screen_and_opens_it_again(
    client: FlaskClient, db: Session, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    make_incident(means_of_attack="ied")
    officer = login_as("mission", missions=("MINUSMA",))
    page = client.get("/incidents/?means_of_attack=ied&sort=date").text
    # The list offers to save what it shows, the order included.
    assert 'name="query" value="means_of_attack=ied&amp;sort=date"' in page
    query = "means_of_attack=ied&sort=date&cursor=abc&evil=1&per_page=2"
    response = save(client, "list", "  IEDs   of MINUSMA ", query)
    assert response.status_code == 302
    assert response.location == "/incidents/?means_of_attack=ied&sort=date"
    (view,) = views(db)
    assert (view.owner_id, view.page, view.name) == (officer.id, "list", "IEDs of MINUSMA")
    assert view.query == {"means_of_attack": "ied", "sort": "date"}  # arguments only
    assert not view.shared
    listed = client.get("/incidents/").text
    assert f'href="/views/{view.id}">IEDs of MINUSMA</a>' in listed
    assert "Saved views (1)" in listed
    opened = client.get(f"/views/{view.id}")
    assert opened.location == "/incidents/?means_of_attack=ied&sort=date"
    assert "IEDs of MINUSMA" in client.get("/views/").text


def test_what_is_refused_is_said_field_by_field_and_nothing_is_saved(
    client: FlaskClient, db: Session, login_as: LoginAs
) -> None:
    login_as("analyst")
    assert save(client, "map", "Mine", "mission=MINUSMA").status_code == 302
    for name, query, reason in (
        ("", "", "This field is required."),
        ("Mine", "", "You already have a view of this name on this page."),
        ("MINE", "q=x", "You already have a view of this name on this page."),
        ("Other", "date_from=yesterday", "The filter of this view is not valid"),
        ("x" * 81, "", "Field cannot be longer than 80 characters."),
    ):
        refused = save(client, "map", name, query)
        assert refused.status_code == 422, name
        assert reason in refused.text, name
    assert save(client, "nowhere", "Odd", "").status_code == 422
    # The same name on another page is another view.
    assert save(client, "trends", "Mine", "period=year").status_code == 302
    assert [(v.page, v.name) for v in views(db)] == [("map", "Mine"), ("trends", "Mine")]


def test_analysts_share_views_with_analysts_only(
    client: FlaskClient, db: Session, login_as: LoginAs, make_user: UserFactory
) -> None:
    login_as("analyst")
    assert (
        save(client, "trends", "Mali by year", "state=MLI&period=year", shared="y").status_code
        == 302
    )
    (view,) = views(db)
    assert view.shared
    colleague = make_user("analyst")
    login_as(user=colleague)
    assert "Mali by year" in client.get("/views/").text
    assert "Mali by year" in client.get("/trends/?q=").text
    assert client.get(f"/views/{view.id}").location == "/trends/?state=MLI&period=year"
    token = csrf_token(client.get("/views/").text)
    # Seen, but only its owner removes it.
    assert client.post(f"/views/{view.id}/delete", data={"csrf_token": token}).status_code == 403
    for role, bindings in (("member_state", {"state": "MLI"}), ("mission", {}), ("admin", {})):
        login_as(role, **bindings)
        assert client.get(f"/views/{view.id}").status_code == 404, role
        assert "Mali by year" not in client.get("/views/").text
        # Nobody but an analyst shares.
        assert save(client, "list", "Mine", "", shared="y").status_code == 403, role
    assert len(views(db)) == 1


def test_the_owner_removes_a_view(client: FlaskClient, db: Session, login_as: LoginAs) -> None:
    login_as("member_state", state="TCD")
    save(client, "list", "Chad", "state=TCD")
    (view,) = views(db)
    token = csrf_token(client.get("/views/").text)
    assert client.post(f"/views/{view.id}/delete", data={"csrf_token": token}).status_code == 302
    assert views(db) == []
    assert client.get(f"/views/{view.id}").status_code == 404
    assert client.post(f"/views/{view.id}/delete", data={"csrf_token": token}).status_code == 404


def test_a_view_opens_through_the_viewers_scope(
    client: FlaskClient, db: Session, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    make_incident(reference="MINUSMA-2021-7001")
    make_incident(reference="MINUSMA-2021-7002", status="draft")
    officer: User = login_as("mission", missions=("MINUSMA",))
    save(client, "list", "All of it", "")
    (view,) = views(db)
    assert view.query == {}
    shown = client.get(client.get(f"/views/{view.id}").location).text
    assert "MINUSMA-2021-7002" in shown  # the officer's mission: drafts included
    officer.missions = []
    db.flush()
    shown = client.get(client.get(f"/views/{view.id}").location).text
    assert "MINUSMA-2021-7001" not in shown  # no longer in its scope: no data kept


def test_saved_views_through_the_api(
    client: FlaskClient, db: Session, make_user: UserFactory
) -> None:
    def bearer(user: User) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens.create(db, user)[1]}"}

    analyst, colleague = bearer(make_user("analyst")), bearer(make_user("analyst"))
    focal = bearer(make_user("member_state", state="MLI"))
    body = {"page": "map", "name": "Mali", "query": "state=MLI&measure=fatalities&x=1"}
    saved = client.post("/api/v1/saved-views", json=body | {"shared": True}, headers=analyst)
    assert saved.status_code == 201, saved.json
    assert saved.json is not None
    assert saved.json["query"] == {"state": "MLI", "measure": "fatalities"}
    assert (saved.json["shared"], saved.json["mine"]) == (True, True)
    again = client.post("/api/v1/saved-views", json=body, headers=analyst)
    assert again.status_code == 422
    assert again.json is not None
    assert set(again.json["errors"]) == {"name"}
    listed = client.get("/api/v1/saved-views", headers=colleague).json
    assert listed is not None
    assert [(v["name"], v["mine"]) for v in listed["items"]] == [("Mali", False)]
    assert client.get("/api/v1/saved-views", headers=focal).json == {"items": []}
    shared_by_focal = client.post(
        "/api/v1/saved-views", json=body | {"shared": True}, headers=focal
    )
    assert shared_by_focal.status_code == 403
    path = f"/api/v1/saved-views/{saved.json['id']}"
    assert client.delete(path, headers=colleague).status_code == 403
    assert client.delete(path, headers=focal).status_code == 404
    assert client.delete(path, headers=analyst).status_code == 204
    assert views(db) == []
