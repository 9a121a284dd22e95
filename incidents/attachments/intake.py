"""Receiving a file: staged on disk in blocks, its type decided from its content, checked,
and refused with a clear reason that leaves nothing behind.

What a file is comes from its bytes (libmagic, through python-magic), never from its name
or the browser's Content-Type. Programs are refused whatever they are called; other types
only if they are on the allow-list (``CAPDB_ATTACHMENT_TYPES``, by default PDF, images,
office documents, plain text and CSV). A PDF must be complete, an office document a
readable archive, an image decodable; images lose their metadata (see
:mod:`incidents.attachments.images`). The file name is kept only as a safe label, with
the extension of the type found.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import magic
from flask_babel import gettext as _

from incidents.attachments import images
from incidents.attachments.storage import BLOCK, PARTIAL
from incidents.errors import InputError

MB = 1024 * 1024
OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
# The types accepted unless CAPDB_ATTACHMENT_TYPES says otherwise, with the extensions a
# file of each may keep (the first is given to a file named otherwise).
KNOWN_TYPES: dict[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "image/tiff": (".tif", ".tiff"),
    OOXML + "wordprocessingml.document": (".docx",),
    OOXML + "spreadsheetml.sheet": (".xlsx",),
    OOXML + "presentationml.presentation": (".pptx",),
    ODF + "text": (".odt",),
    ODF + "spreadsheet": (".ods",),
    ODF + "presentation": (".odp",),
    "application/msword": (".doc",),
    "application/vnd.ms-excel": (".xls",),
    "application/vnd.ms-powerpoint": (".ppt",),
    "text/plain": (".txt",),
    "text/csv": (".csv",),
}
ZIPPED = tuple(t for t in KNOWN_TYPES if t.startswith((OOXML, ODF)))
# An office document unpacking to more than this is refused (a "zip bomb").
MAX_UNPACKED = 1024 * MB
# libmagic's names for programs and scripts: refused whatever the allow-list says.
PROGRAMS = re.compile(
    r"executable|x-dosexec|x-sharedlib|x-mach-binary|x-msdownload|x-ms-installer|x-msi"
    r"|shellscript|x-script|java-archive|x-elf|x-object|x-coredump|x-bytecode"
)
_UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*;]+')


@dataclass(frozen=True)
class Staged:
    """A received file waiting, on disk, to be kept: what it is, and its name and digest."""

    path: Path
    sha256: str
    size: int
    media_type: str
    filename: str
    metadata_kept: bool

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def allowed_types(setting: str) -> frozenset[str]:
    """The allow-list: CAPDB_ATTACHMENT_TYPES, or the known types."""
    configured = frozenset(filter(None, (t.strip().lower() for t in setting.split(","))))
    return configured or frozenset(KNOWN_TYPES)


def receive(
    stream: IO[bytes],
    filename: str,
    *,
    folder: Path,
    limit_mb: int,
    allowed: frozenset[str],
    keep_metadata: bool = False,
) -> Staged:
    """Stage, identify and check the uploaded file; :class:`InputError` (on ``file``) when
    it is refused, in which case nothing is left on disk."""
    path, size = _stage(stream, folder, limit_mb * MB)
    try:
        media_type = identify(path, allowed)
        kept = keep_metadata and media_type in images.FORMATS
        if media_type in images.FORMATS and not kept:
            path = _reencoded(path, media_type, folder)
            size = path.stat().st_size
        else:
            _check_content(path, media_type)
        return Staged(
            path=path,
            sha256=sha256_of(path),
            size=size,
            media_type=media_type,
            filename=safe_name(filename, media_type),
            metadata_kept=kept,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _stage(stream: IO[bytes], folder: Path, limit: int) -> tuple[Path, int]:
    handle, name = tempfile.mkstemp(dir=folder, suffix=PARTIAL)
    path, size = Path(name), 0
    try:
        with os.fdopen(handle, "wb") as out:
            while block := stream.read(BLOCK):
                size += len(block)
                if size > limit:
                    raise InputError(
                        {
                            "file": _(
                                "The file is larger than %(limit)d MB, the most capdb accepts.",
                                limit=limit // MB,
                            )
                        }
                    )
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise InputError({"file": _("The file is empty.")})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path, size


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def identify(path: Path, allowed: frozenset[str]) -> str:
    """The file's media type, from its content; refused when a program or not allowed."""
    found = str(magic.from_file(str(path), mime=True)).lower()
    if PROGRAMS.search(found):
        raise InputError(
            {
                "file": _(
                    "This file is a program (%(type)s), whatever its name says; capdb never "
                    "accepts programs.",
                    type=found,
                )
            }
        )
    if found not in allowed:
        raise InputError(
            {
                "file": _(
                    "This file is %(type)s, whatever its name says, and capdb does not accept "
                    "that type. Accepted: %(allowed)s.",
                    type=found,
                    allowed=", ".join(sorted(KNOWN_TYPES.get(t, (t,))[0] for t in allowed)),
                )
            }
        )
    return found


def _check_content(path: Path, media_type: str) -> None:
    if media_type in images.FORMATS:
        images.check(path, media_type)
    elif media_type == "application/pdf":
        _check_pdf(path)
    elif media_type in ZIPPED:
        _check_archive(path)


def _check_pdf(path: Path) -> None:
    """A PDF ends with its end-of-file mark: one without was cut short."""
    with path.open("rb") as file:
        file.seek(max(path.stat().st_size - 2048, 0))
        tail = file.read()
    if b"%%EOF" not in tail:
        raise InputError({"file": _("The PDF is incomplete (it was cut short); send it again.")})


def _check_archive(path: Path) -> None:
    """An office document is a ZIP archive: every member must be whole and of sane size."""
    damaged = InputError({"file": _("The document is damaged: it cannot be opened.")})
    try:
        with zipfile.ZipFile(path) as archive:
            if sum(member.file_size for member in archive.infolist()) > MAX_UNPACKED:
                raise InputError({"file": _("The document unpacks to an unreasonable size.")})
            if archive.testzip() is not None:
                raise damaged
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, ValueError):
        raise damaged from None


def _reencoded(path: Path, media_type: str, folder: Path) -> Path:
    handle, name = tempfile.mkstemp(dir=folder, suffix=PARTIAL)
    os.close(handle)
    target = Path(name)
    try:
        images.reencode(path, media_type, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    finally:
        path.unlink(missing_ok=True)
    return target


def safe_name(filename: str, media_type: str) -> str:
    """The file name as a label: no folders, no control or reserved characters, at most
    150 characters, and an extension that matches what the file is."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_CHARACTERS.sub("_", name)
    name = " ".join(name.split()).strip(". ")
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    extensions = KNOWN_TYPES.get(media_type, ())
    if extensions and f".{extension.lower()}" not in extensions:
        # "report.html" holding plain text is saved as "report.txt": opened later from a
        # download folder, it must not become a web page.
        stem, extension = (stem or name), extensions[0].lstrip(".")
    stem = (stem or _("document"))[:140]
    return f"{stem}.{extension}" if extension else stem


def title_from(filename: str) -> str:
    """A title for a file sent without one: its name without the extension."""
    stem = filename.rpartition(".")[0] or filename
    return stem.replace("_", " ").strip()[:200] or filename[:200]
