"""The justice ladder, and the queries that place each case on it.

A judicial case moves through stages that are not a straight line (an acquittal is not
a conviction, an appeal may follow either). The funnel therefore places every stage on
an explicit ladder of steps, :data:`LADDER`. A case is *at or beyond* a step when one of
its validated, undeleted stage events (of the case or of one of its defendants) sits on
that step or a higher one; the steps in between count as reached even if they were never
recorded (a case charged counts as "arrested"). A case with no counting event, or only
with events that say nothing of progress (closed, suspended, transferred), has reached
"case opened". An incident is at a step when one of its visible cases is. Admins may add
stages to the vocabulary (never retire those below): a stage the ladder does not place says
nothing of progress, until a release places it.

The scope conditions refer to the base ``incidents`` and ``case_incidents`` tables; see
:mod:`maps.stats` for why the queries here join aliases of them.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from auth.models import User
from incidents.models import Incident, JudicialCase, StageEvent, case_incidents
from incidents.policy import visible_cases, visible_incidents


class Step(IntEnum):
    """The steps of the justice funnel, in order."""

    INCIDENT = 0
    CASE_OPENED = 1
    SUSPECT_IDENTIFIED = 2
    ARRESTED = 3
    CHARGED = 4
    TRIED = 5
    CONVICTED = 6


# Stage -> the highest funnel step an event at that stage proves the case reached.
LADDER: dict[str, Step] = {
    "reported": Step.CASE_OPENED,
    "investigation_opened": Step.CASE_OPENED,
    "closed_without_action": Step.CASE_OPENED,
    "suspended": Step.CASE_OPENED,
    "transferred": Step.CASE_OPENED,
    "suspect_identified": Step.SUSPECT_IDENTIFIED,
    "warrant_issued": Step.SUSPECT_IDENTIFIED,
    "arrested": Step.ARRESTED,
    "charged": Step.CHARGED,
    "referred_to_court": Step.CHARGED,
    "trial_opened": Step.TRIED,
    "acquitted": Step.TRIED,
    "appeal": Step.TRIED,
    "final": Step.TRIED,
    "convicted": Step.CONVICTED,
    "sentenced": Step.CONVICTED,
}


# The cases the figures count, live or kept (maps.figure_facts): undeleted ones, once
# validated (a case a Member State opened counts once the mission has validated it).
COUNTED_CASE = sa.and_(JudicialCase.deleted_at.is_(None), JudicialCase.review_status == "validated")

# The steps whose delay from the incident is measured.
TIMED_STEPS = (
    Step.SUSPECT_IDENTIFIED,
    Step.ARRESTED,
    Step.CHARGED,
    Step.TRIED,
    Step.CONVICTED,
)


def cases_of(scoped: sa.Subquery, user: User) -> tuple[sa.FromClause, sa.Select[Any]]:
    """The links from the scoped incidents to their visible cases, and the cases.

    The cases are the base table, so that :func:`visible_cases` tests each joined case;
    the links are an alias, so that the rule's own subqueries keep theirs.
    """
    links = sa.alias(case_incidents, name="links")
    joined = (
        sa.select()
        .select_from(links)
        .join(scoped, scoped.c.id == links.c.incident_id)
        .join(JudicialCase, JudicialCase.id == links.c.case_id)
        .where(visible_cases(user), COUNTED_CASE)
    )
    return links, joined


def stage_progress(cases: sa.Select[Any]) -> sa.Subquery:
    """Per case of ``cases`` (a query of case ids), the highest step its validated events
    prove, and the first day of each timed step (at or beyond it): one pass over those
    cases' events, grouped by case.

    The ladder is joined as a small table, so that each event's step is looked up once
    rather than worked out again for each figure drawn from it.
    """
    ladder = sa.union_all(
        *(
            sa.select(sa.literal(stage).label("stage"), sa.literal(int(step)).label("step"))
            for stage, step in LADDER.items()
        )
    ).subquery("ladder")
    events = aliased(StageEvent, name="counting_events")
    firsts = [
        sa.func.min(sa.case((ladder.c.step >= int(timed), events.occurred_on))).label(
            f"first_{int(timed)}"
        )
        for timed in TIMED_STEPS
    ]
    return (
        sa.select(events.case_id, sa.func.max(ladder.c.step).label("step"), *firsts)
        .join(ladder, ladder.c.stage == events.stage)
        .where(events.case_id.in_(cases))
        .where(events.review_status == "validated", events.deleted_at.is_(None))
        .group_by(events.case_id)
        .subquery("progress")
    )


def case_starts(user: User, cases: sa.Select[Any]) -> sa.Subquery:
    """Per case of ``cases``, the day it started: its earliest incident the viewer sees."""
    return (
        sa.select(case_incidents.c.case_id, sa.func.min(Incident.occurred_on).label("started_on"))
        .join(Incident, Incident.id == case_incidents.c.incident_id)
        .where(case_incidents.c.case_id.in_(cases), visible_incidents(user))
        .group_by(case_incidents.c.case_id)
        .subquery("starts")
    )
