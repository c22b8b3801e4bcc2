"""Charts of tabular resources: the ``vernetztestadt_chart`` resource view.

Owns: the view type (IResourceView: info, form, template variables), reading
the rows of an uploaded CSV resource, and drawing a line chart of them as
inline SVG — server-side, so the page needs no JavaScript library and no
network, and screen readers get a table of the same values. The dataset
page draws them inline too (``page_views``).

A view's ``chart`` config (JSON) names the columns: ``x`` (numbers, e.g.
``edition``, or ISO dates), ``y`` (numbers, e.g. ``rank``), optional
``series`` (one line per value, e.g. ``area``) or ``series_label`` (a
template over the row, e.g. ``"{technology} ≥ {min_mbit} Mbit/s"``: only
``{column}`` placeholders naming a column of the table, ``{{``/``}}`` for
braces; never a Python format string, so no format spec, index or
attribute access — other braces stay literal text),
``value_labels`` (column -> value -> label used in those names), ``where``
(draw only rows matching one of these column/value maps), ``invert_y``
(rank 1 on top), ``title``, ``x_label``, ``y_label`` (``CHART_KEYS``). The
view form's validator refuses a config of another shape, or a placeholder
that is more than a column name, in German. A view stored earlier draws
"no chart" for the former and shows the latter as text: never an error page.

Must not touch: how resources are created or validated.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import re
from collections import defaultdict
from collections.abc import Mapping
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
#: the config keys that take a text (``type`` is informative: always a line chart)
TEXT_KEYS = ("type", "x", "y", "series", "series_label", "title", "x_label", "y_label")
#: every key a chart config may have; others are ignored
CHART_KEYS = (*TEXT_KEYS, "value_labels", "where", "invert_y")
MAX_TEMPLATE = 200  # characters of a series_label
#: ``{{``, ``}}`` or one ``{...}`` of a series_label
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
#: what a placeholder may hold: a column name (letters, digits, _, -, space)
_COLUMN = re.compile(r"[\w\- ]+")


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
        template_columns(chart_config(value).get("series_label") or "")
    except ChartConfigError as exc:
        raise tk.Invalid(str(exc)) from None
    return value


# -- the config -------------------------------------------------------------------
class ChartConfigError(ValueError):
    """A chart config of the wrong shape (German message; it quotes only the
    config itself, which is the caller's own input)."""


def chart_config(text: str) -> dict[str, Any]:
    """The config of a chart view, checked: texts are texts, ``value_labels``
    maps columns to value -> label, ``where`` is a list of column -> value
    maps. (Its ``series_label``'s placeholders are the form's check,
    ``template_columns``: drawing leaves any other braces as text.)"""
    try:
        config = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        raise ChartConfigError(tk._("Die Diagramm-Einstellung ist kein gültiges JSON.")) \
            from None
    if not isinstance(config, dict) or not config.get("x") or not config.get("y"):
        raise ChartConfigError(
            tk._("Die Diagramm-Einstellung braucht die Spalten „x“ und „y“."))
    for key in TEXT_KEYS:
        if key in config and not isinstance(config[key], str):
            raise ChartConfigError(
                tk._("„{0}“ in der Diagramm-Einstellung muss ein Text sein.").format(key))
    if not isinstance(config.get("invert_y", False), bool):
        raise ChartConfigError(
            tk._("„invert_y“ in der Diagramm-Einstellung muss true oder false sein."))
    if not _text_maps(config.get("value_labels", {}), _is_text):
        raise ChartConfigError(tk._("„value_labels“ in der Diagramm-Einstellung muss je "
                                    "Spalte Werte auf Texte abbilden."))
    where = config.get("where", [])
    if not isinstance(where, list) or not _text_maps(dict(enumerate(where)), _is_scalar):
        raise ChartConfigError(tk._("„where“ in der Diagramm-Einstellung muss eine Liste "
                                    "von Spalte-Wert-Zuordnungen sein."))
    return config


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _text_maps(value: Any, valid: Any) -> bool:
    """``value`` maps keys to maps of text keys to valid values."""
    return isinstance(value, dict) and all(
        isinstance(inner, dict) and all(isinstance(k, str) and valid(v)
                                        for k, v in inner.items())
        for inner in value.values())


def template_columns(template: str) -> list[str]:
    """The column names a series_label template names; ChartConfigError for a
    placeholder that is more than a name (``{0}``, ``{area:>9}``,
    ``{area.__class__}``, ``{area[0]}``) or a template over MAX_TEMPLATE."""
    if len(template) > MAX_TEMPLATE:
        raise ChartConfigError(tk._("„series_label“ darf höchstens {0} Zeichen lang sein.")
                               .format(MAX_TEMPLATE))
    names = []
    for match in _FIELD.finditer(template):
        if match.group(1) is None:
            continue  # {{ or }}
        if not _is_column(match.group(1)):
            raise ChartConfigError(
                tk._("Im „series_label“ ist nur „{{Spalte}}“ erlaubt (ein Spaltenname, "
                     "ohne Formatangabe, Index oder Attribut), nicht „{0}“.")
                .format(match.group(0)[:40]))
        names.append(match.group(1))
    return names


def _is_column(name: str) -> bool:
    return bool(_COLUMN.fullmatch(name)) and not name.isdigit()


def fill_template(template: str, values: Mapping[str, str]) -> str:
    """``template`` with each ``{column}`` replaced by that column's value;
    ``{{``/``}}`` give braces, anything else (an unknown column, a format
    spec, an attribute) stays as written. Values are not scanned again."""
    def field(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        return values[name] if _is_column(name) and name in values else match.group(0)

    return _FIELD.sub(field, template)


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
    # the CSV's columns are the only names a label can draw on
    shown = {k: labels.get(k, {}).get(v, v) if isinstance(v, str) else ""
             for k, v in row.items() if isinstance(k, str) and k}
    if config.get("series_label"):
        return fill_template(config["series_label"], shown)
    return shown.get(config.get("series") or "") or str(config["y"])


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
    try:
        config = chart_config(view.get("chart") or "")
    except ChartConfigError:
        config = None  # stored before the check: no chart, no error page
    text = resource_text(resource) if config is not None else None
    if config is None or text is None:
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
