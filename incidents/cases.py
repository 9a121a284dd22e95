"""Judicial cases: opening them, their defendants, stage events and derived stages."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from auth.models import User
from incidents.models import Incident


def case_panel(db: Session, user: User, incident: Incident) -> dict[str, Any]:
    """What the incident page shows of the incident's cases, for this user."""
    return {}
