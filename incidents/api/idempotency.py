"""Idempotent POSTs: a request sent again with the same ``Idempotency-Key`` gets the answer
the first one got, and changes nothing more.

A client on a slow link that lost the answer to a POST cannot tell whether it was done;
it sends the same request with the same key and is told what happened. The key is the
user's own: the same key with another request is refused (422). Only successful answers
are kept; a refused request rolls back and may be tried again with its key.

The key is claimed, inside the request's transaction, before the view runs: a concurrent
request with the same key waits for the first to finish, then replays its answer.

A key is kept for a day, as long as a client would go on retrying (Stripe's rule too);
the user's older keys are deleted when they next send one, and may then be used again.

The incident form claims its draft's key too (:func:`claim`, with the path of the API's
create): a browser whose link dropped while the form was sent cannot tell whether it was
saved, and sends the draft again through the API with the same key. The API answers that
with what the form recorded, whatever the shape of the request: the form and the API name
their fields alike, but the bodies differ.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Response, make_response, request
from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from auth.models import User
from capdb.clock import now
from incidents.api.access import session, viewer
from incidents.api.errors import abort
from incidents.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEEP_KEYS = timedelta(days=1)
REPLAYED = "Idempotent-Replayed"
_KEY = re.compile(r"[\x21-\x7e]{1,100}")  # visible ASCII, as long as the column holds
# The request digest of a key claimed by a page's form rather than by an API request.
FORM_DIGEST = "form"

View = Callable[..., Any]

_HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "pattern": r"^[\x21-\x7e]{1,100}$"},
    "description": "Send the request again with the same key to get the same answer, "
    "without creating anything twice.",
}


def idempotent(view: View) -> View:
    @wraps(view)
    def once(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not is_key(key):
            abort(400, errors={HEADER: [_("Use 1 to 100 visible ASCII characters.")]})
        db, digest = session(), request_digest()
        entry, fresh = claim(db, viewer(), key, digest, request.method, request.path)
        if not fresh:
            return _replay(entry, digest)
        response: Response = make_response(view(*args, **kwargs))
        if response.status_code < 400:
            entry.status_code = response.status_code
            entry.body = response.get_data(as_text=True)
        return response

    documented: View = Blueprint.doc(parameters=[_HEADER_DOC])(once)
    return documented


def request_digest() -> str:
    """The request's method, path and body; a JSON body by its content, not its spacing."""
    body = request.get_data()
    with contextlib.suppress(ValueError, RecursionError):
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    seen = hashlib.sha256()
    for part in (request.method.encode(), request.full_path.encode(), body):
        seen.update(len(part).to_bytes(8, "big") + part)
    return seen.hexdigest()


def is_key(text: str) -> bool:
    return bool(_KEY.fullmatch(text))


def claim(
    db: Session, user: User, key: str, digest: str, method: str, path: str
) -> tuple[IdempotencyKey, bool]:
    """The entry this request fills in (fresh), or the earlier one holding the answer.

    A fresh entry holds no answer until the caller gives it one (``status_code`` and
    ``body``); the request's transaction keeps it only if the request succeeds.
    """
    moment = now()
    db.execute(
        sa.delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user.id, IdempotencyKey.created_at < moment - KEEP_KEYS
        )
    )
    earlier = _stored(db, user, key)
    if earlier is not None:
        return earlier, False
    entry = IdempotencyKey(
        user_id=user.id,
        key=key,
        method=method,
        path=path[:300],
        request_hash=digest,
        status_code=0,
        body="",
        created_at=moment,
    )
    try:
        with db.begin_nested():
            db.add(entry)
            db.flush()
    except IntegrityError:
        # Another request with the key finished while this one waited for it.
        earlier = _stored(db, user, key)
        if earlier is None:
            raise
        return earlier, False
    return entry, True


def _stored(db: Session, user: User, key: str) -> IdempotencyKey | None:
    return db.scalar(
        sa.select(IdempotencyKey)
        .where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )


def _replay(earlier: IdempotencyKey, digest: str) -> Response:
    by_form = earlier.request_hash == FORM_DIGEST and (earlier.method, earlier.path) == (
        request.method,
        request.path[:300],
    )
    if earlier.request_hash != digest and not by_form:
        abort(422, errors={HEADER: [_("This key was already used for another request.")]})
    response = Response(earlier.body, status=earlier.status_code, mimetype="application/json")
    response.headers[REPLAYED] = "true"
    return response
