"""The JSON API under /api/v1, documented by its OpenAPI document.

Clients authenticate with an API token sent as a bearer token; a token acts with exactly
its user's scope. The OpenAPI document at /api/v1/openapi.json is generated from the
schemas that validate the requests, and like every endpoint but the login pages it needs
a signed-in user or a token.
"""

from __future__ import annotations

import threading

from apispec import APISpec
from flask import Flask
from flask_smorest import Api, Blueprint

from capdb.config import Config
from incidents.api import limits, reference
from incidents.api.blueprint import PREFIX
from incidents.api.schemas import ErrorSchema, document_allowed_values


class JsonApi(Api):  # type: ignore[misc]  # flask-smorest has no type hints
    """flask-smorest's Api, answering errors in JSON for the API only, and writing its
    document when it is first asked for.

    Its own error handler would turn every error of the application, pages included,
    into JSON; the API's blueprints register theirs instead. Documenting the routes costs
    several times what building the rest of the application does, and most processes
    (a test, a command) never serve the document.
    """

    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app: Flask) -> None:
        self._undocumented: list[tuple[Blueprint, str]] = []
        self._responses_documented = False
        self._documenting = threading.RLock()
        super().__init__(app)
        # Missions and countries are listed from the database as the document is written.
        self.ma_plugin.converter.add_attribute_function(document_allowed_values)

    @property
    def spec(self) -> APISpec:
        with self._documenting:
            if not self._responses_documented:
                self._responses_documented = True
                super()._register_responses()
            while self._undocumented:
                blueprint, name = self._undocumented.pop(0)
                blueprint.register_views_in_doc(
                    self, self._app, self._spec, name=name, parameters=None
                )
                self._spec.tag({"name": name, "description": blueprint.description})
        return self._spec

    @spec.setter
    def spec(self, spec: APISpec) -> None:
        self._spec = spec

    def register_blueprint(self, blueprint: Blueprint) -> None:
        self._app.extensions["flask-smorest"]["blp_name_to_api"][blueprint.name] = self
        self._app.register_blueprint(blueprint)
        self._undocumented.append((blueprint, blueprint.name))

    def _register_responses(self) -> None:
        pass  # until the document is asked for

    def _register_error_handlers(self) -> None:
        pass


def init_app(app: Flask, features: tuple[Blueprint, ...] = ()) -> None:
    """Register the API on the application, with the API blueprints of the features."""
    config: Config = app.extensions["capdb.config"]
    app.config.update(
        API_TITLE="capdb",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "info": {
                "description": "The database of crimes against UN peacekeepers. "
                "Send an API token (`flask --app wsgi tokens create EMAIL`) as a bearer token."
            },
            "security": [{"bearer": []}],
        },
    )
    api = JsonApi(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    blueprints = (*features, reference.blp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    limits.init_app(app, config, blueprints)
