"""Saved views: who sees, shares and removes them. Part of the access rule
(:mod:`incidents.policy` re-exports these), kept apart so that each module stays short.

A saved view is a named filter, never data: whoever opens it sees what their own scope
allows. Everyone keeps views of their own; analysts may share theirs with the other
analysts (only while the owner is an analyst), and nobody else sees another's.
"""

from __future__ import annotations

import sqlalchemy as sa

from auth.models import User
from incidents.models import SavedView
from incidents.policy_cases import denying
from incidents.visibility import Condition


def visible_saved_views(user: User | None) -> Condition:
    """The views the user may open: its own, and, for an analyst, those analysts share."""
    if user is None or not user.is_authenticated:
        return sa.false()
    own = SavedView.owner_id == user.id
    if user.role != "analyst":
        return own
    analysts = sa.select(User.id).where(User.role == "analyst").correlate(None)
    return sa.or_(own, sa.and_(SavedView.shared.is_(True), SavedView.owner_id.in_(analysts)))


@denying
def may_share_views(user: User) -> bool:
    """Analysts share views with the other analysts."""
    return user.is_authenticated and user.role == "analyst"


@denying
def may_delete_view(user: User, view: SavedView) -> bool:
    """A view is removed by its owner alone."""
    return user.is_authenticated and view.owner_id == user.id
