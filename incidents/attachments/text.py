"""The words of a document, extracted by a job for the search.

PDFs through pypdf, office documents from the XML inside their archive (with defusedxml:
no entity expansion), spreadsheets through openpyxl, plain text and CSV as they are.
Images and the older binary office formats have none to give. The text is kept on the
file's row, at most :data:`MAX_TEXT` characters, and is never shown as such: the search
finds a record by it only for those who may download the file
(:func:`incidents.attachments.search.matching_attachments`).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from defusedxml import ElementTree

from capdb import db as database
from capdb.clock import now
from incidents.attachments.intake import ODF, OOXML
from incidents.attachments.models import AttachmentFile
from incidents.attachments.storage import LocalStorage, MissingFileError, storage

log = logging.getLogger(__name__)

MAX_TEXT = 500_000
# A file still waiting this long after its upload lost its message; the periodic job
# extracts it.
LOST_AFTER = timedelta(minutes=10)
PARAGRAPHS = frozenset({"p", "h"})


class _Collected:
    """Text gathered up to the limit."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0

    @property
    def full(self) -> bool:
        return self.length >= MAX_TEXT

    def add(self, text: str) -> None:
        if text and not self.full:
            self.parts.append(text)
            self.length += len(text)

    def text(self) -> str:
        # PostgreSQL refuses NUL in text.
        return "".join(self.parts)[:MAX_TEXT].replace("\x00", " ").strip()


def _pdf(path: Path, out: _Collected) -> None:
    from pypdf import PdfReader

    with path.open("rb") as file:
        for page in PdfReader(file).pages:
            out.add(page.extract_text() + "\n")
            if out.full:
                return


def _xml(stream: IO[bytes], out: _Collected, *, only_t: bool) -> None:
    """Text of an XML part, paragraph by paragraph: OOXML keeps its words in ``t`` elements,
    ODF in the paragraphs and headings themselves."""
    for _event, element in ElementTree.iterparse(stream, events=("end",), forbid_dtd=True):
        if _local(element.tag) not in PARAGRAPHS:
            continue
        if only_t:
            words = "".join(e.text or "" for e in element.iter() if _local(e.tag) == "t")
        else:
            words = "".join(element.itertext())
        out.add(words + "\n")
        element.clear()
        if out.full:
            return


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _archive(path: Path, media_type: str, out: _Collected) -> None:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if media_type.startswith(ODF):
            parts, only_t = ["content.xml"], False
        elif media_type.endswith("wordprocessingml.document"):
            parts, only_t = ["word/document.xml"], True
        else:  # presentations: the slides in their order
            slides = [n for n in names if n.startswith("ppt/slides/slide") and n.endswith(".xml")]
            parts, only_t = sorted(slides, key=_slide_number), True
        for part in parts:
            if part in names:
                with archive.open(part) as stream:
                    _xml(stream, out, only_t=only_t)


def _slide_number(name: str) -> int:
    digits = "".join(c for c in name.rsplit("/", 1)[-1] if c.isdigit())
    return int(digits or 0)


def _workbook(path: Path, out: _Collected) -> None:
    from openpyxl import load_workbook

    # A file rather than its path: kept files have no extension for openpyxl to check.
    with path.open("rb") as file:
        book = load_workbook(file, read_only=True, data_only=True)
        try:
            for sheet in book.worksheets:
                for row in sheet.iter_rows(values_only=True):
                    out.add(" ".join(str(v) for v in row if v is not None) + "\n")
                    if out.full:
                        return
        finally:
            book.close()


def _plain(path: Path, out: _Collected) -> None:
    with path.open("rb") as file:
        raw = file.read(MAX_TEXT * 4)
    try:
        out.add(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        out.add(raw.decode("latin-1"))


def extract(path: Path, media_type: str) -> str | None:
    """The file's text; None when a file of this type has none to give."""
    out = _Collected()
    if media_type == "application/pdf":
        _pdf(path, out)
    elif media_type == OOXML + "spreadsheetml.sheet":
        _workbook(path, out)
    elif media_type.startswith((OOXML, ODF)):
        _archive(path, media_type, out)
    elif media_type in {"text/plain", "text/csv"}:
        _plain(path, out)
    else:
        return None
    return out.text()


@contextmanager
def local_copy(sha256: str) -> Iterator[Path]:
    """The kept file as a path on the local disk (copied, in blocks, from object storage)."""
    kept = storage()
    if isinstance(kept, LocalStorage):
        yield kept.path(sha256)
        return
    with tempfile.NamedTemporaryFile(dir=kept.staging_folder(), suffix=".partial") as copy:
        with kept.open(sha256) as source:
            shutil.copyfileobj(source, copy, 1 << 16)
        copy.flush()
        yield Path(copy.name)


def extract_file(file_id: int) -> None:
    """The job: extract the text of one file version, if it still waits for it."""
    db = database.session()
    file = db.get(AttachmentFile, file_id)
    if file is None or file.text_state != "pending":
        return
    _extract_into(file)


def _extract_into(file: AttachmentFile) -> None:
    try:
        with local_copy(file.sha256) as path:
            found = extract(path, file.media_type)
    except MissingFileError:
        log.warning("attachment file %s is missing from storage", file.id)
        file.text_state = "failed"
        return
    except Exception as error:  # a damaged file of any kind: the search goes without it
        log.warning("no text from attachment file %s: %s", file.id, type(error).__name__)
        file.text_state = "failed"
        return
    file.text, file.text_state = found, ("none" if found is None else "done")


def extract_waiting(limit: int = 200) -> int:
    """The periodic job: extract the files whose message was lost; how many were done."""
    db = database.session()
    waiting: Any = db.scalars(
        sa.select(AttachmentFile)
        .where(
            AttachmentFile.text_state == "pending", AttachmentFile.uploaded_at < now() - LOST_AFTER
        )
        .order_by(AttachmentFile.id)
        .limit(limit)
    ).all()
    for file in waiting:
        _extract_into(file)
    return len(waiting)
