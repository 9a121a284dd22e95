"""The trends dashboard: figures with their tables and CSV, filters, scope and the CSP."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from auth.models import AuditEvent
from capdb.reference import Country
from maps.charts import NAMES, Figure, csv_cell, figure_csv
from maps.drawing import clean_svg
from maps.tables import Chart
from tests.factories import IncidentFactory, LoginAs, VictimFactory
from tests.test_stats import World, build_world

PERSONAL_DATA = ("Jean Secret", "UN-778899", "Abu Hidden", "DEF-4242")


@pytest.fixture
def world(db: Session, make_incident: IncidentFactory, make_victim: VictimFactory) -> World:
    return build_world(db, make_incident, make_victim)


class Tables(HTMLParser):
    """The page's tables by caption, each a list of rows of cell texts, headers first."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.header_scopes: list[str | None] = []
        self._caption: list[str] | None = None
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows = []
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self._rows.append([])
        elif tag in ("th", "td"):
            self._cell = []
            if tag == "th":
                self.header_scopes.append(dict(attrs).get("scope"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self._title = "".join(self._caption).strip()
            self._caption = None
        elif tag in ("th", "td") and self._cell is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self.tables[self._title] = self._rows

    def handle_data(self, data: str) -> None:
        for buffer in (self._caption, self._cell):
            if buffer is not None:
                buffer.append(data)


def tables_of(page: str) -> Tables:
    parser = Tables()
    parser.feed(page)
    return parser


def csv_rows(client: FlaskClient, name: str, query: str = "", **headers: str) -> list[list[str]]:
    with client.get(f"/trends/{name}.csv?{query}", headers=headers) as response:
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.headers["Cache-Control"] == "no-store"
        assert "attachment" in response.headers["Content-Disposition"]
        text = response.data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_every_figure_has_a_chart_a_table_and_a_download(
    client: FlaskClient, login_as: LoginAs, world: World
) -> None:
    login_as("analyst")
    response = client.get("/trends/")
    assert response.status_code == 200
    page = response.text
    tables = tables_of(page)
    for name in NAMES:
        assert f'<section id="{name}"' in page
        assert f"/trends/{name}.csv?period=year" in page
    assert len(tables.tables) == len(NAMES)
    assert set(tables.header_scopes) == {"col", "row"}
    # the funnel: incidents, opened, suspect, arrested, charged, tried, convicted
    funnel = tables.tables["Justice: how far the incidents got"]
    assert [row[1] for row in funnel[1:]] == ["7", "6", "5", "3", "3", "2", "1"]
    assert "/trends/report.pdf?period=year" in page
    # Each chart loads on its own, once drawn; a browser that has it revalidates it.
    assert "<svg" not in page
    for name in NAMES:
        url = f"/trends/{name}.svg?period=year"
        assert f'src="{url}"' in page
        chart = client.get(url)
        assert chart.status_code == 200
        assert chart.mimetype == "image/svg+xml"
        assert chart.text.startswith("<svg ")
        assert 'role="img"' in chart.text
        assert "private" in chart.headers["Cache-Control"]
        again = client.get(url, headers={"If-None-Match": chart.headers["ETag"]})
        assert again.status_code == 304


QUERIES = [
    "",
    "period=month&date_from=2021-01-01&date_to=2021-12-31",
    "mission=MINUSMA&outcome=killed",
    "state=TCD&period=year",
]


@pytest.mark.parametrize("query", QUERIES)
def test_each_csv_holds_exactly_the_table_on_screen(
    client: FlaskClient, login_as: LoginAs, world: World, query: str
) -> None:
    login_as("analyst")
    page = client.get(f"/trends/?{query}").text
    tables = tables_of(page).tables
    for name in NAMES:
        title = re.search(rf'<h2 id="{name}-heading">([^<]+)</h2>', page)
        assert title
        on_screen = tables.get(title.group(1))
        downloaded = csv_rows(client, name, query)
        if on_screen is None:  # no rows at all: only the headers are downloaded
            assert len(downloaded) == 1
        else:
            assert downloaded == on_screen, name


def test_csv_headers_speak_the_viewer_s_language(
    client: FlaskClient, login_as: LoginAs, world: World
) -> None:
    login_as("analyst")
    rows = csv_rows(client, "victims-by-category", **{"Accept-Language": "fr"})
    assert rows[0][:3] == ["Catégorie de personnel", "Tué", "Blessé"]
    assert rows[1][:2] == ["Militaire de contingent", "4"]
    assert csv_rows(client, "victims-by-category")[0][1] == "Killed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+33 1 00", "'+33 1 00"),
        ("-cmd", "'-cmd"),
        ("@SUM(1)", "'@SUM(1)"),
        ("Mali", "Mali"),
        (-3, "-3"),
        (12.5, "12.5"),
        (None, ""),
    ],
)
def test_csv_cells_cannot_be_formulas(text: str | int | float | None, expected: str) -> None:
    assert csv_cell(text) == expected


