"""PDFs embed data and the caller's own files, and never make the server fetch anything else."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from capdb.pdf import OutsideResourceError, check_url, html_to_pdf
from maps.report import OWN_FILES

# A 1x1 GIF.
PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="


@pytest.mark.parametrize(
    "url",
    [
        "http://example.invalid/logo.png",
        "https://example.invalid/style.css",
        "ftp://example.invalid/x",
        "file:///etc/passwd",
        f"file://{OWN_FILES}/../../../capdb/config.py",
        "file://evil.example/share/x.png",
        "//example.invalid/x.png",
    ],
)
def test_outside_urls_are_refused(url: str) -> None:
    with pytest.raises(OutsideResourceError, match="no outside resource"):
        check_url(url, OWN_FILES)


def test_without_a_folder_only_data_is_embedded() -> None:
    check_url(PIXEL)
    with pytest.raises(OutsideResourceError):
        check_url((OWN_FILES / "report.html").as_uri())


def test_data_and_own_files_are_embedded() -> None:
    check_url(PIXEL, OWN_FILES)
    check_url((OWN_FILES / "report.html").as_uri(), OWN_FILES)


@pytest.fixture
def listener() -> Iterator[tuple[str, list[bytes]]]:
    """A real HTTP port on this machine, recording every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _address = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(1)
                connections.append(connection.recv(1024))
                connection.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", connections
    finally:
        stop.set()
        thread.join()
        server.close()


def test_a_pdf_asks_no_other_address(listener: tuple[str, list[bytes]]) -> None:
    address, connections = listener
    html = (
        f'<link rel="stylesheet" href="{address}/style.css">'
        f'<p>Dossier text</p><img src="{address}/logo.png"><img src="{PIXEL}">'
    )
    pdf = html_to_pdf(html, own_files=OWN_FILES)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Dossier text" in text
    assert connections == []


def test_the_listener_sees_a_request(listener: tuple[str, list[bytes]]) -> None:
    """The check above is only worth something if a fetch would have been seen."""
    address, connections = listener
    host, port = address.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(b"GET /logo.png HTTP/1.0\r\n\r\n")
        client.recv(1024)
    assert connections
    assert connections[0].startswith(b"GET /logo.png")


def test_relative_urls_come_from_the_folder(tmp_path: Path) -> None:
    (tmp_path / "style.css").write_text("p { color: rgb(255, 0, 0); }", encoding="utf-8")
    outside = tmp_path.parent / "outside.css"
    pdf = html_to_pdf('<link rel="stylesheet" href="style.css"><p>Red</p>', own_files=tmp_path)
    assert pdf.startswith(b"%PDF")
    with pytest.raises(OutsideResourceError):
        check_url(outside.as_uri(), tmp_path)
