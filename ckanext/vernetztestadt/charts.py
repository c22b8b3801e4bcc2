"""Charts of tabular resources: the ``vernetztestadt_chart`` resource view.

Owns: the view type (IResourceView: info, form, template variables), reading
the rows of an uploaded CSV resource, and drawing a line chart of them as
inline SVG — server-side, so the page needs no JavaScript library and no
network, and screen readers get a table of the same values. The dataset
page draws them inline too (``page_views``).

A view's ``chart`` config (JSON) names the columns: ``x`` (numbers, e.g.
``edition``, or ISO dates), ``y`` (numbers, e.g. ``rank``), optional
``series`` (one line per value, e.g. ``area``) or ``series_label`` (a
template over the row, e.g. ``"{technology} ≥ {min_mbit} Mbit/s"``),
``value_labels`` (column -> value -> label used in those names), ``where``
(draw only rows matching one of these column/value maps), ``invert_y``
(rank 1 on top), ``title``, ``x_label``, ``y_label``.

Must not touch: how resources are created or validated.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import ckan.plugins.toolkit as tk
from markupsafe import Markup, escape

VIEW_TYPE = "vernetztestadt_chart"
VIEW_TEMPLATE = "vernetztestadt/chart_view.html"
FORM_TEMPLATE = "vernetztestadt/chart_form.html"
MAX_BYTES = 5 * 1024**2  # a chart of more data would be unreadable anyway
WIDTH, HEIGHT = 720, 340
LEFT, RIGHT, TOP, BOTTOM = 56, 190, 20, 44
COLOURS = ("#00549f", "#e2001a", "#2e8b57", "#f28c00", "#7b3f98", "#008b8b", "#8b5a2b")


@dataclass(frozen=True)
class Chart:
    title: str
    x_label: str
    y_label: str
    invert_y: bool
    series: dict[str, list[tuple[float, float]]]
    #: how an x value is written (dates: 31.12.2024)
    x_labels: dict[float, str] = field(default_factory=dict)

    def x_label_of(self, x: float) -> str:
        return self.x_labels.get(x) or _fmt(x)

    @property
    def points(self) -> list[tuple[float, float]]:
        return [p for values in self.series.values() for p in values]


# -- the view type ---------------------------------------------------------------
def info() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    unicode_safe = tk.get_validator("unicode_safe")
    return {"name": VIEW_TYPE, "title": tk._("Diagramm"), "icon": "chart-line",
            "iframed": False, "always_available": False, "default_title": tk._("Diagramm"),
            "schema": {"chart": [not_empty, unicode_safe, _valid_chart_config]}}


def _valid_chart_config(value: str) -> str:
    try:
        config = json.loads(value)
    except ValueError:
        raise tk.Invalid(tk._("Die Diagramm-Einstellung ist kein gültiges JSON.")) from None
    if not isinstance(config, dict) or not config.get("x") or not config.get("y"):
        raise tk.Invalid(tk._("Die Diagramm-Einstellung braucht die Spalten „x“ und „y“."))
    return value


def can_view(data_dict: dict[str, Any]) -> bool:
    return (data_dict["resource"].get("format") or "").upper() == "CSV"


def template_variables(data_dict: dict[str, Any]) -> dict[str, Any]:
    view, resource = data_dict["resource_view"], data_dict["resource"]
    return {"chart_svg": render_view(view, resource)}


# -- data -------------------------------------------------------------------------
def resource_text(resource: dict[str, Any]) -> str | None:
    """The CSV text of an uploaded resource (charts of remote files are not
    drawn: the page must not wait for another server)."""
    if resource.get("url_type") != "upload":
        return None
    from ckan.lib.uploader import get_resource_uploader

    path = get_resource_uploader(resource).get_path(resource["id"])
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES:
        return None
    return data.decode(resource.get("encoding") or "utf-8", errors="replace")


def _number(text: str | None, decimal: str) -> float | None:
    if not text:
        return None
    try:
        return float(text.replace(decimal, ".") if decimal != "." else text)
    except ValueError:
        return None


def _x_value(text: str | None, decimal: str) -> tuple[float, str | None] | None:
    """A number, or an ISO date placed as a fraction of its year."""
    number = _number(text, decimal)
    if number is not None:
        return number, None
    try:
        day = datetime.date.fromisoformat(text or "")
    except ValueError:
        return None
    return day.year + (day.timetuple().tm_yday - 1) / 366, day.strftime("%d.%m.%Y")


def _matches(row: dict[str, str], where: list[dict[str, Any]] | None) -> bool:
    return not where or any(all(row.get(k) == str(v) for k, v in condition.items())
                            for condition in where)


def _series_name(row: dict[str, str], config: dict[str, Any]) -> str:
    labels = config.get("value_labels") or {}
    shown = defaultdict(str, {k: labels.get(k, {}).get(v, v) for k, v in row.items() if k})
    if config.get("series_label"):
        return str(config["series_label"]).format_map(shown)
    return shown[config.get("series") or ""] or str(config["y"])


def chart_from_rows(rows: list[dict[str, str]], config: dict[str, Any],
                    decimal: str = ".") -> Chart:
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    x_labels: dict[float, str] = {}
    for row in rows:
        x, y = _x_value(row.get(config["x"]), decimal), _number(row.get(config["y"]), decimal)
        if x is None or y is None or not _matches(row, config.get("where")):
            continue
        if x[1]:
            x_labels[x[0]] = x[1]
        series[_series_name(row, config)].append((x[0], y))
    return Chart(title=config.get("title", ""), x_label=config.get("x_label", config["x"]),
                 y_label=config.get("y_label", config["y"]),
                 invert_y=bool(config.get("invert_y")),
                 series={name: sorted(values) for name, values in series.items()},
                 x_labels=x_labels)


def render_view(view: dict[str, Any], resource: dict[str, Any]) -> Markup:
    config = json.loads(view.get("chart") or "{}")
    text = resource_text(resource)
    if text is None or not config.get("x"):
        return Markup('<p class="text-muted">{}</p>').format(
            tk._("Für diese Ressource kann kein Diagramm gezeichnet werden."))
    rows = list(csv.DictReader(io.StringIO(text),
                               delimiter=resource.get("csv_delimiter") or ","))
    chart = chart_from_rows(rows, config, resource.get("csv_decimal_char") or ".")
    return svg(chart) + data_table(chart)


# -- drawing ---------------------------------------------------------------------
def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    return start if high == low else start + (value - low) * (end - start) / (high - low)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}".replace(".", ",")


def svg(chart: Chart) -> Markup:
    """A line chart; every point carries its value as a tooltip."""
    if not chart.points:
        return Markup('<p class="text-muted">{}</p>').format(
            tk._("Keine Werte für das Diagramm."))
    xs = sorted({x for x, _ in chart.points})
    y_low, y_high = min(y for _, y in chart.points), max(y for _, y in chart.points)
    if chart.invert_y:
        y_low, y_high = min(1.0, y_low), y_high
    plot_bottom, plot_right = HEIGHT - BOTTOM, WIDTH - RIGHT
    top, bottom = (plot_bottom, TOP) if not chart.invert_y else (TOP, plot_bottom)

    def px(x: float) -> float:
        return _scale(x, xs[0], xs[-1], LEFT + 10, plot_right - 10)

    def py(y: float) -> float:
        return _scale(y, y_low, y_high, top, bottom) if chart.invert_y else \
            _scale(y, y_low, y_high, bottom, top)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="vts-chart" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
             f'aria-label="{escape(chart.title)}"><title>{escape(chart.title)}</title>',
             f'<line x1="{LEFT}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" '
             'stroke="#666"/>',
             f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{plot_bottom}" stroke="#666"/>']
    for x in xs:
        parts.append(f'<text x="{px(x):.1f}" y="{plot_bottom + 18}" text-anchor="middle" '
                     f'font-size="12">{escape(chart.x_label_of(x))}</text>')
    for y in sorted({y_low, y_high, round((y_low + y_high) / 2)}):
        parts.append(f'<text x="{LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end" '
                     f'font-size="12">{escape(_fmt(y))}</text>')
    parts.append(f'<text x="{(LEFT + plot_right) / 2}" y="{HEIGHT - 6}" text-anchor="middle" '
                 f'font-size="12">{escape(chart.x_label)}</text>')
    parts.append(f'<text x="14" y="{(TOP + plot_bottom) / 2}" font-size="12" '
                 f'transform="rotate(-90 14 {(TOP + plot_bottom) / 2})" text-anchor="middle">'
                 f'{escape(chart.y_label)}</text>')
    for number, (name, values) in enumerate(chart.series.items()):
        colour = COLOURS[number % len(COLOURS)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in values)
        parts.append(f'<polyline class="vts-series" data-series="{escape(name)}" fill="none" '
                     f'stroke="{colour}" stroke-width="2" points="{points}"/>')
        for x, y in values:
            tip = f"{name} {chart.x_label_of(x)}: {chart.y_label} {_fmt(y)}"
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{colour}">'
                         f'<title>{escape(tip)}</title></circle>')
        legend_y = TOP + 8 + number * 18
        parts.append(f'<rect x="{plot_right + 14}" y="{legend_y - 8}" width="12" height="12" '
                     f'fill="{colour}"/><text x="{plot_right + 32}" y="{legend_y + 2}" '
                     f'font-size="12">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def data_table(chart: Chart) -> Markup:
    """The chart's values as a table (screen readers, copying)."""
    xs = sorted({x for x, _ in chart.points})
    head = "".join(f"<th>{escape(chart.x_label_of(x))}</th>" for x in xs)
    body = []
    for name, values in chart.series.items():
        by_x = dict(values)
        cells = "".join(f"<td>{escape(_fmt(by_x[x])) if x in by_x else ''}</td>" for x in xs)
        body.append(f"<tr><th>{escape(name)}</th>{cells}</tr>")
    summary = escape(tk._("Werte als Tabelle"))
    return Markup(f'<details class="vts-chart-table"><summary>{summary}</summary>'
                  f'<table class="table table-condensed"><thead><tr><th>'
                  f'{escape(chart.y_label)}</th>{head}</tr></thead><tbody>{"".join(body)}'
                  f"</tbody></table></details>")
