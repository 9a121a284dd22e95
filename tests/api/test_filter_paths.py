"""Every path that reads the incident filter reads it alike.

The paths are found in the URL map, not listed by hand: the pages and downloads marked
with :func:`incidents.filters.takes_filter`, and the API operations whose query schema is
a :class:`incidents.api.queries.FilterQuery`. Each bad value must answer 400 naming its
field on every one of them (JSON on the API and the map data, the field's error on pages,
``field: reason`` on downloads), and a good filter 200 with the same incidents.
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask.typing import RouteCallable
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter
from werkzeug.test import TestResponse

from auth.models import User
from capdb.reference import PLACES, Mission, countries_of
from capdb.vocabularies import MEANS_OF_ATTACK, VERIFICATION_STATUS
from incidents.api.queries import FilterQuery
from incidents.filters import FILTER_MARK, Paging, from_request
from tests.api.conftest import API, ApiAs, World
from tests.factories import IncidentFactory, LoginAs, UserFactory

Args = list[tuple[str, str]]


@dataclass(frozen=True)
class FilterPath:
    endpoint: str
    urls: tuple[str, ...]  # one per value of the rule's variable parts
    paging: Paging
    api: bool


def _paging_of(view: RouteCallable) -> tuple[Paging, bool] | None:
    """What the view's filter takes, and whether it is an API operation; None if it takes
    no incident filter."""
    marked = getattr(view, FILTER_MARK, None)
    if isinstance(marked, Paging):
        return marked, False
    documented = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    for parameter in documented:
        schema = parameter.get("schema")
        schema_class = schema if isinstance(schema, type) else type(schema)
        if parameter.get("in") == "query" and issubclass(schema_class, FilterQuery):
            return schema_class.paging, True
    return None


def _urls(app: Flask, rule: Rule) -> tuple[str, ...]:
    choices: dict[str, list[str]] = {}
    for name, converter in rule._converters.items():
        assert isinstance(converter, AnyConverter), f"{rule.rule}: give {name} an any()"
        choices[name] = sorted(converter.items)
    adapter = app.url_map.bind("localhost")
    return tuple(
        adapter.build(rule.endpoint, dict(zip(choices, values, strict=True)))
        for values in itertools.product(*choices.values())
    )


def filter_paths(app: Flask) -> list[FilterPath]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        found = _paging_of(app.view_functions[rule.endpoint])
        if found is not None:
            paths.append(FilterPath(rule.endpoint, _urls(app, rule), *found))
    return sorted(paths, key=lambda path: path.endpoint)


# A well-formed cursor naming an id no integer column holds (a 500 on PostgreSQL once).
HUGE_ID_CURSOR = base64.urlsafe_b64encode(b'["2021-01-01", 10000000000000]').decode()

# (name, query, the field named, the paging a path needs to read it)
BAD: list[tuple[str, Args, str, str | None]] = [
    ("unknown mission", [("mission", "NOSUCH")], "mission", None),
    ("mission with NUL", [("mission", "MINUSMA\x00")], "mission", None),
    ("mission twice", [("mission", "MINUSMA"), ("mission", "MONUSCO")], "mission", None),
    ("unknown state", [("state", "ZZZ")], "state", None),
    ("state not alpha-3", [("state", "ML")], "state", None),
    ("state with NUL", [("state", "ML\x00")], "state", None),
    ("impossible date", [("date_from", "2021-02-30")], "date_from", None),
    ("not a date", [("date_to", "yesterday")], "date_to", None),
    ("dates reversed", [("date_from", "2022-01-01"), ("date_to", "2021-01-01")], "date_to", None),
    ("unknown means", [("means_of_attack", "laser")], "means_of_attack", None),
    ("unknown outcome", [("outcome", "resurrected")], "outcome", None),
    ("unknown stage", [("stage", "heaven")], "stage", None),
    ("unknown status", [("status", "lost")], "status", None),
    ("status twice", [("status", "draft"), ("status", "validated")], "status", None),
    ("over-long q", [("q", "x" * 201)], "q", None),
    ("q with NUL", [("q", "a\x00b")], "q", None),
    ("unknown sort", [("sort", "sideways")], "sort", "sort"),
    ("sort twice", [("sort", "date"), ("sort", "-date")], "sort", "sort"),
    ("no page size", [("per_page", "0")], "per_page", "pages"),
    ("huge page size", [("per_page", "1000000")], "per_page", "pages"),
    ("page size in words", [("per_page", "ten")], "per_page", "pages"),
    ("garbled cursor", [("cursor", "!!!")], "cursor", "pages"),
    ("over-long cursor", [("cursor", "x" * 600)], "cursor", "pages"),
    ("cursor of a huge id", [("cursor", HUGE_ID_CURSOR)], "cursor", "pages"),
]  # fmt: skip


@pytest.fixture
def sign_in(client: FlaskClient, make_user: UserFactory, login_as: LoginAs, api_as: ApiAs) -> Any:
    """The same admin, signed in to the pages and holding a token for the API."""
    admin: User = make_user("admin")
    login_as(user=admin)
    token = api_as(user=admin).auth

    def get(path: FilterPath, url: str, args: Args) -> TestResponse:
        headers = token if path.api else {}
        return client.get(url, query_string=args, headers=headers)

    return get


def names_field(response: TestResponse, field: str) -> bool:
    if response.mimetype == "application/json":
        return field in (response.get_json() or {}).get("errors", {})
    if response.mimetype == "text/html":
        return f'href="#f-{field}"' in response.text
    return f"\n{field}: " in "\n" + response.get_data(as_text=False).decode(errors="replace")


def test_the_sweep_finds_every_kind_of_filter_path(app: Flask) -> None:
    found = {path.endpoint for path in filter_paths(app)}
    assert {
        "incidents.index",
        "transfer.export",
        "maps.index",
        "maps.clusters",
        "maps.heat",
        "maps.choropleth",
        "trends.index",
        "trends.figure_download",
        "trends.report_pdf",
        "api_incidents.list_incidents",
        "api_incidents.incidents_geojson",
        "api_exports.export",
        "api_stats.summary",
        "api_stats.all_figures",
        "api_stats.one_figure",
    } <= found


@pytest.mark.parametrize(("case", "args", "field", "needs"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_value_is_refused_on_every_path_naming_its_field(
    app: Flask, sign_in: Any, case: str, args: Args, field: str, needs: str | None
) -> None:
    refused_wrongly = []
    for path in filter_paths(app):
        if needs and not getattr(path.paging, needs):
            continue
        for url in path.urls[:1]:  # the other values of a path's variable read alike
            response = sign_in(path, url, args)
            if response.status_code != 400 or not names_field(response, field):
                refused_wrongly.append((url, response.status_code, response.data[:100]))
    assert refused_wrongly == []


GOOD: Args = [
    ("mission", "minusma"),
    ("state", "tcd"),
    ("date_from", "2021-01-01"),
    ("date_to", "2021-12-31"),
    ("outcome", "killed"),
    ("means_of_attack", "ied"),
    ("status", "validated"),
    ("q", "aguelhok"),
    ("sort", "reference"),
    ("per_page", "10"),
]


LISTS = {"incidents", "transfer", "api_incidents", "api_exports"}
READABLE = {"text/html", "text/csv", "application/json", "application/geo+json"}


def test_a_good_filter_gives_the_same_incidents_on_every_path(
    app: Flask, sign_in: Any, world: World, make_incident: IncidentFactory
) -> None:
    unmatched = make_incident(reference="MINUSMA-2021-0002", occurred_on=date(2021, 5, 1))
    references = {world.mali.reference, world.congo.reference, unmatched.reference}
    lists: dict[str, set[str]] = {}
    not_drawn = []
    for path in filter_paths(app):
        for url in path.urls:
            response = sign_in(path, url, GOOD)
            if path.endpoint == "trends.chart" and response.status_code == 404:
                not_drawn.append(url)  # a chart of nothing: the page must not ask for it
                continue
            assert response.status_code == 200, (url, response.text[:300])
            # Lists and their exports name the incidents; maps and figures count them.
            if path.endpoint.split(".")[0] in LISTS and response.mimetype in READABLE:
                lists[url] = {ref for ref in references if ref in response.text}
    assert len(lists) >= 6
    page = next(p for p in filter_paths(app) if p.endpoint == "trends.index")
    trends = sign_in(page, page.urls[0], GOOD).text
    assert 'src="/trends/' in trends  # the charts with something to show are drawn
    assert [url for url in not_drawn if f'src="{url}' in trends] == []
    assert {url: found for url, found in lists.items() if found != {world.mali.reference}} == {}
    summary = json.loads(sign_in_summary(app, sign_in))
    assert summary["incidents"] == 1


def sign_in_summary(app: Flask, sign_in: Any) -> str:
    path = next(p for p in filter_paths(app) if p.endpoint == "api_stats.summary")
    response: TestResponse = sign_in(path, path.urls[0], GOOD)
    return response.text


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--mission", "NOSUCH"),
        ("--state", "ML\x00"),
        ("--date-to", "2021-02-30"),
        ("--outcome", "resurrected"),
        ("--q", "x" * 201),
    ],
)
def test_the_export_command_refuses_what_the_pages_refuse(
    app: Flask, option: str, value: str
) -> None:
    result = app.test_cli_runner().invoke(
        args=["incidents", "export", "--format", "csv", option, value]
    )
    assert result.exit_code != 0
    assert f"{option}:" in result.output


ENUMERATED = {
    "mission",
    "state",
    "country",
    "nationality",
    "contributing_country",
    "status",
    "means_of_attack",
    "attack_context",
    "location_type",
    "perpetrator_type",
    "geo_precision",
    "date_precision",
    "outcome",
    "stage",
    "category",
    "prosecuting_state",
    "recipient_state",
    "sex",
}


def test_the_api_document_lists_the_allowed_values(db: Session, api_as: ApiAs) -> None:
    document = api_as("analyst").get("/openapi.json").get_json()
    missions = sorted(db.scalars(sa.select(Mission.code)))
    places = [c.code for c in countries_of(db, PLACES)]  # not "stateless", say
    listing = document["paths"][f"{API}/incidents"]["get"]["parameters"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in listing}
    assert parameters["mission"]["enum"] == missions
    assert parameters["state"]["enum"] == places  # a State the incidents concern
    assert parameters["status"]["enum"] == list(VERIFICATION_STATUS.codes)
    assert parameters["means_of_attack"]["enum"] == list(MEANS_OF_ATTACK.codes)
    incident_input = document["components"]["schemas"]["IncidentInput"]["properties"]
    assert incident_input["mission"]["enum"] == missions
    assert incident_input["country"]["enum"] == [*places, None]  # left out: the host
    # Every query parameter and body field of these names, on every path, lists its values.
    free = [
        f"{path} {method} {parameter['name']}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method != "parameters"  # those of the path: its ids
        for parameter in operation.get("parameters", [])
        if parameter["name"] in ENUMERATED and "enum" not in parameter["schema"]
    ]
    free += [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, declared in schema.get("properties", {}).items()
        if field in ENUMERATED and "enum" not in declared and "$ref" not in declared
    ]
    assert free == [], free


def test_only_a_marked_view_reads_the_filter(app: Flask, db: Session) -> None:
    """So that the sweep above, which finds the paths by their mark, misses none."""
    with app.test_request_context("/incidents/?mission=MINUSMA"):
        asked, errors = from_request(db)
        assert (asked.filters.mission, errors) == ("MINUSMA", {})
    with app.test_request_context("/incidents/1"), pytest.raises(LookupError):
        from_request(db)


def test_the_list_page_keeps_its_page_size_from_page_to_page(
    client: FlaskClient, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    made = [make_incident(occurred_on=date(2021, 3, day)).reference for day in range(1, 4)]
    login_as("admin")
    first = client.get("/incidents/?per_page=2")
    assert first.status_code == 200
    assert [reference in first.text for reference in made] == [False, True, True]
    assert 'rel="next"' in first.text
    assert "per_page=2" in first.text
