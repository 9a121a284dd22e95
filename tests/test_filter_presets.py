"""The list, map and trends pages open filtered to the viewer's State or mission, and the
preset is removable: any query replaces it."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.factories import IncidentFactory, LoginAs

PAGES = ("/incidents/", "/maps/", "/trends/")


def selected(page: str, name: str) -> str | None:
    """The value chosen in the filter form's select ``name``."""
    select = re.search(rf'<select id="f-{name}" name="{name}".*?</select>', page, re.S)
    assert select is not None, name
    chosen = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return chosen.group(1) if chosen else None


@pytest.mark.parametrize("path", PAGES)
def test_a_focal_point_starts_from_its_state(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory, path: str
) -> None:
    make_incident()
    login_as("member_state", state="MLI")
    page = client.get(path).text
    assert selected(page, "state") == "MLI"
    assert "Filtered to the incidents that concern your State, Mali." in page
    # Its own State heads the list of the world's.
    states = re.search(r'<select id="f-state".*?</select>', page, re.S)
    assert states is not None
    assert re.findall(r'<option value="(\w*)"', states.group(0))[:2] == ["", "MLI"]
    cleared = client.get(f"{path}?q=").text
    assert selected(cleared, "state") is None
    assert "Filtered to" not in cleared
    assert f'href="{path}?q="' in page  # the note's "Remove this filter"
    if path == "/incidents/":
        # Downloads and sorting carry the filter shown, as the page lists it.
        assert re.search(r'href="/incidents/export\.csv\?[^"]*state=MLI', page)


def test_a_mission_officer_starts_from_its_mission(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    make_incident()
    login_as("mission", missions=("MINUSMA",))
    page = client.get("/incidents/").text
    assert selected(page, "mission") == "MINUSMA"
    assert "Filtered to your mission, MINUSMA." in page
    assert "MINUSMA-2021-" in page
    login_as("mission", missions=("MINUSMA", "MONUSCO"))
    several = client.get("/incidents/").text
    assert selected(several, "mission") is None
    assert "Filtered to" not in several
    assert '<option value="">Any of your missions</option>' in several


def test_an_analyst_and_a_query_get_no_preset(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    assert "Filtered to" not in client.get("/incidents/").text
    login_as("member_state", state="MLI")
    asked = client.get("/incidents/?state=TCD").text
    assert selected(asked, "state") == "TCD"
    assert "Filtered to" not in asked
