"""Reference data and figures: the vocabularies with their labels, and a summary that
counts exactly the incidents its viewer may open."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from capdb.vocabularies import VOCABULARIES
from incidents.models import StageEvent
from tests.api.conftest import ApiAs, World


def test_every_vocabulary_is_listed_with_both_languages(api_as: ApiAs) -> None:
    response = api_as("member_state", state="MLI").get("/vocabularies")
    assert response.status_code == 200
    assert response.json is not None
    listed = response.json["vocabularies"]
    assert set(listed) == set(VOCABULARIES)
    for name, vocabulary in VOCABULARIES.items():
        terms = listed[name]["terms"]
        assert [t["code"] for t in terms] == list(vocabulary.codes)
        assert all(t["en"] and t["fr"] for t in terms)
    means = {t["code"]: t for t in listed["means_of_attack"]["terms"]}
    assert means["ied"]["fr"] == "Engin explosif improvisé"
    assert listed["outcome"]["title_fr"] == "conséquence"


@pytest.fixture
def convicted(world: World, db: Session) -> World:
    """The Malian case reached a conviction."""
    db.add(StageEvent(case_id=world.mali_case.id, stage="convicted", occurred_on=date(2021, 9, 1)))
    world.mali_case.current_stage = "convicted"
    db.flush()
    return world


@pytest.mark.parametrize(
    ("role", "bindings", "expected"),
    [
        ("admin", {}, (2, 1, 2, 0, 2, 1)),
        ("analyst", {}, (1, 1, 1, 0, 1, 1)),
        ("mission", {"missions": ("MONUSCO",)}, (1, 0, 1, 0, 1, 0)),
        ("member_state", {"state": "TCD"}, (1, 1, 1, 0, 1, 1)),
        ("member_state", {"state": "BRA"}, (0, 0, 0, 0, 0, 0)),
    ],
)
def test_the_summary_counts_what_the_viewer_may_see(
    api_as: ApiAs,
    convicted: World,
    role: str,
    bindings: dict[str, Any],
    expected: tuple[int, ...],
) -> None:
    api = api_as(role, **bindings)
    response = api.get("/stats/summary")
    assert response.status_code == 200
    names = ("incidents", "fatalities", "injured", "abducted", "cases", "convictions")
    assert response.json == dict(zip(names, expected, strict=True))
    listed = api.get("/incidents?per_page=200").json
    assert listed is not None
    assert len(listed["items"]) == expected[0]


def test_the_summary_takes_the_filter(api_as: ApiAs, convicted: World) -> None:
    api = api_as("admin")
    killed = api.get("/stats/summary?outcome=killed").json
    assert killed is not None
    assert (killed["incidents"], killed["fatalities"], killed["injured"]) == (1, 1, 1)
    congo = api.get("/stats/summary?mission=MONUSCO&status=draft").json
    assert congo is not None
    assert congo["incidents"] == 1
    assert congo["convictions"] == 0
    refused = api.get("/stats/summary?date_to=soon&stage=lost")
    assert refused.status_code == 400
    assert refused.json is not None
    assert set(refused.json["errors"]) == {"date_to", "stage"}
