"""Anchors: the chain's head kept outside the database, to catch a truncated trail.

Removing the newest entries of the trail leaves a shorter chain that still holds on its
own. An anchor records where the chain stood (position and hash of its newest entry, and
when): ``audit verify --anchor FILE`` fails if the entries up to that position are no
longer there, or differ. ``audit anchor`` writes one file per anchor to
``CAPDB_AUDIT_ANCHOR_DIR`` (best on another machine or a write-once mount) or prints it
for an operator to keep elsewhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from auth.audit import GENESIS, Anchor, chain_head, link_all_pending
from capdb import db
from capdb.config import current_config
from capdb.db import utcnow

FORMAT = "capdb-audit-anchor/1"


class AnchorError(ValueError):
    """An anchor file that cannot be read as one."""


@dataclass(frozen=True)
class KeptAnchor:
    """An anchor as kept: the head it names, the entry's id, and when it was taken."""

    anchor: Anchor
    event_id: int | None
    anchored_at: datetime

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "position": self.anchor.position,
                "hash": self.anchor.hash,
                "entry_id": self.event_id,
                "anchored_at": self.anchored_at.isoformat(),
            },
            indent=2,
        )

    @property
    def file_name(self) -> str:
        # Sorted by name is sorted by time; the position tells how far it reaches.
        stamp = self.anchored_at.strftime("%Y%m%dT%H%M%S%fZ")
        return f"audit-anchor-{stamp}-{self.anchor.position}.json"


def take_anchor(db: Session) -> KeptAnchor:
    """The chain's head now: its newest linked entry (the empty chain is position 0)."""
    head = chain_head(db)
    if head is None:
        return KeptAnchor(Anchor(0, GENESIS), None, utcnow())
    return KeptAnchor(Anchor(head.position, head.hash), head.event_id, utcnow())


def anchor_to(db: Session, directory: Path) -> Path:
    """Take an anchor and write it to ``directory``: what the periodic job runs."""
    return write_anchor(directory, take_anchor(db))


def write_anchor(directory: Path, kept: KeptAnchor) -> Path:
    """Write the anchor to its own file in ``directory``, all or nothing."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / kept.file_name
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".audit-anchor-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(kept.to_json() + "\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(directory)
    return target


def _sync_directory(directory: Path) -> None:
    # The rename is durable only once the directory itself is on disk.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_anchor(path: Path) -> Anchor:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AnchorError(f"{path} is not a readable anchor: {error}") from None
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise AnchorError(f"{path} is not an audit anchor written by `audit anchor`")
    position, hash_ = content.get("position"), content.get("hash")
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise AnchorError(f"{path}: the position must be a whole number, 0 or more")
    if not isinstance(hash_, str) or len(hash_) != 64 or not _is_hex(hash_):
        raise AnchorError(f"{path}: the hash must be 64 hexadecimal characters")
    return Anchor(position, hash_)


def _is_hex(text: str) -> bool:
    return all(character in "0123456789abcdef" for character in text)


def link_and_anchor() -> int:
    """The worker's periodic audit job: link what commits left unlinked, then, where
    CAPDB_AUDIT_ANCHOR_DIR is set, write an anchor there. How many entries were linked."""
    linked = link_all_pending(db.database().sessionmaker)
    directory = current_config().audit_anchor_dir
    if directory:
        with db.database().sessionmaker() as session:
            write_anchor(Path(directory), take_anchor(session))
    return linked
