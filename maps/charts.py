"""The figures of the trends dashboard and the report: a table, and a chart drawn from it.

A :class:`Figure` holds the headers and rows that the page's data table, the CSV download
and the chart all show: the chart is drawn from the table's own columns, so the three
cannot disagree. Labels are in the viewer's language.

Charts are drawn server-side with matplotlib as SVG and cleaned down to a small set of
drawing elements that carry presentation attributes only (no ``<style>``, no ``style=``,
no script, no external reference). That markup is placed inline in the page, which keeps
the page's Content Security Policy strict (``style-src 'self'``, no ``unsafe-inline``),
costs no extra request on a slow link, keeps the labels as real text for screen readers
and text search, and goes as it is into the PDF report.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session

from auth.models import User
from capdb.reference import Country, successors
from capdb.vocabularies import ASSISTANCE_KIND, JUDICIAL_STAGE, MEANS_OF_ATTACK, OUTCOME
from capdb.vocabularies import PERSONNEL_CATEGORY as CATEGORY
from incidents.filters import IncidentFilters
from incidents.transfer.exporting import neutralise
from maps import stats
from maps.ladder import Step
from maps.stats import Period
from maps.tables import Cell, Chart, cell_text
from maps.trend_data import TrendData

# Countries beyond this many, by number of victims, are summed on one row.
TOP_COUNTRIES = 15


@dataclass(frozen=True)
class Figure:
    name: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    chart: Chart
    note: str = ""

    @property
    def empty(self) -> bool:
        return not any(row[i] for row in self.rows for i in self.chart.series)

    def text_rows(self) -> list[list[str]]:
        """The rows as the table shows them."""
        return [[cell_text(cell) for cell in row] for row in self.rows]

    def svg(self) -> Markup:
        """The chart as inline SVG markup, safe to place in a page or the report."""
        from maps import drawing

        return Markup(drawing.render(self))  # noqa: S704 (sanitised markup of our own drawing)


# CSV ----------------------------------------------------------------------------------------


def csv_cell(cell: Cell) -> str:
    """The cell's text; text a spreadsheet would read as a formula gets a leading apostrophe."""
    text = cell_text(cell)
    return neutralise(text) if isinstance(cell, str) else text


