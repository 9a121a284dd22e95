"""Exports of the incident list: CSV, XLSX, GeoJSON and GeoPackage.

An export holds exactly what the incident list shows its viewer for the same filter and
order (:func:`incidents.filters.scoped_incidents`), every row of it rather than a page.
Rows are read in batches, so that 100,000 incidents export with flat memory: CSV and
GeoJSON are written as they are read, XLSX in openpyxl's write-only mode and GeoPackage
in chunks, both into temporary files.

An export carries no personal data: the victims of each incident are counted by outcome,
never named, so the same file is right for every viewer who may see the incident.
Headers are in the viewer's language, as are vocabulary labels and country names.
Text cells that a spreadsheet would take for a formula are neutralised in CSV and XLSX.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import Response, stream_with_context
from sqlalchemy.orm import Session

from auth import audit
from auth.models import User
from capdb.clock import now
from capdb.downloads import attachment
from capdb.reference import Country
from capdb.vocabularies import OUTCOME, Vocabulary
from incidents.fields import INCIDENT_FIELDS, Field, Kind, exported
from incidents.filters import DEFAULT_SORT, SORTS, IncidentFilters, order_key, scoped_incidents
from incidents.models import Incident, Victim
from incidents.transfer.columns import Column

FORMATS = ("csv", "xlsx", "geojson", "gpkg")
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
}
BATCH = 1_000
GPKG_CHUNK = 5_000
FILE_CHUNK_BYTES = 64 * 1024
# What a spreadsheet reads as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """The text, prefixed with an apostrophe if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


_DECLARED = exported(INCIDENT_FIELDS)
# The victims counted, in all and by outcome, follow the status: one column per outcome of
# the vocabulary as admins keep it (retired ones too: old records hold them). The outcomes
# capdb ships are headed in the plural; one an admin added, by its term's labels.
VICTIMS = Column("victims", "Victims", "Victimes")
_PLURALS = {
    "killed": ("Killed", "Tués"),
    "injured": ("Injured", "Blessés"),
    "abducted": ("Abducted", "Enlevés"),
    "detained": ("Detained", "Détenus"),
}


def counted_columns() -> tuple[Column, ...]:
    """The victims in all, then by outcome (keyed ``victims_`` and the outcome's code)."""
    return (
        VICTIMS,
        *(Column(f"victims_{t.code}", *_PLURALS.get(t.code, (t.en, t.fr))) for t in OUTCOME),
    )


def export_columns(declared_fields: tuple[Field, ...]) -> tuple[Column, ...]:
    """A column for each exported field, in their order, the counts after the status."""
    columns: list[Column] = []
    for declared in exported(declared_fields):
        columns.append(Column(declared.name, declared.en, declared.fr))
        if declared.name == "status":
            columns.extend(counted_columns())
    return tuple(columns)


_LABELLED: dict[str, Vocabulary] = {
    f.name: f.vocabulary for f in _DECLARED if f.kind is Kind.CHOICE and f.vocabulary is not None
}
_COUNTRIES = frozenset(f.name for f in _DECLARED if f.kind is Kind.COUNTRY)
# column key -> attribute of Incident, for the columns read straight from the incident
_ATTRIBUTES = {f.name: f.model_attribute for f in _DECLARED}


@dataclass(frozen=True)
class ExportRequest:
    """Whose export, of which filter and order, in which language; its columns are those
    of the outcomes when it was asked for, for every row alike."""

    user: User
    filters: IncidentFilters
    sort: str = DEFAULT_SORT
    locale: str = "en"
    columns: tuple[Column, ...] = field(default_factory=lambda: export_columns(INCIDENT_FIELDS))

    def headers(self) -> list[str]:
        return [column.header(self.locale) for column in self.columns]

    @property
    def counts(self) -> frozenset[str]:
        return frozenset(c.key for c in self.columns if c.key.startswith(VICTIMS.key))

    def index(self, key: str) -> int:
        return [column.key for column in self.columns].index(key)


