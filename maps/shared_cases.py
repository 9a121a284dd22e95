"""The cases that cover several incidents, in the figures of cases: counted one by one,
kept per viewer's scope and filter, and counted again only where they changed.

``figure_cases`` sums the cases of one incident each, as its incident's share; a case that
covers several incidents counts once however many of them a viewer sees, and starts on
the earliest of those: no sum kept per incident can say that, so these cases are counted
from the incidents (:func:`maps.stats.case_progress`). That count grows with them (992 at
100,000 incidents, some 10,000 at a million: half a second), so its sums are kept in this
process, keyed by what decides them: the viewer's figure scope (all analysts share one, as
do the officers of the same missions and the focal points of one State) and the filter.

They are kept with the version of the shared cases they were counted at
(:func:`maps.figure_upkeep.shared_cases_version`), which every change to one of them or to
one of their incidents moves on in its transaction, noting which cases it changed. Kept
sums are split into ``PARTS`` by case id; a reading that finds a newer version counts again
the parts that hold a case changed since (:func:`maps.figure_upkeep.shared_cases_changed`),
and only those: a few hundred cases at a million incidents, rather than all of them. Where
what changed cannot be told (a rebuild, a restored database, changes long forgotten) it
counts them all. A value computed from data newer than its version is never older than what
that version promises, and the next reading counts the newer changes' parts again.

Sums counted in full (as when more than half the parts changed) are also shared with every
process of the deployment (:mod:`capdb.cache`: Redis, or the instance folder), under a
digest of the scope and filter: a new worker starts from them and counts again what changed
since, where it would count all of them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Collection
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from capdb import cache
from incidents.figure_scope import FigureScope, figure_scope
from incidents.filters import IncidentFilters
from maps import stats
from maps.case_tally import CaseSums, sums_of
from maps.figure_upkeep import SharedVersion, shared_cases_changed, shared_cases_version
from maps.models import FigureSharedCase

# Sums kept per process, of so many scopes and filters: some 2 MB each at a million
# incidents (the days each case took to each step: 0.6 MB for all, as much again in parts,
# and the parts' own containers; 64 parts took 3 MB).
KEPT = 32
PARTS = 32  # the kept sums of a scope and filter, split by case id
# What the shared copies were made with: a release that changes how the sums are counted or
# kept changes it, so that no process reads sums another release made.
SUMS_FORMAT = 1

Key = tuple[FigureScope, IncidentFilters]


@dataclass(frozen=True)
class Kept:
    """The sums of one scope and filter at a version: per part, and all parts together."""

    version: SharedVersion
    parts: dict[int, CaseSums]
    total: CaseSums


class _Recent:
    """The most recently used sums, safe to share between a worker's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sums: OrderedDict[Key, Kept] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Key) -> Kept | None:
        with self.lock:
            found = self.sums.get(key)
            if found is not None:
                self.sums.move_to_end(key)
            return found

    def put(self, key: Key, kept: Kept) -> None:
        with self.lock:
            self.sums[key] = kept
            self.sums.move_to_end(key)
            while len(self.sums) > self.size:
                self.sums.popitem(last=False)


_kept = _Recent(KEPT)


def shared_case_sums(db: Session, user: User, filters: IncidentFilters) -> CaseSums:
    """The sums of the visible cases of several incidents that match the filter: kept
    ones while the shared cases' version stands; after a change, the kept ones with the
    parts that hold a changed case counted again; counted afresh otherwise (and kept)."""
    version = shared_cases_version(db)
    if version is None:
        return _summed(count_parts(db, user, filters, None))
    key = (figure_scope(user), filters)
    # A process's own sums, or where it has none (a new worker), those it would count anew.
    found = _kept.get(key) or _shared(key)
    if found is not None and found.version == version:
        _kept.put(key, found)
        return found.total
    changed = shared_cases_changed(db, found.version, version) if found is not None else None
    again = {case_id % PARTS for case_id in changed} if changed is not None else None
    if found is not None and again == set():
        parts, total = found.parts, found.total  # nothing this process sums has changed
    elif found is None or again is None or len(again) > PARTS // 2:
        parts = count_parts(db, user, filters, None)
        total = _summed(parts)
        # Worth sharing: another process (a new worker, another host) starts from it. Only
        # if no change came during the count: such sums hold data newer than their version,
        # which this process counts again with the next change, but which a process started
        # after a restore to that version could not know.
        if shared_cases_version(db) == version:
            cache.share(_shared_key(key), Kept(version, parts, total))
    else:
        counted = count_parts(db, user, filters, again)
        parts, total = dict(found.parts), found.total.copy()
        for part in again:
            if (before := parts.pop(part, None)) is not None:
                total.take(before)
            if (now := counted.get(part)) is not None:
                parts[part] = now
                total.merge(now)
    _kept.put(key, Kept(version, parts, total))
    return total


def _shared(key: Key) -> Kept | None:
    found = cache.shared_value(_shared_key(key))
    return found if isinstance(found, Kept) and isinstance(found.total, CaseSums) else None


def _shared_key(key: Key) -> str:
    return cache.digest("shared case sums", SUMS_FORMAT, PARTS, *key)


def count_parts(
    db: Session, user: User, filters: IncidentFilters, parts: Collection[int] | None
) -> dict[int, CaseSums]:
    """The sums of these parts (None: all), counted from the incidents."""
    among = sa.select(FigureSharedCase.case_id)
    if parts is not None:
        # The cases named, so that the planner knows how few they are (of a condition on
        # their ids' remainder, it expects a handful, and joined their steps in a loop).
        cases = db.scalars(among.where((FigureSharedCase.case_id % PARTS).in_(sorted(parts))))
        among = sa.select(FigureSharedCase.case_id).where(FigureSharedCase.case_id.in_(cases.all()))
    progress = defaultdict(list)
    for case in stats.case_progress(db, user, filters, among=among):
        progress[case.case_id % PARTS].append(case)
    return {part: sums_of(cases) for part, cases in progress.items()}


def _summed(parts: dict[int, CaseSums]) -> CaseSums:
    total = CaseSums()
    for sums in parts.values():
        total.merge(sums)
    return total
