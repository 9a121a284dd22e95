"""The periodic report: the trend figures and a section per host State, as a PDF.

The report is rendered by WeasyPrint from ``maps/report.html``. Its fetcher loads only
``data:`` URLs and files of this package's templates: nothing from another host, and no
file elsewhere on the server, ever ends up in a PDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from auth.models import User
from incidents.filters import IncidentFilters
from maps.charts import Figures, cell_text, summary_items
from maps.stats import HostState, Period

OWN_FILES = Path(__file__).resolve().parent / "templates" / "maps"


class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
    """Fetches ``data:`` URLs and the report's own files; refuses everything else."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("data:") or _own_file(url):
            return super().fetch(url, headers)
        raise ValueError(f"the report embeds no outside resource: {url[:200]}")


def _own_file(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    return Path(url2pathname(parts.path)).resolve().is_relative_to(OWN_FILES)


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
) -> bytes:
    """The report as PDF bytes, in ``locale``, scoped to what ``user`` may see."""
    with force_locale(locale):
        figures = Figures(db, user, filters, period, locale)
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
    document = HTML(string=html, base_url=str(OWN_FILES), url_fetcher=LocalOnlyFetcher())
    pdf: bytes = document.write_pdf()
    return pdf