def export_query(request: ExportRequest) -> sa.Select[Any]:
    """The list's query, its every row with the victims counted by outcome, in its order."""
    counts = (
        sa.select(
            Victim.incident_id.label("incident_id"),
            sa.func.count().label(VICTIMS.key),
            *(
                sa.func.sum(sa.case((Victim.outcome == outcome, 1), else_=0)).label(
                    f"victims_{outcome}"
                )
                for outcome in OUTCOME.codes
            ),
        )
        .where(Victim.deleted_at.is_(None))
        .group_by(Victim.incident_id)
        .subquery()
    )
    descending = SORTS[request.sort][1]
    column = order_key(request.sort, request.filters.q)
    order = (column.desc(), Incident.id.desc()) if descending else (column.asc(), Incident.id.asc())
    return (
        scoped_incidents(request.user, request.filters)
        .with_only_columns(
            *(getattr(Incident, name).label(key) for key, name in _ATTRIBUTES.items()),
            *(
                sa.func.coalesce(counts.c[c.key], 0).label(c.key)
                for c in request.columns
                if c.key in request.counts
            ),
        )
        .join_from(Incident, counts, counts.c.incident_id == Incident.id, isouter=True)
        .order_by(*order)
    )


def count(db: Session, request: ExportRequest) -> int:
    query = scoped_incidents(request.user, request.filters).with_only_columns(Incident.id)
    return db.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def record(db: Session, request: ExportRequest, export_format: str, rows: int) -> None:
    """The audit entry of an export: who, which format, filter and order, how many rows."""
    user = request.user
    audit.record(
        db,
        "export",
        user=user,
        target_type="incidents",
        detail={
            "format": export_format,
            "filters": request.filters.as_args(),
            "sort": request.sort,
            "rows": rows,
        },
    )


def rows(db: Session, request: ExportRequest) -> Iterator[list[Any]]:
    """Each incident's values in the order of its columns, labelled in the language."""
    countries = {c.code: c.name(request.locale) for c in db.scalars(sa.select(Country))}
    statement = export_query(request).execution_options(yield_per=BATCH)
    with db.execute(statement) as result:
        for row in result.mappings():
            yield [_value(column.key, row, countries, request) for column in request.columns]


def _value(key: str, row: sa.RowMapping, countries: dict[str, str], request: ExportRequest) -> Any:
    value = row[key]
    if key in _LABELLED:
        return _LABELLED[key].label(value, request.locale)
    if key in _COUNTRIES:
        return countries.get(value, value)
    if key in request.counts:
        return int(value)
    return value


# CSV and GeoJSON, written as they are read ------------------------------------------------


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_chunks(db: Session, request: ExportRequest) -> Iterator[str]:
    """The CSV text in pieces of a batch of rows, starting with a byte-order mark for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(request.headers())
    for number, row in enumerate(rows(db, request), start=1):
        writer.writerow([_csv_cell(value) for value in row])
        if number % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def feature(request: ExportRequest, headers: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
    latitude, longitude = row[request.index("latitude")], row[request.index("longitude")]
    geometry = None
    if latitude is not None and longitude is not None:
        geometry = {"type": "Point", "coordinates": [longitude, latitude]}
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {h: _json_value(v) for h, v in zip(headers, row, strict=True)},
    }


def geojson_chunks(db: Session, request: ExportRequest) -> Iterator[str]:
    """A GeoJSON FeatureCollection in pieces; incidents without coordinates have no geometry."""
    headers = request.headers()
    pieces = ['{"type":"FeatureCollection","features":[\n']
    for number, row in enumerate(rows(db, request)):
        separator = ",\n" if number else ""
        pieces.append(separator + json.dumps(feature(request, headers, row), ensure_ascii=False))
        if len(pieces) >= BATCH:
            yield "".join(pieces)
            pieces = []
    pieces.append("\n]}\n")
    yield "".join(pieces)


# XLSX and GeoPackage, written to files -----------------------------------------------------


def write_xlsx(db: Session, request: ExportRequest, target: IO[bytes] | Path) -> None:
    """The workbook in write-only mode, so rows go to disk as they come."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Incidents")
    sheet.freeze_panes = "A2"
    sheet.append(request.headers())

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            # Set as a string explicitly: openpyxl would take "=..." for a formula.
            written = WriteOnlyCell(sheet, value=neutralise(value))
            written.data_type = "s"
            return written
        if isinstance(value, date):
            written = WriteOnlyCell(sheet, value=value)
            written.number_format = "yyyy-mm-dd"
            return written
        if isinstance(value, time):
            return value.strftime("%H:%M")
        return value

    for row in rows(db, request):
        sheet.append([cell(value) for value in row])
    workbook.save(target)


