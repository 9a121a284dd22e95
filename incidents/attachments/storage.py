"""Where attachments' files are kept: one small interface, two backends.

A file is named by its SHA-256, so the same file attached twice is kept once, a file is
never overwritten, and ``files verify`` can tell a changed byte by rehashing it.

- :class:`LocalStorage`, the default: the instance folder's ``attachments/``, as
  ``ab/cd/abcd…`` (the first two pairs of hex digits make folders, so none grows huge);
  included in every backup with the rest of the instance folder.
- :class:`S3Storage`: S3-compatible object storage, ``CAPDB_STORAGE_URL=s3://bucket/prefix``
  with the ``CAPDB_STORAGE_*`` endpoint and credential settings, through boto3.

Files arrive as a staged file on disk (see :mod:`incidents.attachments.intake`) and leave
as a stream read in blocks: neither way is a whole file held in memory.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from flask import Flask, current_app

from capdb.config import Config

HEX = re.compile(r"[0-9a-f]{64}")
BLOCK = 1 << 16
# Files being received wait here, named so that backups leave them out (see
# capdb.backup.archive: a name ending in .partial is never a finished file).
STAGING = ".staging"
PARTIAL = ".partial"
# S3 multipart uploads send parts of this size, one at a time: what an upload holds in memory.
S3_PART = 8 * 1024 * 1024


class MissingFileError(LookupError):
    """No file of this SHA-256 is kept."""


class Storage(Protocol):
    """What the rest of capdb asks of a place that keeps files."""

    description: str

    def staging_folder(self) -> Path:
        """A folder on the local disk where files are received before being kept."""
        ...

    def put(self, sha256: str, staged: Path) -> None:
        """Keep the staged file (which is then gone) under its SHA-256; a no-op when a file
        of that SHA-256 is already kept."""
        ...

    def open(self, sha256: str) -> BinaryIO:
        """The kept file, to be read in blocks and closed; :class:`MissingFileError` if none."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...

    def stored(self) -> Iterator[tuple[str, datetime]]:
        """Every kept file's SHA-256 and when it was stored."""
        ...


def check_name(sha256: str) -> str:
    if not HEX.fullmatch(sha256):
        raise ValueError("a file is named by its SHA-256 in lowercase hexadecimal")
    return sha256


def relative_key(sha256: str) -> str:
    check_name(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


class LocalStorage:
    """Files in a folder of the local disk (the instance folder's attachments/)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.description = f"the folder {root}"

    def staging_folder(self) -> Path:
        folder = self.root / STAGING
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def path(self, sha256: str) -> Path:
        return self.root / relative_key(sha256)

    def put(self, sha256: str, staged: Path) -> None:
        target = self.path(sha256)
        if target.exists():
            # Named again: younger now, so that the sweep spares it until it is recorded.
            os.utime(target)
            staged.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        staged.chmod(0o600)
        # The staging folder is on the same disk: a rename, whole or not at all.
        os.replace(staged, target)

    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.path(sha256).open("rb")
        except FileNotFoundError:
            raise MissingFileError(sha256) from None

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def stored(self) -> Iterator[tuple[str, datetime]]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("??/??/*")):
            if HEX.fullmatch(path.name) and path.is_file():
                yield path.name, datetime.fromtimestamp(path.stat().st_mtime, UTC)


class S3Storage:
    """Files as objects of an S3-compatible bucket, under a prefix."""

    def __init__(self, config: Config) -> None:
        # Imported only where S3 is configured: boto3 takes a while to load.
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config as BotoConfig

        bucket, _, prefix = config.storage_url.removeprefix("s3://").partition("/")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.description = f"s3://{bucket}/{self.prefix}"
        self.instance_path = config.instance_path
        session = boto3.session.Session(
            aws_access_key_id=config.storage_access_key_id or None,
            aws_secret_access_key=config.storage_secret_access_key or None,
            region_name=config.storage_region or None,
        )
        options: dict[str, Any] = {"retries": {"max_attempts": 3, "mode": "standard"}}
        if config.storage_endpoint_url:
            # S3-compatible servers (MinIO, Ceph, Garage...) answer on paths, not host names.
            options["s3"] = {"addressing_style": "path"}
        self.client = session.client(
            "s3",
            endpoint_url=config.storage_endpoint_url or None,
            config=BotoConfig(**options),
        )
        self.transfer = TransferConfig(
            multipart_threshold=S3_PART, multipart_chunksize=S3_PART, use_threads=False
        )

    def key(self, sha256: str) -> str:
        return self.prefix + relative_key(sha256)

    def staging_folder(self) -> Path:
        folder = self.instance_path / "attachments-staging"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def put(self, sha256: str, staged: Path) -> None:
        key = self.key(sha256)
        try:
            if self.exists(sha256):
                # Named again: copied onto itself, it is younger, and the sweep spares it.
                self.client.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    MetadataDirective="REPLACE",
                    ContentType="application/octet-stream",
                )
            else:
                self.client.upload_file(
                    str(staged),
                    self.bucket,
                    key,
                    ExtraArgs={"ContentType": "application/octet-stream"},
                    Config=self.transfer,
                )
        finally:
            staged.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise MissingFileError(sha256) from None
            raise
        body: BinaryIO = answer["Body"]
        return body

    def exists(self, sha256: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "NotFound"}:
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))

    def stored(self) -> Iterator[tuple[str, datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = str(item["Key"]).rsplit("/", 1)[-1]
                if HEX.fullmatch(name):
                    yield name, item["LastModified"]


def make_storage(config: Config) -> Storage:
    if config.storage_url.startswith("s3://"):
        return S3Storage(config)
    return LocalStorage(config.instance_path / "attachments")


def init_app(app: Flask, config: Config) -> None:
    app.extensions["capdb.storage"] = make_storage(config)


def storage() -> Storage:
    """The storage of the application handling the request, command or job."""
    found: Storage = current_app.extensions["capdb.storage"]
    return found


def blocks(file: BinaryIO, size: int = BLOCK) -> Iterator[bytes]:
    """The file's content in blocks, closing it at the end (or when the reader stops)."""
    try:
        while block := file.read(size):
            yield block
    finally:
        file.close()
