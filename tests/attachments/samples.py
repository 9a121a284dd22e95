"""Files of every kind the attachment tests send, made here: nothing is downloaded."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from PIL import ExifTags, Image

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (18.0, 26.0, 24.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (1.0, 24.0, 36.0),
}


def pdf(words: str = "Judgment of the court of Gao") -> bytes:
    """A small, valid PDF of one page holding the words (in Helvetica)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({words}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def photo(image_format: str = "JPEG", *, size: tuple[int, int] = (64, 48)) -> bytes:
    """A picture carrying EXIF with the camera and a GPS position."""
    image = Image.new("RGB", size, (200, 120, 40))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Camera Maker"
    exif[ExifTags.Base.Model] = "Witness phone"
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    if image_format == "TIFF":
        # Pillow writes a TIFF's GPS directory only from EXIF it has read.
        with Image.open(io.BytesIO(photo("JPEG", size=size))) as read:
            exif = read.getexif()
            exif.get_ifd(ExifTags.IFD.GPSInfo)
    image.save(out, format=image_format, exif=exif)
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def exif_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif())


def docx(words: str = "Police report of the attack on the convoy") -> bytes:
    out = io.BytesIO()
    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Override PartName="/word/document.xml" '
            f'ContentType="{main}"/></Types>',
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body><w:p><w:r><w:t>{words}</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()


def xlsx(words: str = "Witness list") -> bytes:
    book = Workbook()
    book.active["A1"] = words
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv() -> bytes:
    return b"date,place,event\n2021-03-14,Aguelhok,convoy attacked\n2021-03-15,Gao,arrest\n"


def program() -> bytes:
    """A real executable of the machine's (what a renamed .exe would be to capdb)."""
    return Path("/bin/true").read_bytes()


def windows_program() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def web_page() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