def write_gpkg(db: Session, request: ExportRequest, path: Path) -> None:
    """A GeoPackage layer "incidents" in WGS 84, written in chunks."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point

    headers = request.headers()
    text_columns = [
        header
        for header, column in zip(headers, request.columns, strict=True)
        if column.key not in {*request.counts, "latitude", "longitude"}
    ]

    count_columns = [
        h for h, c in zip(headers, request.columns, strict=True) if c.key in request.counts
    ]
    latitude, longitude = request.index("latitude"), request.index("longitude")

    def frame(chunk: list[list[Any]]) -> Any:
        data = pd.DataFrame([[_json_value(v) for v in row] for row in chunk], columns=headers)
        data = data.astype(dict.fromkeys(text_columns, "object"))
        data = data.astype({headers[latitude]: "float64", headers[longitude]: "float64"})
        data = data.astype(dict.fromkeys(count_columns, "int64"))
        geometry = [
            Point(row[longitude], row[latitude]) if row[latitude] is not None else None
            for row in chunk
        ]
        return gpd.GeoDataFrame(data, geometry=geometry, crs="EPSG:4326")

    written = False
    chunk: list[list[Any]] = []
    for row in rows(db, request):
        chunk.append(row)
        if len(chunk) == GPKG_CHUNK:
            _append(frame(chunk), path, written)
            written, chunk = True, []
    if chunk or not written:
        _append(frame(chunk), path, written)


def _append(frame: Any, path: Path, exists: bool) -> None:
    frame.to_file(
        path,
        layer="incidents",
        driver="GPKG",
        engine="pyogrio",
        mode="a" if exists else "w",
        geometry_type="Point",
    )


# The response -------------------------------------------------------------------------------


def response(db: Session, request: ExportRequest, export_format: str) -> Response:
    """The export as a download, recorded in the audit trail with its filter and row count.

    CSV and GeoJSON stream as the rows are read. A workbook and a GeoPackage are only
    readable once whole (a zip archive, an SQLite database): they are written to a
    temporary file, with flat memory, then sent from it; nothing is left on disk once sent.
    """
    rows = count(db, request)
    record(db, request, export_format, rows)
    filename = f"incidents-{now().date().isoformat()}.{export_format}"
    media_type = MEDIA_TYPES[export_format]
    if export_format in ("csv", "geojson"):
        chunks = csv_chunks if export_format == "csv" else geojson_chunks
        pieces = _closing(db, chunks(db, request))
        sent = attachment(stream_with_context(pieces), media_type, filename)
    else:
        written = _xlsx_file(db, request) if export_format == "xlsx" else _gpkg_file(db, request)
        sent = attachment(_file_chunks(written), media_type, filename)
        sent.content_length = os.fstat(written.fileno()).st_size
        # Closed here too, should the body never be read (a HEAD request, a client gone).
        sent.call_on_close(written.close)
    # The total of the filter, as the list shows it (an export always counts exactly).
    sent.headers["X-Total-Count"] = str(rows)
    return sent


def _closing(db: Session, pieces: Iterator[str]) -> Iterator[str]:
    """The pieces, then the session closed: the request's teardown closed it before the
    body was sent, and reading the rows opened it again, with a connection of the pool."""
    try:
        yield from pieces
    finally:
        db.close()


def _file_chunks(handle: IO[bytes]) -> Iterator[bytes]:
    """The file's bytes, closing (and so deleting) it once sent, or once the client left."""
    with handle:
        while chunk := handle.read(FILE_CHUNK_BYTES):
            yield chunk


def _xlsx_file(db: Session, request: ExportRequest) -> IO[bytes]:
    # Deleted when closed.
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the response)
    try:
        write_xlsx(db, request, handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


def _gpkg_file(db: Session, request: ExportRequest) -> IO[bytes]:
    folder = Path(tempfile.mkdtemp(prefix="capdb-export-"))
    try:
        path = folder / "incidents.gpkg"
        write_gpkg(db, request, path)
        # The open file outlives its name: nothing is left behind once it is sent.
        return path.open("rb")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
