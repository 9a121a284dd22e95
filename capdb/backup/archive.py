"""The backup file: one tar holding a manifest, the database dump and the instance files.

The manifest comes first and names every other member with its size and SHA-256, so a
damaged or truncated file is refused before anything is restored. The file is written
beside its destination and renamed into place, so a failed backup never leaves half a
file where a good one is expected.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

FORMAT = "capdb-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INSTANCE = "instance"
SQLITE_MAGIC = b"SQLite format 3\x00"
# The files SQLite keeps beside a database while it is open: never consistent on their own.
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message says why, for an operator."""


@dataclass(frozen=True)
class Contents:
    """A backup read back and checked: its manifest and where its members were unpacked."""

    manifest: dict[str, Any]
    folder: Path

    @property
    def database_file(self) -> Path:
        return self.folder / str(self.manifest["database"]["file"])

    @property
    def instance_files(self) -> list[str]:
        prefix = INSTANCE + "/"
        return [name for name in self.manifest["files"] if name.startswith(prefix)]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def instance_files(instance: Path, skip: Iterable[Path]) -> list[Path]:
    """The files of the instance folder worth keeping, relative to it.

    Left out: the folders in ``skip`` (the backups themselves), other backups kept in the
    folder, and every SQLite database with its journal files. The application's database
    is in the dump already, and copying the file of any other live database (a job queue)
    would give a torn copy.
    """
    if not instance.is_dir():
        return []
    skipped = [path.resolve() for path in skip]
    kept = []
    for path in sorted(instance.rglob("*")):
        resolved = path.resolve()
        if not path.is_file() or path.is_symlink():
            continue
        if any(resolved == s or s in resolved.parents for s in skipped):
            continue
        if path.name.endswith(SQLITE_COMPANIONS) or _is_sqlite(path) or _is_backup(path):
            continue
        kept.append(path.relative_to(instance))
    return kept


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC


def _is_backup(path: Path) -> bool:
    if path.name.endswith(".partial"):
        return True
    try:
        with tarfile.open(path, "r:") as tar:
            first = tar.next()
    except (tarfile.TarError, OSError):
        return False
    return first is not None and first.name == MANIFEST


def write(
    destination: Path, manifest: dict[str, Any], database: Path, instance: Path, files: list[Path]
) -> dict[str, Any]:
    """Write the backup file: the manifest (given the members' checksums), then the rest."""
    members = {str(manifest["database"]["file"]): database}
    members |= {f"{INSTANCE}/{relative.as_posix()}": instance / relative for relative in files}
    manifest = {
        **manifest,
        "files": {
            name: {"size": path.stat().st_size, "sha256": sha256_of(path)}
            for name, path in members.items()
        },
    }
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".partial", dir=destination.parent
    )
    os.close(handle)
    try:
        # The backup holds every secret of the database: readable by its owner only.
        os.chmod(partial, 0o600)
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
            for name, path in members.items():
                tar.add(path, arcname=name, recursive=False)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, destination)
    finally:
        Path(partial).unlink(missing_ok=True)
    return manifest


def read(source: Path, folder: Path) -> Contents:
    """Unpack the backup into ``folder`` and check every member against the manifest.

    Raises :class:`BackupError` for anything but a complete, undamaged capdb backup.
    """
    if not source.is_file():
        raise BackupError(f"there is no backup file at {source}.")
    try:
        with tarfile.open(source, "r:") as tar:
            manifest = _read_manifest(tar)
            names = set(manifest["files"])
            for member in tar:
                if member.name == MANIFEST:
                    continue
                if member.name not in names or not member.isfile():
                    raise BackupError(f"{member.name!r} is not listed in the manifest.")
                _unpack(tar, member, folder)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise BackupError(f"{source} is damaged or truncated ({error}).") from error
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise BackupError(f"{source} is truncated: {name} is missing.")
        if path.stat().st_size != expected["size"] or sha256_of(path) != expected["sha256"]:
            raise BackupError(f"{source} is damaged: {name} does not match its checksum.")
    return Contents(manifest, folder)


def _read_manifest(tar: tarfile.TarFile) -> dict[str, Any]:
    first = tar.next()
    if first is None or first.name != MANIFEST:
        raise BackupError("this is not a capdb backup: it has no manifest.")
    extracted = tar.extractfile(first)
    if extracted is None:
        raise BackupError("this is not a capdb backup: its manifest is not a file.")
    try:
        manifest = json.loads(extracted.read())
    except ValueError as error:
        raise BackupError(f"the manifest is not valid JSON ({error}).") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this is not a capdb backup: its manifest has another format.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"this backup has format version {manifest.get('format_version')!r}; this capdb "
            f"reads version {FORMAT_VERSION}."
        )
    for key in ("database", "files", "alembic_revision", "row_counts", "facts"):
        if key not in manifest:
            raise BackupError(f"the manifest lacks {key!r}.")
    return manifest


def _unpack(tar: tarfile.TarFile, member: tarfile.TarInfo, folder: Path) -> None:
    relative = PurePosixPath(member.name)
    # Names come from the file: none may climb out of the folder it is unpacked into.
    if relative.is_absolute() or ".." in relative.parts:
        raise BackupError(f"{member.name!r} is not a safe name.")
    target = folder.joinpath(*relative.parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    extracted = tar.extractfile(member)
    if extracted is None:
        raise BackupError(f"{member.name!r} is not a file.")
    with target.open("wb") as out:
        while block := extracted.read(1 << 20):
            out.write(block)
