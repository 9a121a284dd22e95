"""Full-text search: the same ``q`` on the list, the map, the trends, the exports and the API,
ranked, folding accents, over the incident's text, its victims' units and the references and
charges of the cases the viewer sees; kept current on every write; and never a way to learn
what the viewer may not see (a name, a draft, a case out of sight)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth import tokens
from auth.models import User
from capdb.db import utcnow
from tests.factories import IncidentFactory, LoginAs, UserFactory, VictimFactory
from tests.test_cases import new_case

Api = Callable[[str], dict[str, object]]


@pytest.fixture
def api(client: FlaskClient, db: Session, make_user: UserFactory) -> Callable[[User], Api]:
    def as_user(user: User) -> Api:
        bearer = {"Authorization": f"Bearer {tokens.create(db, user)[1]}"}

        def get(path: str) -> dict[str, object]:
            response = client.get(f"/api/v1{path}", headers=bearer)
            assert response.status_code == 200, response.json
            assert isinstance(response.json, dict)
            return response.json

        return get

    return as_user


def references(found: dict[str, object]) -> list[str]:
    items = found["items"]
    assert isinstance(items, list)
    return [item["reference"] for item in items]


def test_accents_units_and_cases_are_searched_and_the_best_answer_comes_first(
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
    make_user: UserFactory,
    db: Session,
    api: Callable[[User], Api],
) -> None:
    french = make_incident(reference="MINUSMA-2021-0101", narrative="Atteinte à la sécurité")
    unit = make_incident(reference="MINUSMA-2021-0102")
    make_victim(unit, unit="Bataillon tchadien de Tessalit")
    cased = make_incident(reference="MINUSMA-2021-0103")
    new_case(db, cased, national_reference="PJ-GAO-2021-117", charges="Assassinat en bande")
    often = make_incident(reference="MINUSMA-2021-0104", place="Convoy road", narrative="Convoy.")
    once = make_incident(
        reference="MINUSMA-2021-0105",
        narrative="A long account of the day, of the patrols and of one convoy among others.",
    )
    analyst = api(make_user("analyst"))
    assert references(analyst("/incidents?q=securite")) == [french.reference]
    assert references(analyst("/incidents?q=SÉCURITÉ")) == [french.reference]
    assert references(analyst("/incidents?q=tchadien tessalit")) == [unit.reference]
    assert references(analyst("/incidents?q=assassinat")) == [cased.reference]
    assert references(analyst("/incidents?q=PJ-GAO-2021-117")) == [cased.reference]
    assert references(analyst("/incidents?q=convoy")) == [often.reference, once.reference]
    # Paged by relevance, the second page follows the first.
    first = analyst("/incidents?q=convoy&per_page=1")
    assert references(first) == [often.reference]
    second = analyst(f"/incidents?q=convoy&per_page=1&cursor={first['next_cursor']}")
    assert references(second) == [once.reference]
    assert second["next_cursor"] is None
    # Another order may still be asked for.
    by_date = analyst("/incidents?q=convoy&sort=reference")
    assert references(by_date) == [often.reference, once.reference]


def test_the_index_follows_every_write(
    make_incident: IncidentFactory, make_victim: VictimFactory, make_user: UserFactory, db: Session,
    api: Callable[[User], Api],
) -> None:  # fmt: skip
    incident = make_incident(narrative="An ambush near Aguelhok")
    victim = make_victim(incident, unit="Sector North engineers")
    case = new_case(db, incident, charges="Murder")
    analyst = api(make_user("analyst"))
    assert len(references(analyst("/incidents?q=ambush"))) == 1
    incident.narrative = "A rocket attack on the camp"
    victim.deleted_at = utcnow()
    case.charges = "Terrorism"
    db.flush()
    assert references(analyst("/incidents?q=ambush")) == []
    assert references(analyst("/incidents?q=engineers")) == []
    assert references(analyst("/incidents?q=murder")) == []
    assert len(references(analyst("/incidents?q=rocket"))) == 1
    assert len(references(analyst("/incidents?q=terrorism"))) == 1


def test_a_search_never_reveals_a_name_a_draft_or_a_case_out_of_sight(
    client: FlaskClient,
    make_incident: IncidentFactory,
    make_victim: VictimFactory,
    make_user: UserFactory,
    login_as: LoginAs,
    db: Session,
    api: Callable[[User], Api],
) -> None:
    incident = make_incident(reference="MINUSMA-2021-0201", narrative="Patrol attacked")
    make_victim(incident, nationality_code="TCD", name="Adoum Mahamat", identifier="TD-1234")
    make_incident(status="draft", narrative="Unverified report of a kidnapping")
    pending = new_case(db, incident, state="TCD", review_status="pending", charges="Enlèvement")
    assert pending.review_status == "pending"
    mali = make_user("member_state", state="MLI")  # sees the incident, not the Chadian's name
    for q in ("Adoum", "Mahamat", "TD-1234", "kidnapping", "enlevement"):
        assert references(api(mali)(f"/incidents?q={q}")) == [], q
    login_as(user=mali)
    page = client.get("/incidents/?q=Adoum Mahamat")
    assert page.status_code == 200
    assert "0 incidents" in page.text
    assert "MINUSMA-2021-0201" not in page.text
    # Chad prosecutes the pending case: its charges lead Chad to the incident.
    chad = make_user("member_state", state="TCD")
    assert references(api(chad)("/incidents?q=enlevement")) == ["MINUSMA-2021-0201"]
    # Names are never indexed, whoever searches.
    assert references(api(chad)("/incidents?q=Adoum")) == []


def test_one_q_for_the_list_the_map_the_trends_the_exports_and_the_api(
    client: FlaskClient,
    make_incident: IncidentFactory,
    make_user: UserFactory,
    login_as: LoginAs,
    api: Callable[[User], Api],
) -> None:
    for number in range(3):
        make_incident(narrative=f"Mortar fire on the camp, round {number}")
    make_incident(narrative="Nothing of the kind", occurred_on=date(2021, 5, 1))
    analyst = make_user("analyst")
    get = api(analyst)
    assert get("/incidents?q=mortar")["total"] == 3
    assert get("/stats/summary?q=mortar")["incidents"] == 3
    login_as(user=analyst)
    assert '<p class="total" id="total">3 incidents' in client.get("/incidents/?q=mortar").text
    exported = client.get("/incidents/export.csv?q=mortar")
    assert exported.headers["X-Total-Count"] == "3"
    clusters = client.get("/maps/data/clusters?q=mortar&bbox=-180,-90,180,90&zoom=2")
    assert clusters.status_code == 200
    assert '"count": 3' in clusters.text or '"count":3' in clusters.text
    assert client.get("/trends/?q=mortar").status_code == 200


@pytest.mark.parametrize(
    "q",
    ['"', "NEAR(a b)", "a OR", "*", "-", "'); DROP TABLE incidents; --", "é:*", "\\", "a & | ! b"],
)
def test_any_text_is_searched_without_error(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory, q: str
) -> None:
    make_incident()
    login_as("analyst")
    assert client.get("/incidents/", query_string={"q": q}).status_code == 200
    assert client.get("/maps/", query_string={"q": q}).status_code == 200
    assert client.get("/incidents/export.csv", query_string={"q": q}).status_code == 200
