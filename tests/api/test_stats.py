"""The dashboard's figures through the API: the same tables as the trends page downloads."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask.testing import FlaskClient

from maps.charts import NAMES
from maps.tables import cell_text
from tests.api.conftest import ApiAs, errors_of, json_of
from tests.factories import LoginAs, UserFactory
from tests.test_stats import World, world

__all__ = ["world"]  # the fixture, used by name

VIEWERS = [("admin", {}), ("member_state", {"state": "TCD"}), ("mission", {"missions": ["UNMISS"]})]


def downloaded(client: FlaskClient, name: str, query: str) -> list[list[str]]:
    """The figure's table as the trends page's CSV download holds it."""
    response = client.get(f"/trends/{name}.csv?{query}")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).removeprefix("\ufeff"))))


def as_text(figure: dict[str, Any]) -> list[list[str]]:
    return [figure["headers"], *([cell_text(cell) for cell in row] for row in figure["rows"])]


@pytest.mark.parametrize(("role", "bindings"), VIEWERS)
def test_every_figure_is_the_dashboards_own_table(
    client: FlaskClient,
    api_as: ApiAs,
    login_as: LoginAs,
    make_user: UserFactory,
    world: World,
    role: str,
    bindings: dict[str, Any],
) -> None:
    user = make_user(role, **bindings)
    login_as(user=user)
    query = "date_from=2019-01-01&date_to=2023-12-31&period=year"
    body = json_of(api_as(user=user).get(f"/stats/figures?{query}"))
    assert body["period"] == "year"
    assert [figure["name"] for figure in body["figures"]] == list(NAMES)
    for figure in body["figures"]:
        assert as_text(figure) == downloaded(client, figure["name"], query), figure["name"]


def test_a_viewer_sees_only_their_scope_in_the_figures(api_as: ApiAs, world: World) -> None:
    def incidents_by_mission(role: str, **bindings: Any) -> dict[str, int]:
        figure = json_of(api_as(role, **bindings).get("/stats/figures/incidents-by-mission"))
        missions = figure["headers"][1:]
        totals = dict.fromkeys(missions, 0)
        for row in figure["rows"]:
            for mission, count in zip(missions, row[1:], strict=True):
                totals[mission] += int(count or 0)
        return {mission: total for mission, total in totals.items() if total and mission != "Total"}

    everything = incidents_by_mission("admin")
    unmiss = incidents_by_mission("mission", missions=["UNMISS"])
    assert set(everything) > {"UNMISS"}
    assert unmiss == {"UNMISS": everything["UNMISS"]}


def test_one_figure_follows_the_requests_language(api_as: ApiAs, world: World) -> None:
    api = api_as("admin")
    english = json_of(api.get("/stats/figures/justice-funnel"))
    french = json_of(api.get("/stats/figures/justice-funnel", headers={"Accept-Language": "fr"}))
    assert english["name"] == french["name"] == "justice-funnel"
    assert english["title"] != french["title"]
    assert [row[1:] for row in english["rows"]] == [row[1:] for row in french["rows"]]


def test_a_bad_query_names_each_field(api_as: ApiAs) -> None:
    api = api_as("analyst")
    response = api.get("/stats/figures?period=week&date_from=soon")
    assert response.status_code == 400
    assert set(errors_of(response)) == {"period", "date_from"}
    assert api.get("/stats/figures/no-such-figure").status_code == 404
