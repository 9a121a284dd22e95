"""capdb's own pages may change records through the API on the browser's session (the
offline outbox does), but only with the session's CSRF token in a header: a request that
rides on the cookie alone, as a forged cross-site request would, is refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from incidents.models import Incident
from tests.api.conftest import API, incident_body
from tests.factories import LoginAs
from tests.test_i18n import csrf_token


def incidents_count(db: Session) -> int:
    return db.scalar(sa.select(sa.func.count()).select_from(Incident)) or 0


@pytest.fixture
def page_token(client: FlaskClient, login_as: LoginAs) -> str:
    login_as("mission", missions=("MINUSMA",))
    return csrf_token(client.get("/incidents/new").text)


def test_a_page_records_through_the_api_with_its_csrf_token(
    client: FlaskClient, page_token: str, db: Session
) -> None:
    before = incidents_count(db)
    response = client.post(
        f"{API}/incidents", json=incident_body(), headers={"X-CSRFToken": page_token}
    )
    assert response.status_code == 201, response.json
    assert incidents_count(db) == before + 1


@pytest.mark.parametrize("headers", [{}, {"X-CSRFToken": "forged"}, {"X-CSRFToken": ""}])
def test_the_cookie_alone_changes_nothing(
    client: FlaskClient, page_token: str, db: Session, headers: dict[str, str]
) -> None:
    before = incidents_count(db)
    response = client.post(f"{API}/incidents", json=incident_body(), headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="capdb"'
    assert incidents_count(db) == before


def test_another_sessions_token_is_refused(
    client: FlaskClient, page_token: str, login_as: LoginAs
) -> None:
    login_as("mission", missions=("MINUSMA",))  # a new session: a new CSRF secret
    response = client.post(
        f"{API}/incidents", json=incident_body(), headers={"X-CSRFToken": page_token}
    )
    assert response.status_code == 401


def test_without_a_session_the_token_is_not_enough(client: FlaskClient, page_token: str) -> None:
    client.delete_cookie("session")
    response = client.post(
        f"{API}/incidents", json=incident_body(), headers={"X-CSRFToken": page_token}
    )
    assert response.status_code == 401
