"""Error pages in the application's look and language; JSON for API clients."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response


def _explanations() -> dict[int, str]:
    return {
        400: _("The request could not be understood. Please check what you entered."),
        403: _("You do not have permission to do this."),
        404: _("There is nothing here, or you do not have access to it."),
        405: _("This page cannot be used that way."),
        409: _("This record changed or is in a state that does not allow this."),
        413: _("The file is too large."),
        422: _("Some of what you entered is not valid."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing you entered was lost."),
    }


def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    code = error.code or 500
    if request.path.startswith("/api/"):
        response = jsonify(error=error.description or error.name)
        response.status_code = code
        # Keep what the error says in headers, such as Allow on a 405.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
    # A view that aborts with its own words says more than the generic explanation.
    custom = error.description if error.description != type(error).description else None
    message = custom or _explanations().get(code, error.name)
    return render_template("error.html", code=code, message=message), code


def init_app(app: Flask) -> None:
    # Unexpected exceptions reach this handler as a 500, after Flask has logged them.
    app.register_error_handler(HTTPException, handle_http_error)
