"""JSON errors for the API: one body shape for every refusal, never an HTML page.

Every error answers ``{"error": "<what went wrong>"}``; a refused request adds
``"errors": {"<field>": ["<reason>", ...]}`` naming each invalid field (nested fields
as ``victims.0.category``), and a stale edit adds ``"current"``, the record as it now is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn, Protocol

from flask import Response, jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow.exceptions import SCHEMA
from werkzeug.exceptions import HTTPException, default_exceptions

from incidents.api.schemas import ErrorSchema

Problems = dict[str, list[str]]
_LOCATIONS = frozenset(
    {"json", "query", "querystring", "headers", "view_args", "form", "files", "multipart"}
)

# marshmallow's and webargs's own messages, said in the user's language.
_KNOWN_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field cannot be empty."),
    "Unknown field.": _l("Unknown field."),
    "Invalid input type.": _l("The body must be a JSON object."),
    "Invalid type.": _l("This value has the wrong type."),
    "Not a valid string.": _l("Enter text."),
    "Not a valid integer.": _l("Enter a whole number."),
    "Not a valid number.": _l("Enter a number."),
    "Not a valid boolean.": _l("Enter true or false."),
    "Not a valid date.": _l("Enter a date such as 2021-03-14."),
    "Not a valid time.": _l("Enter a time such as 14:30."),
    "Not a valid list.": _l("Enter a list."),
    "Not a valid mapping type.": _l("Enter an object."),
    "Invalid value.": _l("This value is not valid."),
    "Invalid JSON body.": _l("The body is not valid JSON."),
    "Special numeric values (nan or infinity) are not permitted.": _l("Enter a finite number."),
}


def abort(code: int, **data: Any) -> NoReturn:
    """Stop the request with an error answered in JSON.

    ``data`` may hold ``message`` (what went wrong), ``errors`` (reasons by field),
    ``current`` (the record now, for a stale change) and ``headers``.
    """
    error = default_exceptions[code]()
    error.data = data  # type: ignore[attr-defined]  # read back by json_error
    raise error


class Refusal(Protocol):
    """A service's refusal: one reason per field, as the services' ``InputError`` has."""

    @property
    def problems(self) -> Mapping[str, str]: ...


def refused(error: Refusal, *, renamed: dict[str, str] | None = None) -> NoReturn:
    """Answer 422 with the service's reasons, under the API's field names."""
    names = renamed or {}
    abort(422, errors={names.get(k, k): [reason] for k, reason in error.problems.items()})


def _messages(code: int) -> str:
    messages = {
        400: _("The request is not valid."),
        401: _("Authentication is required: send an API token as a bearer token."),
        403: _("You may not do this."),
        404: _("Not found."),
        405: _("This method is not allowed here."),
        409: _("The record changed meanwhile; nothing was saved."),
        413: _("The request is too large."),
        415: _("Send the body as JSON."),
        422: _("Some fields are not valid."),
        429: _("Too many requests; wait a moment and try again."),
    }
    return str(messages.get(code, _("The request could not be answered.")))


def translated(message: object) -> str:
    known = _KNOWN_MESSAGES.get(str(message))
    return str(known) if known is not None else str(message)


def flatten(messages: object, prefix: str = "") -> Problems:
    """marshmallow's nested messages as one list of reasons per dotted field name.

    webargs files them under the request location (``json``, ``query``, ``headers``),
    which is dropped: field names are unique across the locations of one operation.
    """
    problems: Problems = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = str(key)
            if name == SCHEMA or (not prefix and name in _LOCATIONS):
                name = ""
            for field, reasons in flatten(value, _join(prefix, name)).items():
                problems.setdefault(field, []).extend(reasons)
    elif isinstance(messages, list | tuple):
        for value in messages:
            for field, reasons in flatten(value, prefix).items():
                problems.setdefault(field, []).extend(reasons)
    else:
        problems[prefix or "body"] = [translated(messages)]
    return problems


def _join(prefix: str, name: str) -> str:
    if not name:
        return prefix
    return f"{prefix}.{name}" if prefix else name


def body_of(error: HTTPException) -> dict[str, Any]:
    code = error.code or 500
    data: Mapping[str, Any] = getattr(error, "data", None) or {}
    body: dict[str, Any] = {
        "error": str(data.get("message") or _described(error) or _messages(code))
    }
    if "errors" in data:
        body["errors"] = flatten(data["errors"])
    elif "messages" in data:
        body["errors"] = flatten(data["messages"])
    if "current" in data:
        body["current"] = data["current"]
    return body


def _described(error: HTTPException) -> str | None:
    """A description given on purpose with ``abort(code, description)``, not Werkzeug's own."""
    default = type(error).description
    description = error.description
    return description if description and description != default else None


def json_error(error: HTTPException) -> Response:
    response = jsonify(ErrorSchema().dump(body_of(error)))
    response.status_code = error.code or 500
    data: Mapping[str, Any] = getattr(error, "data", None) or {}
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers.setdefault(name, value)
    return response
