"""Uploading and downloading a 50 MB PDF: how much a web worker's memory grows.

The budget (issue 19): under 20 MB of growth, so the file is streamed, never held whole.
gunicorn serves capdb with one worker (the shipped gunicorn.conf.py) on a scratch
PostgreSQL schema; the worker's peak resident memory is reset (``/proc/PID/clear_refs``)
after a warm-up upload and download of a small PDF, and read back (``VmHWM``) after the
large upload and after its download. The client streams the request body from disk and
reads the answer in blocks, so it holds neither whole either.

Run from the checkout:  .venv/bin/python bench/attachments.py [--storage local|s3] [--mb 50]
(``s3`` starts moto's S3-compatible server on a local port for the worker to use).
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import checkout  # noqa: F401 (first: this checkout's packages)
import psutil
import requests
from flask import Flask
from scratch import scratch_app
from serving import BENCH_REDIS, HOST, ROOT, wait_until_ready

from auth import tokens
from auth.models import User
from incidents.models import Incident

MB = 1024 * 1024
BUDGET_MB = 20
BOUNDARY = "capdb-bench-" + secrets.token_hex(8)


def write_pdf(path: Path, megabytes: int) -> None:
    """A valid PDF of about ``megabytes``: one page, and a stream of random bytes (which no
    compression shrinks), written in blocks."""
    size = megabytes * MB
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = [out.tell()]
        out.write(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
        offsets.append(out.tell())
        out.write(b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n")
        offsets.append(out.tell())
        out.write(b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n")
        offsets.append(out.tell())
        out.write(b"4 0 obj\n<< /Length %d >>\nstream\n" % size)
        for _ in range(megabytes):
            out.write(os.urandom(MB))
        out.write(b"\nendstream\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 5\n0000000000 65535 f \n")
        for offset in offsets:
            out.write(b"%010d 00000 n \n" % offset)
        out.write(b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)


def upload(base: str, token: str, incident_id: int, path: Path) -> dict[str, object]:
    """POST the file as multipart/form-data, its body streamed from disk."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\njudgment\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        with path.open("rb") as file:
            while block := file.read(MB):
                yield block
        yield tail

    connection = http.client.HTTPConnection(HOST, int(base.rsplit(":", 1)[1]), timeout=600)
    connection.request(
        "POST",
        f"/api/v1/incidents/{incident_id}/attachments",
        body=body(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            "Content-Length": str(len(head) + path.stat().st_size + len(tail)),
        },
    )
    answer = connection.getresponse()
    text = answer.read()
    connection.close()
    if answer.status != 201:
        raise RuntimeError(f"upload answered {answer.status}: {text[:500]!r}")
    return requests.models.complexjson.loads(text)  # type: ignore[no-any-return]


def download(base: str, token: str, attachment_id: object) -> str:
    """GET the file in blocks; its SHA-256."""
    digest = hashlib.sha256()
    with requests.get(
        f"{base}/api/v1/attachments/{attachment_id}/content",
        headers={"Authorization": f"Bearer {token}"},
        stream=True,
        timeout=600,
    ) as answer:
        answer.raise_for_status()
        for block in answer.iter_content(1 << 16):
            digest.update(block)
    return digest.hexdigest()


def peak_reset(pid: int) -> int:
    """Reset the process's peak resident memory; its resident memory now, in bytes."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")
    return psutil.Process(pid).memory_info().rss


def peak(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


@contextmanager
def one_worker(app: Flask, settings: dict[str, str]) -> Iterator[tuple[str, int]]:
    """gunicorn with one worker on the scratch schema; its base URL and the worker's pid."""
    config = app.extensions["capdb.config"]
    port = 8765
    environ = {key: value for key, value in os.environ.items() if not key.startswith("CAPDB_")}
    environ |= {
        "CAPDB_ENV": "development",
        "CAPDB_DATABASE_URL": config.database_url,
        "CAPDB_SECRET_KEY": config.resolved_secret_key(),
        "CAPDB_INSTANCE_PATH": tempfile.mkdtemp(prefix="capdb-bench-"),
        "CAPDB_BIND": f"{HOST}:{port}",
        "CAPDB_LOG_LEVEL": "WARNING",
        "CAPDB_REDIS_URL": BENCH_REDIS,
        "CAPDB_WEB_WORKERS": "1",
        **settings,
    }
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py")]
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and config)
        command, cwd=ROOT, env=environ, stdout=subprocess.DEVNULL
    )
    base = f"http://{HOST}:{port}"
    try:
        wait_until_ready(base, server)
        (worker,) = psutil.Process(server.pid).children()
        yield base, worker.pid
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


