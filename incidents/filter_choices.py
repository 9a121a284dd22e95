"""The options of the incident filter form, labelled in the viewer's language.

The incident list, the map and the trends dashboard show the same filter form; its
options are read here, beside the filter (:mod:`incidents.filters`), not in any of their
views.
"""

from __future__ import annotations

import sqlalchemy as sa

from auth.models import User
from capdb.i18n import current_locale
from capdb.reference import PLACES, Country, mission_codes_among
from capdb.vocabularies import JUDICIAL_STAGE, MEANS_OF_ATTACK, OUTCOME, VERIFICATION_STATUS
from incidents import policy


def filter_choices(session: sa.orm.Session, user: User) -> dict[str, list[tuple[str, str]]]:
    """The options of the filter form, labelled in the viewer's language."""
    locale = current_locale()
    # A mission officer looks among its own missions' incidents; others among all.
    missions = mission_codes_among(session, policy.missions_seen(user))
    states = country_choices(session, locale)
    if user.role == "member_state":
        # The focal point's own State first, before the world's.
        states = sorted(states, key=lambda choice: choice[0] != user.state_code)
    return {
        "own_missions": [(code, code) for code in missions] if user.role == "mission" else [],
        "mission": [(code, code) for code in missions],
        "state": states,
        "means_of_attack": [(t.code, t.label(locale)) for t in MEANS_OF_ATTACK],
        "outcome": [(t.code, t.label(locale)) for t in OUTCOME],
        "stage": [(t.code, t.label(locale)) for t in JUDICIAL_STAGE],
        # Only those who see incidents before validation choose among statuses.
        "status": (
            [(t.code, t.label(locale)) for t in VERIFICATION_STATUS]
            if policy.sees_unvalidated(user)
            else []
        ),
    }


def preset_filter(user: User) -> dict[str, str]:
    """What the list, map and trends pages filter on when opened from the menu: a focal
    point's own State, a mission officer's mission (when it has one; with several, its
    scope already holds them all). Removable: any query replaces it."""
    if user.role == "member_state" and user.state_code:
        return {"state": user.state_code}
    missions = policy.missions_seen(user)
    if user.role == "mission" and missions is not None and len(missions) == 1:
        return {"mission": next(iter(missions))}
    return {}


def country_choices(session: sa.orm.Session, locale: str) -> list[tuple[str, str]]:
    """Every State an incident may concern (today's and former ones, not the nationality
    statuses), by name in the locale; kept for the process until admins change a name."""
    generation = tuple(
        session.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Country.version), 0))
        ).one()
    )
    kept = _country_choices.get(locale)
    if kept is None or kept[0] != generation:
        countries = session.execute(
            sa.select(Country.code, Country.name_en, Country.name_fr).where(
                Country.kind.in_(sorted(PLACES))
            )
        )
        named = ((code, fr if locale == "fr" else en) for code, en, fr in countries)
        kept = (generation, sorted(named, key=lambda choice: choice[1]))
        _country_choices[locale] = kept
    return kept[1]


_country_choices: dict[str, tuple[tuple[int, ...], list[tuple[str, str]]]] = {}
