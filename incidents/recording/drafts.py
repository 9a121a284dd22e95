"""Drafts recorded in the browser: the key of each one, claimed as the API claims it.

The incident form's script gives every draft a key when it starts (a UUID, kept with the
draft in the browser's offline store). The form sends it along; a new incident saved with
a key claims it, in the same transaction, as an ``Idempotency-Key`` of the API's create
would be claimed. A browser that lost the answer to the form (the link dropped) sends the
draft again through the API, from its outbox, with the same key: it gets the incident the
form recorded, and nothing is recorded twice. The form, sent again with the key, leads to
that incident too.
"""

from __future__ import annotations

import contextlib
import json

from flask import current_app
from sqlalchemy.orm import Session

from auth.models import User
from incidents.api import idempotency, resources
from incidents.api.blueprint import PREFIX
from incidents.models import IdempotencyKey, Incident
from incidents.recording.schemas import IncidentSchema

CREATE_PATH = f"{PREFIX}/incidents"
CREATED = 201


def claim(db: Session, user: User, key: str | None) -> tuple[IdempotencyKey | None, int | None]:
    """The entry to give the new incident's answer (:func:`answer`), or the id of the
    incident recorded earlier with this key; neither without a usable key."""
    if not key or not idempotency.is_key(key):
        return None, None
    entry, fresh = idempotency.claim(db, user, key, idempotency.FORM_DIGEST, "POST", CREATE_PATH)
    if fresh:
        return entry, None
    return None, recorded_id(entry)


def recorded_id(entry: IdempotencyKey) -> int | None:
    """The incident an earlier create with the key recorded, if that is what it did."""
    if entry.status_code != CREATED or (entry.method, entry.path) != ("POST", CREATE_PATH):
        return None
    with contextlib.suppress(ValueError, TypeError, KeyError):
        return int(json.loads(entry.body)["id"])
    return None


def answer(entry: IdempotencyKey, user: User, incident: Incident) -> None:
    """Keep, under the key, what the API's create would have answered."""
    entry.status_code = CREATED
    entry.body = current_app.json.dumps(IncidentSchema().dump(resources.incident(user, incident)))