@contextmanager
def s3_server() -> Iterator[dict[str, str]]:
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=HOST, port=8766, verbose=False)
    server.start()
    endpoint = f"http://{HOST}:8766"
    keys = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys).create_bucket(
        Bucket="capdb-bench"
    )
    try:
        yield {
            "CAPDB_STORAGE_URL": "s3://capdb-bench/attachments",
            "CAPDB_STORAGE_ENDPOINT_URL": endpoint,
            "CAPDB_STORAGE_REGION": "us-east-1",
            "CAPDB_STORAGE_ACCESS_KEY_ID": "bench",
            "CAPDB_STORAGE_SECRET_ACCESS_KEY": "bench",
        }
    finally:
        server.stop()


def prepare(app: Flask) -> tuple[str, int]:
    """An administrator's API token and an incident to attach to."""
    with app.test_request_context(), app.extensions["capdb.db"].sessionmaker.begin() as db:
        # No password: the benchmark acts through an API token only.
        admin = User(email="bench-admin@capdb.test", password_hash="!", role="admin", active=True)  # noqa: S106
        incident = Incident(
            reference="MINUSMA-2021-0001", mission_code="MINUSMA", occurred_on=date(2021, 3, 14),
            date_precision="day", country_code="MLI", place="Aguelhok", geo_precision="country",
            means_of_attack="ied", attack_context="convoy", location_type="road",
            perpetrator_type="unknown", status="validated",
        )  # fmt: skip
        db.add_all([admin, incident])
        db.flush()
        _token, value = tokens.create(db, admin)
        return value, incident.id


def run(storage: str, megabytes: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="capdb-bench-files-"))
    small, large = folder / "small.pdf", folder / "large.pdf"
    write_pdf(small, 1)
    write_pdf(large, megabytes)
    expected = hashlib.sha256(large.read_bytes()).hexdigest()
    settings = {"CAPDB_MAX_UPLOAD_MB": str(megabytes + 8)}
    with scratch_app("bench_attachments") as app, s3_or_nothing(storage) as s3:
        token, incident_id = prepare(app)
        with one_worker(app, settings | s3) as (base, pid):
            warm = upload(base, token, incident_id, small)
            download(base, token, warm["id"])
            before = peak_reset(pid)
            started = time.perf_counter()
            sent = upload(base, token, incident_id, large)
            upload_seconds = time.perf_counter() - started
            after_upload = peak(pid)
            peak_reset(pid)
            started = time.perf_counter()
            found = download(base, token, sent["id"])
            download_seconds = time.perf_counter() - started
            after_download = peak(pid)
    assert found == expected == sent["sha256"], "the file came back changed"
    growth_up = (after_upload - before) / MB
    growth_down = (after_download - before) / MB
    print(f"storage {storage}, a {megabytes} MB PDF, one gunicorn worker:")
    print(f"  worker resident memory before: {before / MB:.1f} MB")
    print(f"  upload:   {upload_seconds:.1f} s, peak growth {growth_up:.1f} MB")
    print(f"  download: {download_seconds:.1f} s, peak growth {growth_down:.1f} MB")
    worst = max(growth_up, growth_down)
    verdict = "within" if worst < BUDGET_MB else "OVER"
    print(f"  {verdict} the {BUDGET_MB} MB budget")


@contextmanager
def s3_or_nothing(storage: str) -> Iterator[dict[str, str]]:
    if storage != "s3":
        yield {}
        return
    with s3_server() as settings:
        yield settings


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", choices=("local", "s3"), default="local")
    parser.add_argument("--mb", type=int, default=50)
    arguments = parser.parse_args()
    run(arguments.storage, arguments.mb)
