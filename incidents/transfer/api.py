"""Exports through the API: the same files as the incident list's download buttons.

An export holds every incident of the filter that the token's user may see, in the list's
order, with headers in the request's language (``Accept-Language``); it is recorded in
the audit trail with its filter and row count. See :mod:`incidents.transfer.exporting`.
"""

from __future__ import annotations

from typing import Any

from flask import Response

from capdb.i18n import current_locale
from incidents import policy
from incidents.api.access import allowed_or_403, session, viewer
from incidents.api.blueprint import api_blueprint
from incidents.api.queries import ExportQuery
from incidents.transfer import exporting

blp = api_blueprint("api_exports", __name__, "Exports of the filtered incident list as files.")

_CONTENT = {
    "csv": {"schema": {"type": "string"}},
    "xlsx": {"schema": {"type": "string", "format": "binary"}},
    "gpkg": {"schema": {"type": "string", "format": "binary"}},
    "geojson": {
        "schema": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"type": "object"}},
            },
            "required": ["type", "features"],
        }
    },
}


@blp.route(f"/incidents/export.<any({', '.join(exporting.FORMATS)}):export_format>")
@blp.arguments(ExportQuery, location="query", error_status_code=400)
@blp.doc(
    responses={
        "200": {
            "description": "The file, as an attachment.",
            "content": {
                media_type: _CONTENT[export_format]
                for export_format, media_type in exporting.MEDIA_TYPES.items()
            },
        }
    }
)
def export(query: dict[str, Any], export_format: str) -> Response:
    """Every incident of the filter that the viewer may see, as CSV, XLSX, GeoJSON or
    GeoPackage. CSV and GeoJSON are streamed as they are read."""
    allowed_or_403(policy.may_export(viewer()))
    wanted = exporting.ExportRequest(viewer(), query["filters"], query["sort"], current_locale())
    return exporting.response(session(), wanted, export_format)
