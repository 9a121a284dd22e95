"""Comments and requests for clarification between Member States and missions."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from auth.models import User
from incidents.models import Incident


def comment_panel(db: Session, user: User, incident: Incident) -> dict[str, Any]:
    """What the incident page shows of its comments, for this user."""
    return {}
