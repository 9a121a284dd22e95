"""The cases that cover several incidents, in the figures of cases: counted one by one, and
kept per viewer's scope and filter until one of them changes.

``figure_cases`` sums the cases of one incident each, as its incident's share; a case that
covers several incidents counts once however many of them a viewer sees, and starts on
the earliest of those: no sum kept per incident can say that, so these cases are counted
from the incidents (:func:`maps.stats.case_progress`). That count grows with them (992 at
100,000 incidents, some 10,000 at a million: most of a second), so its sums are kept in
this process, keyed by what decides them: the viewer's figure scope (all analysts share
one, as do the officers of the same missions and the focal points of one State), the
filter, and the version of the shared cases
(:func:`maps.figure_upkeep.shared_cases_version`), which every change to one of them or to
one of their incidents renews in its transaction. A reading after a change, the writer's
own included, finds a new version and counts again; a value computed from data newer than
its version is never older than what that version promises.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from incidents.figure_scope import FigureScope, figure_scope
from incidents.filters import IncidentFilters
from maps import stats
from maps.case_tally import CaseSums, sums_of
from maps.figure_upkeep import shared_cases_version
from maps.models import FigureSharedCase

KEPT = 256  # sums kept per process: a few hundred scopes and filters, a few kB each

Key = tuple[FigureScope, IncidentFilters, int]


class _Kept:
    """The most recently used sums, safe to share between a worker's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sums: OrderedDict[Key, CaseSums] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Key) -> CaseSums | None:
        with self.lock:
            found = self.sums.get(key)
            if found is not None:
                self.sums.move_to_end(key)
            return found

    def put(self, key: Key, sums: CaseSums) -> None:
        with self.lock:
            self.sums[key] = sums
            self.sums.move_to_end(key)
            while len(self.sums) > self.size:
                self.sums.popitem(last=False)


_kept = _Kept(KEPT)


def shared_case_sums(db: Session, user: User, filters: IncidentFilters) -> CaseSums:
    """The sums of the visible cases of several incidents that match the filter: kept
    ones while the shared cases' version stands, counted otherwise (and then kept)."""
    version = shared_cases_version(db)
    if version is None:
        return count(db, user, filters)
    key = (figure_scope(user), filters, version)
    if (found := _kept.get(key)) is not None:
        return found
    counted = count(db, user, filters)
    _kept.put(key, counted)
    return counted


def count(db: Session, user: User, filters: IncidentFilters) -> CaseSums:
    """The sums counted from the incidents, as after a change (what a reading then costs)."""
    among = sa.select(FigureSharedCase.case_id)
    return sums_of(stats.case_progress(db, user, filters, among=among))
