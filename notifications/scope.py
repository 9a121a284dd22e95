"""Which notifications a user reads: its own, about records it still sees.

A notification names a record; should the record be deleted or leave the user's scope
afterwards, the notification is no longer shown, counted or mailed.
"""

from __future__ import annotations

import sqlalchemy as sa

from auth.models import User
from incidents.models import Incident, JudicialCase
from incidents.policy import visible_cases, visible_incidents
from notifications.models import Notification


def visible_notifications(user: User) -> sa.ColumnElement[bool]:
    # Correlated: checked for the user's few notifications, not over every record seen.
    incident_seen = sa.exists().where(
        Incident.id == Notification.incident_id, visible_incidents(user)
    )
    case_seen = sa.exists().where(JudicialCase.id == Notification.case_id, visible_cases(user))
    return sa.and_(Notification.user_id == user.id, sa.or_(incident_seen, case_seen))
