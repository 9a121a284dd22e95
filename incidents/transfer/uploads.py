"""Where an uploaded spreadsheet waits between the check and the import (its page's or its
job's): the instance folder, under its uploader's id and a random token."""

from __future__ import annotations

from pathlib import Path

from auth.models import User
from capdb.config import current_config


def uploads_folder() -> Path:
    folder = current_config().instance_path / "imports"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def upload_path(user: User, token: str) -> Path:
    return uploads_folder() / f"{user.id}-{token}"


def forget_upload(path: Path) -> None:
    """Delete a kept upload and the file naming it."""
    path.unlink(missing_ok=True)
    path.with_suffix(".name").unlink(missing_ok=True)
