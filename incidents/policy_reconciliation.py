"""The access rule for the UN's published figures and their reconciliation with capdb's:
who loads the UN's data, who reconciles and who explains a difference, and which UN rows
each user sees (as SQL conditions, like :mod:`incidents.visibility`).

The reconciliation is scoped like every figure: capdb's side counts the victims the user
may see (:func:`incidents.policy.visible_victims`); the UN's side, the casualties that
concern what the user sees: a mission officer's missions, a focal point's State (its
nationals, and the missions it hosts); HQ analysts and admins see all.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from auth.models import User
from capdb.reference import mission_hosts
from incidents.un_figures import ReconciliationNote, UnFatality

log = logging.getLogger(__name__)
Condition = sa.ColumnElement[bool]
HQ = ("admin", "analyst")


def _role(user: User | None) -> str | None:
    try:
        return user.role if user is not None and user.is_authenticated else None
    except Exception:
        log.exception("access rule on the UN's figures failed; denying")
        return None


def may_load_un_figures(user: User | None) -> bool:
    """HQ analysts and admins load the UN's data."""
    return _role(user) in HQ


def may_reconcile(user: User | None) -> bool:
    """Everyone who reads figures reconciles them, within their scope."""
    role = _role(user)
    if role == "member_state":
        return bool(getattr(user, "state_code", None))
    return role in (*HQ, "mission")


def may_explain(user: User | None) -> bool:
    """HQ analysts and admins explain a difference."""
    return _role(user) in HQ


def _hosted_by(state: str) -> sa.Select[tuple[str]]:
    return (
        sa.select(mission_hosts.c.mission_code)
        .where(mission_hosts.c.country_code == state)
        .correlate(None)
    )


def visible_un_fatalities(user: User | None) -> Condition:
    """The UN's casualties the user reconciles."""
    try:
        match _role(user):
            case "admin" | "analyst":
                return sa.true()
            case "mission":
                return UnFatality.mission_code.in_(sorted(user.mission_codes))  # type: ignore[union-attr]
            case "member_state" if user is not None and user.state_code:
                state = user.state_code
                return sa.or_(
                    UnFatality.nationality_code == state,
                    UnFatality.mission_code.in_(_hosted_by(state)),
                )
    except Exception:
        log.exception("access rule visible_un_fatalities failed; denying")
    return sa.false()


def visible_notes(user: User | None) -> Condition:
    """The explanations the user reads: those of what the user reconciles."""
    try:
        match _role(user):
            case "admin" | "analyst":
                return sa.true()
            case "mission":
                return ReconciliationNote.mission_code.in_(sorted(user.mission_codes))  # type: ignore[union-attr]
            case "member_state" if user is not None and user.state_code:
                state = user.state_code
                return sa.or_(
                    ReconciliationNote.nationality_code == state,
                    ReconciliationNote.mission_code.in_(_hosted_by(state)),
                )
    except Exception:
        log.exception("access rule visible_notes failed; denying")
    return sa.false()
