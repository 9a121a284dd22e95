"""The periodic report: the trend figures and a section per host State, as a PDF.

The report is rendered from ``maps/report.html`` by :func:`capdb.pdf.html_to_pdf`, which
embeds only ``data:`` URLs and the files of this package's templates: nothing from another
host, and no file elsewhere on the server, ever ends up in a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask import render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from auth.models import User
from capdb.pdf import html_to_pdf
from incidents.filters import IncidentFilters
from maps.charts import Figures, summary_items
from maps.stats import HostState, Period
from maps.tables import cell_text

OWN_FILES = Path(__file__).resolve().parent / "templates" / "maps"


def stand_in_viewer(state_code: str | None) -> User:
    """The viewer a report made without a user is scoped as: never stored.

    With a State, its focal points' view; otherwise an administrator's. The same access
    rule then applies as for a signed-in user.
    """
    if state_code:
        return User(email="report@capdb.invalid", role="member_state", state_code=state_code,
                    active=True)  # fmt: skip
    return User(email="report@capdb.invalid", role="admin", active=True)


@dataclass(frozen=True)
class StateSection:
    name: str
    figures: HostState


def build(
    db: Session,
    user: User,
    filters: IncidentFilters,
    period: Period,
    *,
    locale: str,
    generated_on: date,
    state_name: str | None,
    today_states: bool = False,
) -> bytes:
    """The report as PDF bytes, in ``locale``, scoped to what ``user`` may see; with
    ``today_states``, a former State's victims counted under today's State."""
    with force_locale(locale):
        figures = Figures(db, user, filters, period, locale, today_states=today_states)
        names = figures.country_names(s.country for s in figures.host_states)
        html = render_template(
            "maps/report.html",
            locale=locale,
            filters=filters,
            state_name=state_name,
            generated_on=generated_on,
            summary=figures.summary(),
            summary_items=summary_items,
            cell_text=cell_text,
            figures=figures.all(),
            states=[StateSection(names.get(s.country, s.country), s) for s in figures.host_states],
        )
    return html_to_pdf(html, own_files=OWN_FILES)
