"""What each role's home (``/`` once signed in, :func:`notifications.views.home`) offers
beside its work queues: where the role's work is, first things first.

Visitors get the sign-in page at ``/`` instead (see ``capdb.app``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _

from auth.models import User
from capdb.i18n import current_locale
from incidents import policy


@dataclass(frozen=True)
class Task:
    label: str
    url: str
    description: str


def tasks(user: User) -> list[Task]:
    """What the user comes to do, first things first."""
    found: list[Task] = []
    if policy.may_record_incidents(user):
        found += [
            Task(
                _("Record an incident"),
                url_for("recording.new"),
                _("With its victims, as a draft you submit for validation."),
            ),
            Task(
                _("Incidents to validate"),
                url_for("incidents.index", status="submitted"),
                _("Submitted by another officer of your mission."),
            ),
        ]
    if user.role == "member_state":
        state = user.state.name(current_locale()) if user.state else ""
        found.append(
            Task(
                _("Incidents concerning %(state)s", state=state),
                url_for("incidents.index"),
                _("Validated incidents, their victims and the cases that follow them."),
            )
        )
    else:
        found.append(
            Task(
                _("Incidents"),
                url_for("incidents.index"),
                _("The list, filtered and searched, with its total and downloads."),
            )
        )
    found += [
        Task(_("Map"), url_for("maps.index"), _("Where incidents happened, by country and area.")),
        Task(
            _("Trends"),
            url_for("trends.index"),
            _("Figures and charts over time, and the periodic report."),
        ),
        Task(
            _("Saved views"),
            url_for("saved_views.index"),
            _("The filters you named, to open again."),
        ),
    ]
    if user.role == "admin":
        found.append(
            Task(_("Users"), url_for("admin.users"), _("Accounts, roles, missions and States."))
        )
    return found
