"""The cases that cover several incidents, in the figures of cases: counted one by one,
kept per viewer's scope and filter, and counted again only where they changed.

``figure_cases`` sums the cases of one incident each, as its incident's share; a case that
covers several incidents counts once however many of them a viewer sees, and starts on
the earliest of those: no sum kept per incident can say that, so these cases are counted
from the incidents (:func:`count_cases`). That count grows with them (992 at 100,000
incidents, some 10,000 at a million: a quarter of a second), so its sums are kept in this
process, keyed by what decides them: the viewer's figure scope (all analysts share one, as
do the officers of the same missions and the focal points of one State) and the filter.

They are kept with the version of the shared cases they were counted at
(:func:`maps.figure_upkeep.shared_cases_version`), which every change to one of them or to
one of their incidents moves on in its transaction, noting which cases it changed; and with
what each case added to them (:class:`Shares`). A reading that finds a newer version takes
away what the cases changed since (:func:`maps.figure_upkeep.shared_cases_changed`) had
added, and adds what they add now, counted again: the cases a change touched, whatever the
number of the others. Where what changed cannot be told (a rebuild, a restored database,
changes long forgotten), or more changed than is worth counting one by one, it counts them
all. A value computed from data newer than its version is never older than what that
version promises, and the next reading counts the newer changes' cases again.

Sums counted in full, and those counted again ``SHARE_EVERY`` versions after, are also shared
with every process of the deployment (:mod:`capdb.cache`: Redis, or the instance folder),
under a digest of the scope and filter: a new worker starts from them and counts again what
changed since, where it would count all of them.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from auth.models import User
from capdb import cache
from incidents.figure_scope import FigureScope, figure_scope
from incidents.filters import IncidentFilters, scoped_incidents
from incidents.models import Incident, JudicialCase, case_incidents
from incidents.policy import visible_cases, visible_incidents
from maps import stats
from maps.case_tally import CaseSums
from maps.figure_upkeep import SharedVersion, shared_cases_changed, shared_cases_version
from maps.ladder import COUNTED_CASE, TIMED_STEPS, Step
from maps.models import FigureSharedCase
from maps.stats import CaseProgress

# Sums kept per process, of so many scopes and filters: some 1 MB each at a million
# incidents (the days each case took to each step: 0.6 MB; what each case added: 0.4 MB).
KEPT = 32
# Past so many changed cases, a reading counts them all (one statement) rather than these.
COUNT_ALL_ABOVE = 1000
# Sums counted again are shared anew once so many versions newer than the shared copy, so
# that a new worker (gunicorn replaces each after some 2,000 requests) starts from recent
# ones, rather than counting them all once 1,000 cases changed since the last full count.
SHARE_EVERY = 100
# What the shared copies were made with: a release that changes how the sums are counted or
# kept changes it, so that no process reads sums another release made.
SUMS_FORMAT = 2

Key = tuple[FigureScope, IncidentFilters]

NOT_REACHED = -(2**31)  # the days to a step a case has not reached, in an array of int32
WIDTH = 2 + len(TIMED_STEPS)  # per case: its countries, whether convicted, days to each step


@dataclass(frozen=True)
class Shares:
    """What each counted case added to the sums, in arrays by case id: 36 bytes a case
    (some 300 as tuples). Never changed: :meth:`replaced` makes new ones."""

    ids: array[int]  # ascending
    rows: array[int]  # WIDTH per case: its countries' index, convicted, the days to each step
    countries: tuple[frozenset[str], ...]  # each set of countries its cases' incidents are in

    @classmethod
    def of(cls, cases: Iterable[CaseProgress]) -> Shares:
        shares = cls(array("q"), array("i"), ())
        return shares.replaced((), cases)

    def sums(self, case_ids: Iterable[int] | None = None) -> CaseSums:
        """The sums of these cases (None: all)."""
        sums = CaseSums()
        if case_ids is None:
            places: Iterable[int] = range(len(self.ids))
        else:
            found = ((bisect_left(self.ids, case_id), case_id) for case_id in set(case_ids))
            places = [place for place, case_id in found if self._holds(place, case_id)]
        for place in places:
            countries, convicted, *days = self.rows[place * WIDTH : (place + 1) * WIDTH]
            taken = [None if d == NOT_REACHED else d for d in days]
            sums.add(self.countries[countries], bool(convicted), taken)
        return sums

    def replaced(self, case_ids: Collection[int], cases: Iterable[CaseProgress]) -> Shares:
        """These shares, less those of ``case_ids``, with those of ``cases`` (counted
        again: a changed case counted no more, such as one deleted, is gone). Copied a
        slice at a time, between the cases that change."""
        counted = {case.case_id: case for case in cases}
        countries = {group: index for index, group in enumerate(self.countries)}
        ids, rows, start = array("q"), array("i"), 0
        for case_id in sorted({*case_ids, *counted}):
            place = bisect_left(self.ids, case_id, start)
            ids += self.ids[start:place]
            rows += self.rows[start * WIDTH : place * WIDTH]
            start = place + self._holds(place, case_id)  # its old share is left out
            if (case := counted.get(case_id)) is not None:
                ids.append(case_id)
                rows.append(countries.setdefault(case.countries, len(countries)))
                rows.append(case.step >= Step.CONVICTED)
                for step in TIMED_STEPS:
                    days = case.days_to(step)
                    rows.append(NOT_REACHED if days is None else days)
        ids += self.ids[start:]
        rows += self.rows[start * WIDTH :]
        return Shares(ids, rows, tuple(countries))

    def _holds(self, place: int, case_id: int) -> bool:
        return place < len(self.ids) and self.ids[place] == case_id


@dataclass(frozen=True)
class Kept:
    """The sums of one scope and filter at a version, and what each case added to them."""

    version: SharedVersion
    shares: Shares
    total: CaseSums
    shared: int | None  # the serial of the version of the copy in the shared cache, if any


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
    changed cases counted again; counted afresh otherwise (and kept)."""
    version = shared_cases_version(db)
    if version is None:
        return Shares.of(count_cases(db, user, filters, None)).sums()
    key = (figure_scope(user), filters)
    # A process's own sums, or where it has none (a new worker), those it would count anew.
    found = _kept.get(key) or _shared(key)
    if found is not None and found.version == version:
        _kept.put(key, found)
        return found.total
    changed = shared_cases_changed(db, found.version, version) if found is not None else None
    if found is not None and changed == set():
        shares, total, shared = found.shares, found.total, found.shared  # none has changed
    elif found is None or changed is None or len(changed) > COUNT_ALL_ABOVE:
        shares = Shares.of(count_cases(db, user, filters, None))
        total, shared = shares.sums(), None
    else:
        shares = found.shares.replaced(changed, count_cases(db, user, filters, changed))
        total = found.total.copy()
        total.take(found.shares.sums(changed))
        total.merge(shares.sums(changed))
        shared = found.shared
    # Worth sharing, once counted in full or SHARE_EVERY versions after the shared copy:
    # another process (a new worker, another host) starts from it. Only if no change came
    # during the count: such sums hold data newer than their version, which this process
    # counts again with the next change, but which a process started after a restore to that
    # version could not know.
    stale = shared is None or version.serial - shared >= SHARE_EVERY
    if stale and shared_cases_version(db) == version:
        cache.share(_shared_key(key), Kept(version, shares, total, version.serial))
        shared = version.serial
    _kept.put(key, Kept(version, shares, total, shared))
    return total


