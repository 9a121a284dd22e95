"""The rules an incident and its victims obey however they are recorded: on the form
(:mod:`incidents.recording.forms`), through the API (:mod:`incidents.recording.schemas`) or
by importing a spreadsheet (:mod:`incidents.transfer.importing`).

Each of those reads its own input (form fields, JSON, cells) into plain values named as
the model's attributes (as in :class:`incidents.recording.service.IncidentFields`), None for a
value missing or unreadable, which it reports itself. The rules here relate the values to
each other and to the reference data. Their problems are keyed by the name the three
interfaces give the field (``country``, not ``country_code``), with the reasons in the
user's language; an interface leaves out a problem of a field it already refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, time, timedelta
from typing import Any

from flask_babel import gettext as _

from capdb.clock import now
from capdb.reference import Mission
from capdb.vocabularies import PERSONNEL_CATEGORY
from incidents.fields import Field

Problems = dict[str, list[str]]

# The most victims an incident takes, whichever way it is recorded (the longest texts are
# declared with the fields, in incidents.fields).
MAX_VICTIMS = 200
# UN peacekeeping began with UNTSO in 1948; an earlier date is a typing error.
EARLIEST_DATE = date(1948, 1, 1)


def latest_date() -> date:
    """Today somewhere on Earth: the date may not be later.

    Compared with the UTC date, an incident recorded early in the morning east of
    Greenwich would otherwise be refused as being in the future.
    """
    return (now() + timedelta(hours=14)).date()


# The incident -------------------------------------------------------------------------------


def incident_problems(
    values: Mapping[str, Any], *, mission: Mission | None, latest: date | None = None
) -> Problems:
    """What is wrong between the incident's values, and with its mission (None when the
    mission is unknown, which the interface reports)."""
    problems: Problems = {}
    occurred_on = values.get("occurred_on")
    if occurred_on is not None:
        _note(problems, "occurred_on", date_problem(occurred_on, mission, latest=latest))
    _note(
        problems,
        "occurred_time",
        time_problem(values.get("occurred_time"), values.get("date_precision")),
    )
    if mission is not None and country_where(values.get("country_code"), mission) is None:
        problems["country"] = [_("Choose the country where it happened.")]
    problems.update(coordinate_problems(values.get("latitude"), values.get("longitude")))
    return problems


def date_problem(day: date, mission: Mission | None, *, latest: date | None = None) -> str | None:
    """Not in the future, nor outside the mission's years."""
    if day > (latest or latest_date()):
        return str(_("The date cannot be in the future."))
    if day < EARLIEST_DATE:
        return str(_("The date is before the first peacekeeping mission."))
    if mission is None or mission.operated_on(day):
        return None
    return mission_period(mission)


def mission_period(mission: Mission) -> str:
    """Why a date outside the mission's period is refused, with the mission's own dates:
    a closed mission stays recordable for dates within them."""
    start = mission.started_on.isoformat()
    if mission.ended_on is None:
        return str(
            _(
                "%(mission)s has operated since %(start)s; give a date from then on.",
                mission=mission.code,
                start=start,
            )
        )
    return str(
        _(
            "%(mission)s operated from %(start)s to %(end)s; give a date within that period.",
            mission=mission.code,
            start=start,
            end=mission.ended_on.isoformat(),
        )
    )


def time_problem(occurred_time: time | None, date_precision: str | None) -> str | None:
    """A time only with an exact date and time (no judgement on a precision refused)."""
    if occurred_time is not None and date_precision not in (None, "exact"):
        return str(_("A time is given only with an exact date and time."))
    return None


def country_where(country_code: str | None, mission: Mission | None) -> str | None:
    """The country given or, left blank, the mission's first host State."""
    if country_code:
        return country_code
    if mission is not None and mission.hosts:
        return mission.hosts[0].code
    return None


def coordinate_problems(latitude: float | None, longitude: float | None) -> Problems:
    """Both or neither, each in its range."""
    problems: Problems = {}
    if latitude is not None and not -90 <= latitude <= 90:
        problems["latitude"] = [_("A latitude is between -90 and 90.")]
    if longitude is not None and not -180 <= longitude <= 180:
        problems["longitude"] = [_("A longitude is between -180 and 180.")]
    if latitude is None and longitude is not None:
        problems["latitude"] = [_("Give the latitude with the longitude.")]
    if longitude is None and latitude is not None:
        problems["longitude"] = [_("Give the longitude with the latitude.")]
    return problems


# Its victims ---------------------------------------------------------------------------------


def victim_problems(
    values: Mapping[str, Any], *, incident_date: date | None, latest: date | None = None
) -> Problems:
    """What is wrong between a victim's values, and with the date of its incident (None
    when not known)."""
    problems: Problems = {}
    _note(
        problems,
        "contributing_country",
        contributing_country_problem(
            values.get("category"), values.get("contributing_country_code")
        ),
    )
    death = values.get("date_of_death")
    if death is not None:
        _note(
            problems,
            "date_of_death",
            date_of_death_problem(
                death, values.get("outcome"), incident_date=incident_date, latest=latest
            ),
        )
    return problems


def contributing_country_problem(category: str | None, contributing: str | None) -> str | None:
    """Uniformed personnel, and only they, have the country that contributed them."""
    uniformed = PERSONNEL_CATEGORY.uniformed
    if category in uniformed and not contributing:
        return str(
            _("Give the country that contributed this uniformed person's contingent or unit.")
        )
    if category in PERSONNEL_CATEGORY and category not in uniformed and contributing:
        return str(_("Only uniformed personnel have a contributing country."))
    return None


def date_of_death_problem(
    death: date, outcome: str | None, *, incident_date: date | None, latest: date | None = None
) -> str | None:
    """Only for a victim who was killed (no judgement on an outcome refused), not before
    the incident nor in the future."""
    if outcome not in (None, "killed"):
        return str(_("A date of death is given only for a victim who was killed."))
    if incident_date is not None and death < incident_date:
        return str(_("The date of death cannot be before the incident."))
    if death > (latest or latest_date()):
        return str(_("The date cannot be in the future."))
    return None


# Retired terms -------------------------------------------------------------------------------


def retired_problems(
    values: Mapping[str, Any], declared: tuple[Field, ...], stored: Mapping[str, Any] | None
) -> Problems:
    """A retired term is hidden from new records and kept on old ones: refused unless the
    record already holds it (``stored``, its values by model attribute; None for a new one)."""
    problems: Problems = {}
    for field in declared:
        vocabulary = field.vocabulary
        value = values.get(field.model_attribute)
        if vocabulary is None or not vocabulary.is_retired(value):
            continue
        if stored is None or stored.get(field.model_attribute) != value:
            problems[field.name] = [_("This value is no longer used; choose another.")]
    return problems


def _note(problems: Problems, name: str, reason: str | None) -> None:
    if reason is not None:
        problems[name] = [reason]
