"""The kinds of event people are told about, and their words in each language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from notifications.models import DELIVERIES, KINDS

# What a user chooses for a kind, on the preferences page.
KIND_LABELS = {
    "incident_submitted": _l("An incident of my mission is submitted for validation"),
    "incident_validated": _l("An incident concerning my State is validated"),
    "incident_returned": _l("An incident I recorded is returned to me"),
    "stage_changed": _l("The stage of a case I follow changes"),
    "update_pending": _l("A Member State's progress update waits for validation"),
    "update_validated": _l("My progress update is validated"),
    "update_rejected": _l("My progress update is refused"),
    "clarification_requested": _l("A request for clarification is addressed to me"),
    "clarification_answered": _l("My request for clarification is answered"),
}

# What happened, in a mail or on the notifications page, after the record's name.
EVENT_LABELS = {
    "incident_submitted": _l("submitted for validation"),
    "incident_validated": _l("validated"),
    "incident_returned": _l("returned to its author"),
    "stage_changed": _l("stage changed"),
    "update_pending": _l("a progress update waits for validation"),
    "update_validated": _l("your progress update was validated"),
    "update_rejected": _l("your progress update was refused"),
    "clarification_requested": _l("a request for clarification was opened"),
    "clarification_answered": _l("your request for clarification was answered"),
}

DELIVERY_LABELS = {
    "immediate": _l("At once"),
    "daily": _l("Daily digest"),
    "weekly": _l("Weekly digest"),
    "never": _l("Never by mail"),
}

assert set(KIND_LABELS) == set(EVENT_LABELS) == set(KINDS)  # noqa: S101
assert set(DELIVERY_LABELS) == set(DELIVERIES)  # noqa: S101

# The kinds each role can be told of, as the preferences page offers them.
ROLE_KINDS = {
    "mission": (
        "incident_submitted",
        "incident_returned",
        "update_pending",
        "clarification_requested",
        "clarification_answered",
    ),
    "member_state": (
        "incident_validated",
        "stage_changed",
        "update_validated",
        "update_rejected",
        "clarification_requested",
        "clarification_answered",
    ),
    "analyst": (),
    "admin": KINDS,
}
