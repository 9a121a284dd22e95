"""The map page's folium map, taken apart to fit the site's Content Security Policy.

Folium's assets are replaced by the ones capdb serves, its inline script is handed to the
page to carry the response's nonce, and its inline styles are left out for ``map.css``.
The map holds no data: ``map.js`` fills its layers from the ``/maps/data/...`` endpoints.

Imported by the map page when it is first asked for: folium and what it brings are not
loaded by a process that never serves a map.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import folium
from flask import url_for
from flask_babel import gettext as _
from folium.elements import JSCSSMixin
from folium.plugins import HeatMap
from folium.template import Template
from markupsafe import Markup

from capdb import vendor
from capdb.config import current_config
from incidents.filters import IncidentFilters
from maps.viewport import MAX_ZOOM


@dataclass(frozen=True)
class RenderedMap:
    """A folium map taken apart: the page places each piece itself."""

    element_id: str
    stylesheets: list[str]
    scripts: list[str]
    code: Markup


class _Attach(JSCSSMixin):
    """Hands folium's map and layers to map.js, with what it needs to fetch their data."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            capdbMap.attach({{ this._parent.get_name() }}, {
                {%- for role, name in this.layers.items() %}
                {{ role|tojson }}: {{ name }},
                {%- endfor %}
            }, {{ this.config|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, layers: dict[str, str], config: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium is untyped
        self._name = "CapdbMap"
        self.layers = layers
        self.config = config
        self.default_js = [("capdb_map", url_for("static", filename="js/map.js"))]


def render_map(filters: IncidentFilters, measure: str) -> RenderedMap:
    figure = build_map(filters, measure).get_root()
    parts = _FoliumParts()
    parts.feed(figure.render())
    parts.close()
    return parts.checked()


def build_map(filters: IncidentFilters, measure: str) -> folium.Map:
    """The map with empty layers; map.js fills them for each view."""
    world = folium.Map(
        location=[12.0, 15.0],
        zoom_start=3,
        tiles=None,
        min_zoom=2,
        max_zoom=MAX_ZOOM,
        max_bounds=True,
        control_scale=True,
    )
    world.default_js = [("leaflet", vendor.url("leaflet", "leaflet.js"))]
    world.default_css = [("leaflet_css", vendor.url("leaflet", "leaflet.css"))]
    tile_url = current_config().tile_url
    if tile_url:
        folium.TileLayer(
            tiles=tile_url, attr=_("Background map"), name=_("Background map"), control=False
        ).add_to(world)
    borders = folium.FeatureGroup(name=_("Country borders"), control=False).add_to(world)
    shaded = folium.FeatureGroup(name=_("Areas shaded by count"), show=False).add_to(world)
    heat = HeatMap(  # type: ignore[no-untyped-call]  # folium is untyped
        [], name=_("Heat map"), show=False, radius=18, blur=14, min_opacity=0.35
    )
    heat.default_js = [("leaflet_heat", vendor.url("leaflet.heat", "leaflet-heat.js"))]
    heat.add_to(world)
    clusters = folium.FeatureGroup(name=_("Incident clusters"), show=True).add_to(world)
    folium.LayerControl(collapsed=False).add_to(world)
    layers = {
        "borders": borders.get_name(),
        "choropleth": shaded.get_name(),
        "heat": heat.get_name(),
        "clusters": clusters.get_name(),
    }
    _Attach(layers, map_config(filters, measure, has_tiles=bool(tile_url))).add_to(world)
    return world


def map_config(filters: IncidentFilters, measure: str, *, has_tiles: bool) -> dict[str, Any]:
    return {
        "urls": {
            name: url_for(f"maps.{name}")
            for name in ("clusters", "heat", "choropleth", "boundaries")
        },
        "filters": filters.as_args(),
        "measure": measure,
        "maxZoom": MAX_ZOOM,
        "hasTiles": has_tiles,
        "statusId": "map-status",
        "strings": {
            "incidents": _("Incidents: {count}"),
            "fatalities": _("Fatalities: {count}"),
            "cluster": _("{count} incidents here: select to zoom in."),
            "inView": _("{count} incidents in view."),
            "loading": _("Loading the map data…"),
            "failed": _("The map data could not be loaded. Try again later."),
            "legend": _("Incidents") if measure == "incidents" else _("Fatalities"),
            "unmapped": _("{count} incidents are in no area of this level."),
            "zoomIn": _("Zoom in"),
            "zoomOut": _("Zoom out"),
        },
    }


class _FoliumParts(HTMLParser):
    """The assets, map element and inline scripts of folium's page; its styles are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.element_id = ""
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            if values.get("src"):
                self.scripts.append(str(values["src"]))
            else:
                self._in_script = True
        elif tag == "link" and values.get("rel") == "stylesheet" and values.get("href"):
            self.stylesheets.append(str(values["href"]))
        elif tag == "div" and "folium-map" in (values.get("class") or "").split():
            self.element_id = str(values.get("id") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline.append(data)

    def checked(self) -> RenderedMap:
        for url in self.stylesheets + self.scripts:
            if not url.startswith("/") or url.startswith("//"):
                raise RuntimeError(f"the map would load {url} from another host")
        code = "\n".join(part.strip() for part in self.inline if part.strip())
        if "</script" in code.lower() or not self.element_id:
            raise RuntimeError("folium's output cannot be placed in the page safely")
        # Folium's own code, with our values passed through |tojson: no raw input in it.
        return RenderedMap(self.element_id, self.stylesheets, self.scripts, Markup(code))  # noqa: S704
