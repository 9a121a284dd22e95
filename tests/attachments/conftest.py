"""The attachment tests run twice: files in the instance folder, and files in S3-compatible
object storage, served by moto's server mode on a local port (a real HTTP server, reached
by boto3 as any S3 would be)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from capdb.config import Config
from tests.conftest import config_for
from tests.live import free_port

BUCKET = "capdb-test"
S3_KEYS = {"storage_access_key_id": "testing", "storage_secret_access_key": "testing"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3-compatible server with the tests' bucket."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


def s3_settings(endpoint: str) -> dict[str, Any]:
    """Settings of a storage of its own: a fresh prefix of the bucket."""
    return {
        "storage_url": f"s3://{BUCKET}/test-{secrets.token_hex(6)}",
        "storage_endpoint_url": endpoint,
        "storage_region": "us-east-1",
        **S3_KEYS,
    }


@pytest.fixture(params=["local", "s3"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def app_config(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path: Path,
    storage_kind: str,
) -> Config:
    """The tests' settings, with the storage of the run (and a test's own changes)."""
    changes: dict[str, Any] = dict(getattr(request, "param", {}))
    if storage_kind == "s3":
        changes |= s3_settings(request.getfixturevalue("s3_endpoint"))
    return config_for(database_url, tmp_path).replace(**changes)


# The API's clients and small world (tests/api/conftest.py), for these tests too.
from tests.api.conftest import api_as as api_as  # noqa: E402
from tests.api.conftest import world as world  # noqa: E402
