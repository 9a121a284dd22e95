"""The API against its own OpenAPI document: schemathesis generates requests from the
document and sends them to the application in process. No answer may be a server error,
have a status, content type or body that the document does not describe."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import API, ApiAs, World

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 20


@pytest.mark.parametrize(
    ("role", "bindings"),
    [("admin", {}), ("member_state", {"state": "TCD"})],
)
def test_every_read_answers_as_documented(
    app: Flask, api_as: ApiAs, world: World, role: str, bindings: dict[str, Any]
) -> None:
    """Reads by a viewer who sees everything, and by one who sees part and no names."""
    client = api_as(role, **bindings)
    # The WSGI transport does not decompress what the application compresses.
    headers = client.auth | {"Accept-Encoding": "identity"}
    schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", app, headers=headers)
    loaded = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in loaded)
    reads = [r.ok() for r in loaded if isinstance(r, Ok) and r.ok().method.upper() == "GET"]
    assert len(reads) >= 15
    for operation in reads:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        answers()