def figure_csv(figure: Figure) -> str:
    """The figure's table as CSV, headers included, with a byte order mark for spreadsheets."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(header) for header in figure.headers])
    writer.writerows([csv_cell(cell) for cell in row] for row in figure.rows)
    return buffer.getvalue()


# Building the figures -----------------------------------------------------------------------


class Figures:
    """The dashboard's figures for one viewer, filter and period, each query run once."""

    def __init__(
        self,
        db: Session,
        user: User,
        filters: IncidentFilters,
        period: Period,
        locale: str,
        *,
        kept: bool = True,
        today_states: bool = False,
    ) -> None:
        """``kept``: count from the sums kept for the figures where they answer;
        ``today_states``: count the victims of a former State (Yugoslavia, Zaire...) under
        the State that continues it today."""
        self.db = db
        self.user = user
        self.filters = filters
        self.period = period
        self.locale = locale
        self.data = TrendData(db, user, filters, period, kept=kept)
        self.today_states = today_states

    def build(self, name: str) -> Figure:
        """The figure of this name; KeyError for a name that is not one."""
        return BUILDERS[name](self)

    def all(self) -> list[Figure]:
        return [self.build(name) for name in BUILDERS]

    @property
    def host_states(self) -> list[stats.HostState]:
        return self.data.host_states()

    def summary(self) -> dict[str, int]:
        """What :func:`maps.stats.summary` answers, from the figures' own counts."""
        return self.data.summary()

    def country_names(self, codes: Iterable[str]) -> dict[str, str]:
        column = Country.name_fr if self.locale.startswith("fr") else Country.name_en
        rows = self.db.execute(
            sa.select(Country.code, column).where(Country.code.in_(sorted(set(codes))))
        )
        return {str(code): str(name) for code, name in rows}

    # Over time

    def _period_header(self) -> str:
        return str(_("Month") if self.period is Period.MONTH else _("Year"))

    def _over_time_figure(
        self, name: str, title: str, measure: str, key: str, label: Callable[[str], str]
    ) -> Figure:
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for row in self.data.over_time:
            counts[row.period, getattr(row, key)] += getattr(row, measure)
        keys = _largest_first(counts)
        periods = stats.periods_for(self.filters, self.period, (p for p, _k in counts))
        rows: tuple[tuple[Cell, ...], ...] = tuple(
            (p, *(counts.get((p, k), 0) for k in keys), sum(counts.get((p, k), 0) for k in keys))
            for p in periods
        )
        value_label = _("Incidents") if measure == "incidents" else _("Fatalities")
        return Figure(
            name=name,
            title=title,
            headers=(self._period_header(), *(label(k) for k in keys), _("Total")),
            rows=rows,
            chart=Chart(series=tuple(range(1, len(keys) + 1)), value_label=value_label),
        )

    def incidents_by_mission(self) -> Figure:
        return self._over_time_figure(
            "incidents-by-mission", _("Incidents by mission"), "incidents", "mission", str
        )

    def incidents_by_means(self) -> Figure:
        return self._over_time_figure(
            "incidents-by-means",
            _("Incidents by means of attack"),
            "incidents",
            "means_of_attack",
            self._means_label,
        )

    def fatalities_by_mission(self) -> Figure:
        return self._over_time_figure(
            "fatalities-by-mission", _("Fatalities by mission"), "fatalities", "mission", str
        )

    def fatalities_by_means(self) -> Figure:
        return self._over_time_figure(
            "fatalities-by-means",
            _("Fatalities by means of attack"),
            "fatalities",
            "means_of_attack",
            self._means_label,
        )

    def _means_label(self, code: str) -> str:
        return MEANS_OF_ATTACK.label(code, self.locale)

    # Victims

    def _victims_figure(
        self,
        name: str,
        title: str,
        first_header: str,
        counted: list[stats.VictimCount],
        label: Callable[[str], str],
        *,
        top: int | None = None,
    ) -> Figure:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OUTCOME.codes, 0))
        for row in counted:
            counts[row.key][row.outcome] += row.victims
        keys = sorted(counts, key=lambda k: (-sum(counts[k].values()), label(k)))
        rows: list[tuple[Cell, ...]] = [
            (label(k), *counts[k].values(), sum(counts[k].values())) for k in keys
        ]
        if top is not None and len(rows) > top + 1:
            rest = rows[top:]
            sums = [sum(int(row[i] or 0) for row in rest) for i in range(1, len(OUTCOME.codes) + 2)]
            rows = [*rows[:top], (_("All other countries"), *sums)]
        return Figure(
            name=name,
            title=title,
            headers=(first_header, *(t.label(self.locale) for t in OUTCOME), _("Total")),
            rows=tuple(rows),
            chart=Chart(
                series=tuple(range(1, len(OUTCOME.codes) + 1)),
                value_label=_("Victims"),
                horizontal=True,
            ),
        )

    def _victims(self, dimension: stats.VictimDimension) -> list[stats.VictimCount]:
        today = successors(self.db) if self.today_states else None
        return stats.victims_of(self.data.victim_groups, dimension, today)

    def victims_by_category(self) -> Figure:
        return self._victims_figure(
            "victims-by-category",
            _("Victims by personnel category"),
            CATEGORY.title(self.locale).capitalize(),
            self._victims("category"),
            lambda code: CATEGORY.label(code, self.locale),
        )

    def victims_by_nationality(self) -> Figure:
        counted = self._victims("nationality")
        names = self.country_names(row.key for row in counted)
        return self._victims_figure(
            "victims-by-nationality",
            _("Victims by nationality"),
            _("Nationality"),
            counted,
            lambda code: names.get(code, code),
            top=TOP_COUNTRIES,
        )

    def victims_by_contributor(self) -> Figure:
        counted = self._victims("contributing_country")
        names = self.country_names(row.key for row in counted)
        return self._victims_figure(
            "victims-by-contributor",
            _("Uniformed victims by contributing country"),
            _("Contributing country"),
            counted,
            lambda code: names.get(code, code),
            top=TOP_COUNTRIES,
        )

    # Justice

    def step_label(self, step: Step) -> str:
        labels: dict[Step, str] = {
            Step.INCIDENT: _("Incidents"),
            Step.CASE_OPENED: _("Case opened"),
            Step.SUSPECT_IDENTIFIED: JUDICIAL_STAGE.label("suspect_identified", self.locale),
            Step.ARRESTED: JUDICIAL_STAGE.label("arrested", self.locale),
            Step.CHARGED: JUDICIAL_STAGE.label("charged", self.locale),
            Step.TRIED: JUDICIAL_STAGE.label("trial_opened", self.locale),
            Step.CONVICTED: JUDICIAL_STAGE.label("convicted", self.locale),
        }
        return labels[step]

    def justice_funnel(self) -> Figure:
        funnel = self.data.funnel()
        total = funnel[0].incidents
        rows = tuple(
            (
                self.step_label(step.step),
                step.incidents,
                round(100 * step.incidents / total, 1) if total else None,
            )
            for step in funnel
        )
        return Figure(
            name="justice-funnel",
            title=_("Justice: how far the incidents got"),
            headers=(_("Step reached"), _("Incidents"), _("Share of incidents (%)")),
            rows=rows,
            chart=Chart(series=(1,), value_label=_("Incidents"), horizontal=True),
            note=_(
                "An incident counts at a step when one of its cases has a validated stage "
                "event at that step or a later one: a case charged also counts as arrested; "
                "an acquittal, an appeal or a final judgment counts as tried; a conviction "
                "or a sentence as convicted."
            ),
        )

    def days_to_steps(self) -> Figure:
        delays = self.data.cases.delays
        return Figure(
            name="days-to-steps",
            title=_("Median days from the incident to each step"),
            headers=(_("Step reached"), _("Cases"), _("Median days")),
            rows=tuple((self.step_label(d.step), d.cases, d.median_days) for d in delays),
            chart=Chart(series=(2,), value_label=_("Median days"), horizontal=True),
            note=_(
                "Days from the earliest incident of the case to its first validated event "
                "at the step or a later one."
            ),
        )

    def accountability(self) -> Figure:
        states = self.host_states
        names = self.country_names(s.country for s in states)
        return Figure(
            name="host-states",
            title=_("Accountability per host State"),
            headers=(
                _("Country where incidents happened"),
                _("Incidents"),
                _("Fatalities"),
                _("Cases opened"),
                _("Convictions"),
                _("Median days to conviction"),
            ),
            rows=tuple(
                (
                    names.get(s.country, s.country),
                    s.incidents,
                    s.fatalities,
                    s.cases,
                    s.convictions,
                    s.median_days_to_conviction,
                )
                for s in states
            ),
            chart=Chart(series=(1, 3, 4), value_label=_("Number"), horizontal=True, stacked=False),
        )

    def assistance(self) -> Figure:
        counts: dict[tuple[int, str], int] = {}
        for row in stats.assistance_per_year(self.db, self.user, self.filters):
            counts[row.year, row.kind] = row.records
        years = range(min(y for y, _k in counts), max(y for y, _k in counts) + 1) if counts else ()
        kinds = ASSISTANCE_KIND.codes
        return Figure(
            name="assistance",
            title=_("Capacity-building assistance to host States per year"),
            headers=(
                _("Year"),
                *(ASSISTANCE_KIND.label(k, self.locale) for k in kinds),
                _("Total"),
            ),
            rows=tuple(
                (
                    str(year),
                    *(counts.get((year, k), 0) for k in kinds),
                    sum(counts.get((year, k), 0) for k in kinds),
                )
                for year in years
            ),
            chart=Chart(series=tuple(range(1, len(kinds) + 1)), value_label=_("Records")),
            note=_(
                "Records by the year they started. Of the filter, only the mission, the "
                "State (as recipient) and the dates apply."
            ),
        )


