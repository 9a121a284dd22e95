"""What each user may count, in the terms the figures kept for maps and trends are split by.

The same rule as :func:`incidents.visibility.visible_incidents`, for sums that are kept
per verification status, mission and concerned State rather than per incident: the figure
tables of the maps feature hold one share of the undeleted incidents per State they
concern, and every share split by status and mission. A user counts the rows of one share
(everyone's, or their State's) with one of the statuses and missions below. The
equivalence tests hold this rule to the one it restates, role by role.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from auth.models import User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FigureScope:
    """``None`` allows every value; an empty tuple allows none."""

    statuses: tuple[str, ...] | None = ()
    missions: tuple[str, ...] | None = ()
    state: str | None = None  # the State whose share the user reads; None: everyone's


NOTHING = FigureScope()


def figure_scope(user: User | None) -> FigureScope:
    """The rows of the figure tables the user may count; nothing when the rule cannot be
    worked out (an error denies)."""
    try:
        return _scope(user)
    except Exception:
        log.exception("figure scope failed; denying")
        return NOTHING


def _scope(user: User | None) -> FigureScope:
    if user is None or not user.is_authenticated:
        return NOTHING
    validated = ("validated",)
    match user.role:
        case "admin":
            return FigureScope(None, None)
        case "analyst":
            return FigureScope(validated, None)
        case "mission":
            return FigureScope(None, tuple(sorted(user.mission_codes)))
        case "member_state" if user.state_code:
            return FigureScope(validated, None, user.state_code)
    return NOTHING