def test_a_formula_in_a_label_is_neutralised_end_to_end(
    client: FlaskClient, db: Session, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    db.add(Country(code="XZQ", name_en='=HYPERLINK("http://evil.example")', name_fr="=X"))
    db.flush()
    make_incident(country_code="XZQ")
    login_as("analyst")
    rows = csv_rows(client, "host-states")
    assert rows[1][0] == '\'=HYPERLINK("http://evil.example")'
    figure = Figure("t", "t", ("a",), (("=1+1", 2),), Chart(series=(1,), value_label="n"))
    assert figure_csv(figure).splitlines()[1] == "'=1+1,2"


def test_labels_are_escaped_in_charts_and_tables(
    client: FlaskClient, db: Session, login_as: LoginAs, make_incident: IncidentFactory
) -> None:
    db.add(Country(code="XZQ", name_en="<b onmouseover=alert(1)>Bad</b>", name_fr="Bad"))
    db.flush()
    make_incident(country_code="XZQ")
    login_as("analyst")
    page = client.get("/trends/").text
    assert "<b onmouseover" not in page
    assert "&lt;b onmouseover=alert(1)&gt;Bad&lt;/b&gt;" in page
    chart = client.get("/trends/host-states.svg").text
    assert "<b onmouseover" not in chart
    assert "&lt;b onmouseover=alert(1)&gt;Bad&lt;/b&gt;" in chart


INVALID = [
    ("mission=NOSUCH", "mission", "Unknown mission."),
    ("state=FRANCE", "state", "Unknown country code."),
    ("date_from=2021-02-30", "date_from", "Enter a date as YYYY-MM-DD."),
    (
        "date_from=2022-01-01&date_to=2021-01-01",
        "date_to",
        "The end date is before the start date.",
    ),
    ("means_of_attack=drone", "means_of_attack", "Unknown value."),
    ("outcome=missing", "outcome", "Unknown value."),
    ("stage=done", "stage", "Unknown value."),
    ("period=week", "period", "Choose months or years."),
    ("q=" + "x" * 201, "q", "Use at most 200 characters."),
]


@pytest.mark.parametrize(("query", "field", "message"), INVALID)
def test_invalid_filters_are_explained_never_a_500(
    client: FlaskClient, login_as: LoginAs, query: str, field: str, message: str
) -> None:
    login_as("analyst")
    response = client.get(f"/trends/?{query}")
    assert response.status_code == 400
    assert message in response.text
    assert f'id="f-{field}-error"' in response.text
    assert "<svg" not in response.text
    for url in ("/trends/justice-funnel.csv", "/trends/justice-funnel.svg", "/trends/report.pdf"):
        with client.get(f"{url}?{query}") as download:
            assert download.status_code == 400
            assert download.mimetype == "text/plain"
            assert f"{field}: {message}" in download.get_data(as_text=True)


@pytest.mark.parametrize("query", ["date_to=%00%ff", "mission=%C0%AF", "period=%00"])
def test_garbage_in_the_query_is_refused_never_a_500(
    client: FlaskClient, login_as: LoginAs, query: str
) -> None:
    login_as("analyst")
    for url in ("/trends/", "/trends/justice-funnel.csv", "/trends/report.pdf"):
        with client.get(f"{url}?{query}") as response:
            assert response.status_code == 400


def test_an_unknown_figure_is_not_found(client: FlaskClient, login_as: LoginAs) -> None:
    login_as("analyst")
    assert client.get("/trends/nothing.csv").status_code == 404
    assert client.get("/trends/nothing.svg").status_code == 404
    assert client.get("/trends/assistance.svg").status_code == 404  # nothing to draw
    assert client.get("/trends/..%2Fadmin.csv").status_code == 404


def test_a_member_state_sees_only_what_concerns_it(
    client: FlaskClient, login_as: LoginAs, world: World
) -> None:
    login_as("member_state", state="TCD")
    page = client.get("/trends/").text
    assert re.search(r"<dt>Incidents</dt><dd>2</dd>", page)
    assert csv_rows(client, "host-states")[1:] == [["Mali", "2", "3", "2", "1", "179"]]
    assert [row[0] for row in csv_rows(client, "incidents-by-mission")[1:]] == ["2021"]


def test_no_personal_data_on_the_dashboard_or_in_downloads(
    client: FlaskClient, login_as: LoginAs, world: World
) -> None:
    login_as("admin")  # even those who may see identities get figures only
    page = client.get("/trends/").text
    downloads = [client.get(f"/trends/{name}.csv").text for name in NAMES]
    downloads += [client.get(f"/trends/{name}.svg").text for name in NAMES]
    for secret in PERSONAL_DATA:
        assert secret not in page
        assert all(secret not in text for text in downloads)


def test_the_dashboard_keeps_the_content_security_policy(
    client: FlaskClient, login_as: LoginAs, world: World
) -> None:
    login_as("analyst")
    response = client.get("/trends/")
    policy = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce
    page = response.text
    for script in re.findall(r"<script\b[^>]*>", page):
        assert f'nonce="{nonce.group(1)}"' in script
    assert "<style" not in page
    for forbidden in (r"<[^>]*\sstyle=", r"<[^>]*\son\w+=", r"(?:src|href)=\"(?:https?:)?//"):
        found = re.search(forbidden, page)
        assert found is None, found.group(0)
    assert response.headers["Cache-Control"] == "no-store"


def test_downloads_are_audited(
    client: FlaskClient, db: Session, login_as: LoginAs, world: World
) -> None:
    user = login_as("member_state", state="TCD")
    client.get("/trends/assistance.csv?date_from=2020-01-01")
    event = db.scalars(
        sa.select(AuditEvent).where(AuditEvent.user_id == user.id, AuditEvent.action == "export")
    ).one()
    assert (event.target_type, event.target_id) == ("trends", "assistance")
    assert event.detail["filters"]["date_from"] == "2020-01-01"


def test_an_svg_keeps_nothing_that_could_run_or_fetch() -> None:
    hostile = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="10pt" height="10pt" viewBox="0 0 10 10" onload="alert(1)">'
        "<style>*{fill:red}</style><script>alert(2)</script>"
        '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'
        '<image xlink:href="http://evil.example/x.png"/>'
        '<clipPath id="c"><rect width="5" height="5"/></clipPath>'
        '<path d="M0 0" style="fill: url(http://evil.example/#x); stroke: #000"'
        ' clip-path="url(#c)" onclick="alert(3)"/>'
        '<use xlink:href="http://evil.example/a.svg#b"/>'
        '<text style="font-size: 10px; white-space: pre">a &lt;b&gt;</text></svg>'
    )
    cleaned = clean_svg(hostile, prefix="chart-x", title="T <i>")
    for banned in ("script", "style", "onload", "onclick", "foreignObject", "image", "evil"):
        assert banned not in cleaned
    assert '<title id="chart-x-title">T &lt;i&gt;</title>' in cleaned
    assert 'clip-path="url(#chart-x-c)"' in cleaned
    assert '<clipPath id="chart-x-c">' in cleaned
    assert 'stroke="#000"' in cleaned
    assert 'font-size="10px"' in cleaned
    assert "a &lt;b&gt;</text>" in cleaned
    assert 'width="100%"' in cleaned
    assert 'height="10pt"' not in cleaned
