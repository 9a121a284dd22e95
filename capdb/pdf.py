"""PDF documents from capdb's own HTML, with WeasyPrint, fetching nothing from outside.

Users' text in that HTML is escaped, yet nothing in a PDF may make the server fetch a URL:
not from another host, and not a file elsewhere on the server. ``data:`` URLs are embedded,
and so are the files under the caller's own folder, if it names one; every other URL is
refused and left out of the document.

WeasyPrint, with the font and image libraries it brings (some 60 MB), is imported on the
first PDF rather than when the application starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname


class OutsideResourceError(ValueError):
    """A URL that a PDF may not embed."""


def check_url(url: str, own_files: Path | None = None) -> None:
    """Raise :class:`OutsideResourceError` unless ``url`` is data or a file under ``own_files``."""
    if url.startswith("data:") or (own_files is not None and _is_own_file(url, own_files)):
        return
    raise OutsideResourceError(f"a capdb PDF embeds no outside resource: {url[:200]}")


def _is_own_file(url: str, own_files: Path) -> bool:
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return False
    return Path(url2pathname(parts.path)).resolve().is_relative_to(own_files.resolve())


def html_to_pdf(html: str, *, own_files: Path | None = None) -> bytes:
    """The PDF of ``html``; relative URLs are taken from ``own_files``."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    class OwnOnly(URLFetcher):  # type: ignore[misc]  # WeasyPrint is untyped
        def fetch(self, url: str, headers: Any = None) -> Any:
            check_url(url, own_files)
            return super().fetch(url, headers)

    base_url = str(own_files) if own_files is not None else None
    pdf: bytes = HTML(string=html, base_url=base_url, url_fetcher=OwnOnly()).write_pdf()
    return pdf