def _shared(key: Key) -> Kept | None:
    found = cache.shared_value(_shared_key(key))
    return found if isinstance(found, Kept) and isinstance(found.shares, Shares) else None


def _shared_key(key: Key) -> str:
    return cache.digest("shared case sums", SUMS_FORMAT, *key)


def count_cases(
    db: Session, user: User, filters: IncidentFilters, case_ids: Collection[int] | None
) -> list[CaseProgress]:
    """These cases of several incidents (None: all), counted from their incidents.

    Each case's visible incidents are read once, with whether each matches the filter: a
    case counts if one does, starts on the earliest of them all and is in the countries of
    those that match (as :func:`maps.stats.case_progress` counts every case). The shared
    cases are few, so this costs less than finding the filter's incidents and then their
    cases: at a million incidents, 190 ms of SQL for all of them, against 390.

    A step validated between the two statements may show here before its case's next
    reading; the version it moves on has that reading count the case again.
    """
    candidates = sa.select(FigureSharedCase.case_id)
    if case_ids is not None:
        candidates = candidates.where(FigureSharedCase.case_id.in_(sorted(case_ids)))
    links = sa.alias(case_incidents, name="links")
    matching = scoped_incidents(user, filters).with_only_columns(Incident.id).subquery("matching")
    rows = db.execute(
        sa.select(links.c.case_id, Incident.occurred_on, Incident.country_code, matching.c.id)
        .select_from(links)
        .join(Incident, Incident.id == links.c.incident_id)
        .join(JudicialCase, JudicialCase.id == links.c.case_id)
        .join(matching, matching.c.id == Incident.id, isouter=True)
        .where(links.c.case_id.in_(candidates), visible_incidents(user))
        .where(visible_cases(user), COUNTED_CASE)
    )
    started: dict[int, date] = {}
    countries: dict[int, set[str]] = defaultdict(set)
    incidents: dict[int, set[int]] = defaultdict(set)
    for case_id, occurred_on, country, matched in rows:
        started[case_id] = min(occurred_on, started.get(case_id, occurred_on))
        if matched is not None:
            countries[case_id].add(country)
            incidents[case_id].add(matched)
    steps = stats.case_steps(db, candidates)
    return [
        stats.progress_of(case_id, incidents[case_id], countries[case_id], started[case_id], steps)
        for case_id in incidents
    ]