BUILDERS: dict[str, Callable[[Figures], Figure]] = {
    "incidents-by-mission": Figures.incidents_by_mission,
    "incidents-by-means": Figures.incidents_by_means,
    "fatalities-by-mission": Figures.fatalities_by_mission,
    "fatalities-by-means": Figures.fatalities_by_means,
    "victims-by-category": Figures.victims_by_category,
    "victims-by-nationality": Figures.victims_by_nationality,
    "victims-by-contributor": Figures.victims_by_contributor,
    "justice-funnel": Figures.justice_funnel,
    "days-to-steps": Figures.days_to_steps,
    "host-states": Figures.accountability,
    "assistance": Figures.assistance,
}
NAMES = tuple(BUILDERS)


def _largest_first(counts: dict[tuple[str, str], int]) -> list[str]:
    """The keys with a non-zero total, largest total first."""
    totals: dict[str, int] = defaultdict(int)
    for (_period, key), count in counts.items():
        totals[key] += count
    return sorted((k for k, n in totals.items() if n), key=lambda k: (-totals[k], k))


def summary_items(summary: dict[str, int]) -> list[tuple[str, int]]:
    """The headline figures with their labels, in the order the pages show them."""
    labels = {
        "incidents": _("Incidents"),
        "fatalities": _("Fatalities"),
        "injured": _("Injured"),
        "abducted": _("Abducted"),
        "cases": _("Judicial cases"),
        "convictions": _("Cases with a conviction"),
    }
    return [(label, summary[key]) for key, label in labels.items()]
