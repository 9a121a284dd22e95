"""How many incidents a filter finds, for the lists, the API and the exports.

Counted exactly up to :data:`EXACT_UP_TO`; beyond, a list says "more than 10,000" unless
the exact figure is asked for (``count=exact``): counting every row of a large scope costs
more than the page itself, and nobody needs the units digit of 95,231 to read a list.
The query is the list's own (:func:`incidents.filters.listed_incidents`, or an export's
:func:`incidents.filters.scoped_incidents`), so the total never counts an incident the
viewer could not open.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from incidents.models import Incident

EXACT_UP_TO = 10_000


@dataclass(frozen=True)
class Total:
    """A count of incidents: exact, or a lower bound (``exact`` False: more than ``count``)."""

    count: int
    exact: bool = True

    def label(self) -> str:
        """ "1,234 incidents" (in the viewer's language), or "More than 10,000 incidents"."""
        number = format_number(self.count)
        if not self.exact:
            return str(_("More than %(count)s incidents", count=number))
        return str(ngettext("%(count)s incident", "%(count)s incidents", self.count, count=number))


def total(db: Session, query: sa.Select[Incident], *, exact: bool = False) -> Total:
    """How many incidents ``query`` finds: exactly, or up to :data:`EXACT_UP_TO` and then
    "more than" unless ``exact``."""
    found = query.with_only_columns(Incident.id).order_by(None)
    if not exact:
        found = found.limit(EXACT_UP_TO + 1)
    count = db.scalar(sa.select(sa.func.count()).select_from(found.subquery())) or 0
    if not exact and count > EXACT_UP_TO:
        return Total(EXACT_UP_TO, exact=False)
    return Total(count)
