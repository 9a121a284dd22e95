"""How many incidents a filter finds, for the lists, the API and the exports.

Counted exactly up to :data:`EXACT_UP_TO`; beyond, a list says "more than 10,000" unless
the exact figure is asked for (``count=exact``): counting every row of a large scope costs
more than the page itself, and nobody needs the units digit of 95,231 to read a list.
The query is the list's own (:func:`incidents.filters.listed_incidents`, or an export's
:func:`incidents.filters.scoped_incidents`), so the total never counts an incident the
viewer could not open.

Where the sums kept for maps and trends answer the viewer's filter (no text search, dates
on whole months...), they give the exact total at once instead, whatever the number of
incidents: counting 10,001 of a focal point's 370,000 incidents at a million took 88 ms.
The composition root connects them (:func:`count_kept_with`); the equivalence tests hold
both ways to the same figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from auth.models import User
from incidents.models import Incident

if TYPE_CHECKING:
    from incidents.filters import IncidentFilters

EXACT_UP_TO = 10_000

# How many incidents a viewer sees that match a filter, from kept sums; None where they
# cannot answer.
KeptCount = Callable[[Session, User, "IncidentFilters"], int | None]
_kept_counts: list[KeptCount] = []


def count_kept_with(counter: KeptCount) -> None:
    """Let ``counter`` give totals from the sums it keeps (idempotent)."""
    if counter not in _kept_counts:
        _kept_counts.append(counter)


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


def total(
    db: Session,
    query: sa.Select[Incident],
    *,
    exact: bool = False,
    seen_by: tuple[User, IncidentFilters] | None = None,
) -> Total:
    """How many incidents ``query`` finds: exactly, or up to :data:`EXACT_UP_TO` and then
    "more than" unless ``exact``; from the kept sums where they answer ``seen_by``, the
    viewer and filter the query lists."""
    if seen_by is not None:
        for counter in _kept_counts:
            if (kept := counter(db, *seen_by)) is not None:
                return Total(kept)
    found = query.with_only_columns(Incident.id).order_by(None)
    if not exact:
        found = found.limit(EXACT_UP_TO + 1)
    count = db.scalar(sa.select(sa.func.count()).select_from(found.subquery())) or 0
    if not exact and count > EXACT_UP_TO:
        return Total(EXACT_UP_TO, exact=False)
    return Total(count)
