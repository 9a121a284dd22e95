"""The access rule for reference data and the UN's published figures: who keeps the
missions, vocabularies and countries, and who reconciles capdb's figures with the UN's.

Kept beside :mod:`incidents.policy` (which is full) and answering the same way: one small
function per verb, an error inside denies.
"""

from __future__ import annotations

import logging

from auth.models import User

log = logging.getLogger(__name__)


def may_keep_reference_data(user: User | None) -> bool:
    """Admins add, change, close and delete missions and keep vocabularies and countries."""
    try:
        return user is not None and user.is_authenticated and user.role == "admin"
    except Exception:
        log.exception("access rule may_keep_reference_data failed; denying")
        return False


def may_read_reference_data(user: User | None) -> bool:
    """Every signed-in user reads the missions, vocabularies and countries."""
    try:
        return user is not None and user.is_authenticated
    except Exception:
        log.exception("access rule may_read_reference_data failed; denying")
        return False
