"""Charts drawn with matplotlib as SVG, and that SVG cleaned to what a page may inline.

Imported on the first chart, not when the application starts: matplotlib and the font
machinery it brings weigh some 40 MB that a process serving lists and exports never needs.

The cleaning keeps a small set of drawing elements carrying presentation attributes only
(no ``<style>``, no ``style=``, no script, no external reference), so that the markup can
sit inline in a page under a strict Content Security Policy.
"""

from __future__ import annotations

import io
import re
import threading
import xml.etree.ElementTree as ET
from typing import Any

import matplotlib
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from capdb import cache
from maps.tables import Chart, Table, cell_text, chart_inches

matplotlib.use("Agg")

# Okabe and Ito's colour-blind safe palette, then further distinct colours for many series.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
    "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#1F3A93", "#9E0142", "#5E4FA2", "#66A61E",
    "#A6761D", "#E7298A", "#1B9E77", "#666666",
)  # fmt: skip
RC: dict[Any, Any] = {
    "svg.fonttype": "none",  # text stays text
    "svg.hashsalt": "capdb",  # the same figure gives the same markup
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "text.parse_math": False,  # a "$" in a label is a dollar sign
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# Changed whenever the drawing code changes, so that no chart drawn before is served.
DRAWING_VERSION = 1
# rcParams are process-wide: one drawing at a time.
_drawing = threading.Lock()


def render(figure: Table) -> str:
    """The figure's chart as clean SVG markup; the same figure gives the same markup.

    Drawn once for every process of the deployment (see :mod:`capdb.cache`): the key is
    everything the drawing is made from, so a changed figure is a new key.
    """
    return cache.remembered(chart_key(figure), lambda: _render(figure))


def chart_key(figure: Table) -> str:
    """Everything the drawing is made from, digested."""
    return cache.digest(
        "chart", DRAWING_VERSION, matplotlib.__version__, figure.name, figure.title,
        figure.headers, figure.rows, figure.chart,
    )  # fmt: skip


def _render(figure: Table) -> str:
    with _drawing, matplotlib.rc_context(RC):
        drawing = _draw(figure)
        buffer = io.StringIO()
        drawing.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return clean_svg(buffer.getvalue(), prefix=f"chart-{figure.name}", title=figure.title)


def _series(figure: Table) -> list[tuple[str, list[float]]]:
    return [
        (figure.headers[i], [float(row[i] or 0) for row in figure.rows])
        for i in figure.chart.series
    ]


def _draw(figure: Table) -> MplFigure:
    categories = [cell_text(row[0]) for row in figure.rows]
    series = _series(figure)
    chart = figure.chart
    drawing = MplFigure(figsize=chart_inches(figure), layout="constrained")
    axes = drawing.add_subplot()
    legend = _draw_bars(axes, len(categories), series, chart)
    positions = list(range(len(categories)))
    value_axis = axes.xaxis if chart.horizontal else axes.yaxis
    value_axis.set_major_locator(MaxNLocator(integer=True))
    value_axis.set_label_text(chart.value_label)
    if chart.horizontal:
        axes.set_yticks(positions, categories)
        axes.set_ylim(len(categories) - 0.5, -0.5)  # the table's first row on top
    else:
        step = max(1, len(categories) // 24)
        rotation = 90 if len(categories) > 12 else 0
        axes.set_xticks(positions[::step], categories[::step], rotation=rotation)
        axes.set_xlim(-0.5, len(categories) - 0.5)
    if len(series) > 1:
        axes.legend(
            handles=legend, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False, fontsize=8
        )
    return drawing


def _draw_bars(
    axes: Any, count: int, series: list[tuple[str, list[float]]], chart: Chart
) -> list[Patch]:
    """Stacked or side by side, and the legend's keys.

    Bars of nothing are left out of the drawing; every series keeps its key, in its colour.
    """
    draw = axes.barh if chart.horizontal else axes.bar
    base = [0.0] * count
    thickness = 0.8 if chart.stacked else 0.8 / max(1, len(series))
    keys = []
    for index, (label, values) in enumerate(series):
        offset = 0.0 if chart.stacked else (index - (len(series) - 1) / 2) * thickness
        drawn = [(p, base[p], v) for p, v in enumerate(values) if v]
        draw(
            [p + offset for p, _low, _v in drawn],
            [v for _p, _low, v in drawn],
            thickness,
            [low for _p, low, _v in drawn],
            color=_colour(index),
        )
        keys.append(Patch(facecolor=_colour(index), label=label))
        if chart.stacked:
            base = [low + value for low, value in zip(base, values, strict=True)]
    return keys


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


# Cleaning the SVG ----------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XLINK_HREF = f"{{{XLINK_NS}}}href"
ALLOWED_ELEMENTS = frozenset(
    {"svg", "g", "defs", "clipPath", "path", "rect", "use", "text", "tspan", "title", "line"}
)
GEOMETRY = frozenset(
    {"d", "x", "y", "x1", "x2", "y1", "y2", "dx", "dy", "width", "height", "transform", "viewBox"}
)
PRESENTATION = frozenset(
    {
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-opacity",
        "stroke-linejoin",
        "stroke-linecap",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-miterlimit",
        "opacity",
        "clip-path",
        "font-family",
        "font-size",
        "font-style",
        "font-weight",
        "text-anchor",
        "dominant-baseline",
    }
)
# What an element of the drawing is referred to by: a clip path or a reused marker.
REFERENCE = re.compile(r'(?:url\(#|href="#)([\w.-]+)')


def clean_svg(markup: str, *, prefix: str, title: str) -> str:
    """Keep drawing elements with presentation attributes only; make ids unique to ``prefix``.

    Whatever is not known to be inert is dropped: ``<style>``, ``<script>``, metadata,
    event handlers, ``style`` attributes (their declarations become attributes), and any
    reference that is not to an element of the same drawing.
    """
    root = ET.fromstring(markup)  # noqa: S314 (matplotlib's output, not a user's file)
    referenced = set(REFERENCE.findall(markup))
    _prune(root)
    for element in root.iter():
        element.tag = _local(element.tag)  # one namespace, declared once on the root
        _clean_attributes(element, prefix, referenced)
    for size in ("width", "height"):
        root.attrib.pop(size, None)
    root.set("width", "100%")
    root.set("role", "img")
    root.set("aria-labelledby", f"{prefix}-title")
    root.set("stroke-linejoin", "round")
    root.set("stroke-linecap", "butt")
    heading = ET.Element("title", {"id": f"{prefix}-title"})
    heading.text = title
    root.insert(0, heading)
    root.set("xmlns", SVG_NS)
    return ET.tostring(root, encoding="unicode")


def _local(tag: str) -> str:
    namespace, _sep, name = tag.rpartition("}")
    return name if namespace == "{" + SVG_NS else ""


def _prune(element: ET.Element) -> None:
    for child in list(element):
        if _local(child.tag) in ALLOWED_ELEMENTS:
            _prune(child)
        else:
            element.remove(child)


def _clean_attributes(element: ET.Element, prefix: str, referenced: set[str]) -> None:
    original = dict(element.attrib)
    element.attrib.clear()
    declarations = (d.split(":", 1) for d in original.pop("style", "").split(";") if ":" in d)
    for name, value in [*((n.strip(), v.strip()) for n, v in declarations), *original.items()]:
        if name in GEOMETRY or name in PRESENTATION:
            reference = _local_url(value, prefix) if "url(" in value else value
            if reference is not None:
                element.set(name, reference)
        elif name == "id" and value in referenced:
            element.set("id", f"{prefix}-{value}")
        elif name in (XLINK_HREF, "href") and value.startswith("#"):
            # SVG 2's plain href: no second namespace in the page
            element.set("href", f"#{prefix}-{value[1:]}")


def _local_url(value: str, prefix: str) -> str | None:
    if not (value.startswith("url(#") and value.endswith(")")):
        return None
    return f"url(#{prefix}-{value[5:-1]})"
