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
(rank 1 on top), ``y_range`` (fixed value axis, e.g. ``[0, 100]`` for
shares), ``type`` (``line``, or ``dots``: one point per category of ``x``,
e.g. a city's place per area in one edition), ``title``, ``x_label``,
``y_label`` (``CHART_KEYS``). Every chart has a text alternative (``desc``),
an HTML legend that wraps and a table of its values. The
view form's validator refuses a config of another shape, or a placeholder
that is more than a column name, in German. A view stored earlier draws
"no chart" for the former and shows the latter as text: never an error page.

Must not touch: how resources are created or validated.

Size: over 400 lines because reading the rows, scaling the axes and drawing
the SVG with its accessible value table are one drawing; the maps view
(``maps``) shares its row reader.
"""
from __future__ import annotations

import csv
import datetime
import io
import json
import math
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
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 20, 44
COLOURS = ("#00549f", "#e2001a", "#2e8b57", "#f28c00", "#7b3f98", "#008b8b", "#8b5a2b")
#: the config keys that take a text
TEXT_KEYS = ("type", "x", "y", "series", "series_label", "title", "x_label", "y_label")
#: every key a chart config may have; others are ignored
CHART_KEYS = (*TEXT_KEYS, "value_labels", "where", "invert_y", "y_range")
#: ``type``: a line per series over numbers or dates, or points per category
TYPES = ("line", "dots")
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
    #: how an x value is written (dates: 31.12.2024; categories of ``dots``)
    x_labels: dict[float, str] = field(default_factory=dict)
    #: the value axis' fixed bounds (``y_range``), else derived from the values
    y_range: tuple[float, float] | None = None
    #: ``type`` ``dots``: categories on the x-axis, points without lines
    dots: bool = False

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
    if config.get("type", "line") not in TYPES:
        raise ChartConfigError(tk._("„type“ in der Diagramm-Einstellung muss „line“ oder "
                                    "„dots“ sein."))
    if not _valid_range(config.get("y_range")):
        raise ChartConfigError(tk._("„y_range“ in der Diagramm-Einstellung muss eine Liste "
                                    "zweier Zahlen sein, die kleinere zuerst."))
    if not _text_maps(config.get("value_labels", {}), _is_text):
        raise ChartConfigError(tk._("„value_labels“ in der Diagramm-Einstellung muss je "
                                    "Spalte Werte auf Texte abbilden."))
    where = config.get("where", [])
    if not isinstance(where, list) or not _text_maps(dict(enumerate(where)), _is_scalar):
        raise ChartConfigError(tk._("„where“ in der Diagramm-Einstellung muss eine Liste "
                                    "von Spalte-Wert-Zuordnungen sein."))
    return config


def _valid_range(value: Any) -> bool:
    return value is None or (
        isinstance(value, list) and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool)
                and math.isfinite(v) for v in value)
        and value[0] < value[1])


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
@dataclass(frozen=True)
class ResourceTable:
    """The rows of an uploaded CSV resource and how its numbers are written."""

    rows: list[dict[str, str]]
    decimal_char: str


def resource_table(resource: dict[str, Any]) -> ResourceTable | None:
    """The rows of an uploaded CSV resource, read in the dialect the
    validation detects (encoding, delimiter, decimal mark; the resource's
    declared values win). Remote files are not read: the page must not wait
    for another server; files over MAX_BYTES neither."""
    if resource.get("url_type") != "upload":
        return None
    from ckan.lib.uploader import get_resource_uploader

    from .tabular import Declared, DialectError, sniff_bytes

    try:
        with open(get_resource_uploader(resource).get_path(resource["id"]), "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            return None
        found = sniff_bytes(data, Declared(resource.get("encoding") or None,
                                           resource.get("csv_delimiter") or None,
                                           resource.get("csv_decimal_char") or None))
    except (OSError, DialectError):
        return None
    text = data.decode(found.encoding.replace("-sig", ""), errors="replace").lstrip("\ufeff")
    return ResourceTable(list(csv.DictReader(io.StringIO(text), delimiter=found.delimiter)),
                         found.decimal_char)


def cell_number(text: str | None, decimal: str) -> float | None:
    """A number as the table writes it (decimal mark `decimal`), or None."""
    if not text:
        return None
    try:
        return float(text.replace(decimal, ".") if decimal != "." else text)
    except ValueError:
        return None


def _x_value(text: str | None, decimal: str) -> tuple[float, str | None] | None:
    """A number, or an ISO date placed as a fraction of its year."""
    number = cell_number(text, decimal)
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
    dots = config.get("type") == "dots"
    categories: dict[str, float] = {}
    for row in rows:
        y = cell_number(row.get(config["y"]), decimal)
        if y is None or not _matches(row, config.get("where")):
            continue
        if dots:  # each value of x is a category, in the order of the rows
            name = row.get(config["x"]) or ""
            x: tuple[float, str | None] | None = (
                categories.setdefault(name, float(len(categories))), name)
        else:
            x = _x_value(row.get(config["x"]), decimal)
        if x is None:
            continue
        if x[1]:
            x_labels[x[0]] = x[1]
        series[_series_name(row, config)].append((x[0], y))
    return Chart(title=config.get("title", ""), x_label=config.get("x_label", config["x"]),
                 y_label=config.get("y_label", config["y"]),
                 invert_y=bool(config.get("invert_y")),
                 series={name: sorted(values) for name, values in series.items()},
                 x_labels=x_labels, y_range=_fixed_range(config), dots=dots)


def render_view(view: dict[str, Any], resource: dict[str, Any]) -> Markup:
    try:
        config = chart_config(view.get("chart") or "")
    except ChartConfigError:
        config = None  # stored before the check: no chart, no error page
    table = resource_table(resource) if config is not None else None
    if config is None or table is None:
        return Markup('<p class="text-muted">{}</p>').format(
            tk._("Für diese Ressource kann kein Diagramm gezeichnet werden."))
    chart = chart_from_rows(table.rows, config, table.decimal_char)
    return svg(chart) + data_table(chart)


# -- drawing ---------------------------------------------------------------------
@dataclass(frozen=True)
class Axis:
    """The value axis: from ``low`` (at the bottom; at the top if ``inverted``)
    to ``high``, labelled at ``ticks``."""

    low: float
    high: float
    ticks: tuple[float, ...]
    inverted: bool = False


def _nice_step(span: float, count: int = 5) -> float:
    """A step of 1, 2 or 5 times a power of ten giving about ``count`` ticks."""
    raw = max(span / count, 1e-9)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def value_axis(values: list[float], inverted: bool = False,
               fixed: tuple[float, float] | None = None) -> Axis:
    """The axis for ``values``: ``fixed`` (``y_range``, e.g. 0 to 100 for shares)
    if given; ranks (``inverted``) from 1 at the top to a round number below
    the worst place, so that no line lies on the x-axis; other values from 0
    (or their minimum if negative) to a round number above the maximum."""
    if fixed is not None:
        low, high = fixed
        step = _nice_step(high - low)
    elif inverted:  # places: whole numbers, with room below the worst
        low = 1.0
        step = max(1.0, _nice_step(max(values) * 1.25))
        high = max(low + step, math.ceil(max(values) * 1.25 / step) * step)
    else:
        step = _nice_step(max(values) - min(0.0, min(values)) or 1.0)
        low = min(0.0, math.floor(min(values) / step) * step)
        high = max(low + step, math.ceil(max(values) / step) * step)
    first = math.ceil(low / step) * step
    ticks = [round(first + i * step, 9)
             for i in range(int((high - first) / step + 1e-9) + 1)]
    if inverted and ticks[0] != low:
        ticks.insert(0, low)  # place 1 is always labelled
    return Axis(low, high, tuple(t for t in ticks if low <= t <= high), inverted)


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    return start if high == low else start + (value - low) * (end - start) / (high - low)


def _fmt(value: float) -> str:
    """German: a decimal comma, at most two decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").replace(".", ",")


def _fixed_range(config: dict[str, Any]) -> tuple[float, float] | None:
    bounds = config.get("y_range")
    return (float(bounds[0]), float(bounds[1])) if bounds else None


def svg(chart: Chart) -> Markup:
    """A line chart (``type`` ``dots``: points only, one column per category)
    with grid lines at the value axis' ticks; every point carries its value as
    a tooltip; the legend is HTML below it (it wraps instead of being cut)."""
    if not chart.points:
        return Markup('<p class="text-muted">{}</p>').format(
            tk._("Keine Werte für das Diagramm."))
    xs = sorted({x for x, _ in chart.points})
    axis = value_axis([y for _, y in chart.points], chart.invert_y, chart.y_range)
    plot_bottom, plot_right = HEIGHT - BOTTOM, WIDTH - RIGHT
    inset = (plot_right - LEFT) / (2 * len(xs)) if chart.dots else 10

    def px(x: float) -> float:
        return _scale(x, xs[0], xs[-1], LEFT + inset, plot_right - inset) if len(xs) > 1 \
            else (LEFT + plot_right) / 2

    def py(y: float) -> float:
        y = min(max(y, axis.low), axis.high)  # a value outside y_range stays in the box
        return _scale(y, axis.low, axis.high, TOP, plot_bottom) if axis.inverted \
            else _scale(y, axis.low, axis.high, plot_bottom, TOP)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="vts-chart" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
             f'aria-label="{escape(chart.title)}"><title>{escape(chart.title)}</title>'
             f'<desc>{escape(describe(chart))}</desc>']
    for tick in axis.ticks:
        parts.append(f'<line class="vts-grid" x1="{LEFT}" y1="{py(tick):.1f}" '
                     f'x2="{plot_right}" y2="{py(tick):.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" '
                     f'font-size="12">{escape(_fmt(tick))}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" '
                 f'stroke="#666"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{plot_bottom}" '
                 'stroke="#666"/>')
    every = max(1, math.ceil(len(xs) * 60 / (plot_right - LEFT)))  # labels ≥ 60 px apart
    for number, x in enumerate(xs):
        if number % every == 0 or number == len(xs) - 1:
            parts.append(f'<text x="{px(x):.1f}" y="{plot_bottom + 18}" text-anchor="middle" '
                         f'font-size="12">{escape(chart.x_label_of(x))}</text>')
    parts.append(f'<text x="{(LEFT + plot_right) / 2}" y="{HEIGHT - 6}" text-anchor="middle" '
                 f'font-size="12">{escape(chart.x_label)}</text>')
    parts.append(f'<text x="14" y="{(TOP + plot_bottom) / 2}" font-size="12" '
                 f'transform="rotate(-90 14 {(TOP + plot_bottom) / 2})" text-anchor="middle">'
                 f'{escape(chart.y_label)}</text>')
    for number, (name, values) in enumerate(chart.series.items()):
        colour, dash = _style(number)
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in values)
        line = 'stroke="none"' if chart.dots else \
            f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"'
        parts.append(f'<polyline class="vts-series" data-series="{escape(name)}" fill="none" '
                     f'{line} points="{points}"/>')
        prefix = "" if chart.dots and len(chart.series) == 1 else f"{name} "
        for x, y in values:
            tip = f"{prefix}{chart.x_label_of(x)}: {chart.y_label} {_fmt(y)}"
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="{6 if chart.dots else 4}" '
                         f'fill="{colour}"><title>{escape(tip)}</title></circle>')
            if chart.dots:
                parts.append(f'<text x="{px(x) + 10:.1f}" y="{py(y) + 4:.1f}" font-size="12">'
                             f'{escape(_fmt(y))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts)) + legend(chart)


#: dash patterns, so that lines differ by more than colour (WCAG 1.4.1)
DASHES = ("none", "8 4", "2 3", "10 3 2 3", "4 4", "12 2", "1 2")


def _style(number: int) -> tuple[str, str]:
    return COLOURS[number % len(COLOURS)], DASHES[number % len(DASHES)]


def legend(chart: Chart) -> Markup:
    """The series' names beside a sample of their line (none for one series
    of ``dots``)."""
    if chart.dots and len(chart.series) < 2:
        return Markup("")
    items = []
    for number, name in enumerate(chart.series):
        colour, dash = _style(number)
        sample = (f'<svg width="28" height="12" aria-hidden="true" focusable="false">'
                  f'<line x1="0" y1="6" x2="28" y2="6" stroke="{colour}" stroke-width="3" '
                  f'stroke-dasharray="{dash}"/></svg>')
        items.append(f"<li>{sample} {escape(name)}</li>")
    return Markup(f'<ul class="vts-chart-legend">{"".join(items)}</ul>')


def describe(chart: Chart) -> str:
    """The chart in one sentence, for screen readers (the table has the values)."""
    xs = sorted({x for x, _ in chart.points})
    ys = [y for _, y in chart.points]
    return tk._("{y} für {series} ({count}), {x} {first} bis {last}; Werte von {low} "
                "bis {high}.").format(
        y=chart.y_label, series=", ".join(chart.series), count=len(chart.series),
        x=chart.x_label, first=chart.x_label_of(xs[0]), last=chart.x_label_of(xs[-1]),
        low=_fmt(min(ys)), high=_fmt(max(ys)))


def data_table(chart: Chart) -> Markup:
    """The chart's values as a table (screen readers, copying)."""
    xs = sorted({x for x, _ in chart.points})
    head = "".join(f'<th scope="col">{escape(chart.x_label_of(x))}</th>' for x in xs)
    body = []
    for name, values in chart.series.items():
        by_x = dict(values)
        cells = "".join(f"<td>{escape(_fmt(by_x[x])) if x in by_x else ''}</td>" for x in xs)
        body.append(f'<tr><th scope="row">{escape(name)}</th>{cells}</tr>')
    summary = escape(tk._("Werte als Tabelle"))
    return Markup(f'<details class="vts-chart-table"><summary>{summary}</summary>'
                  f'<table class="table table-condensed"><thead><tr><th scope="col">'
                  f'{escape(chart.y_label)}</th>{head}</tr></thead><tbody>{"".join(body)}'
                  f"</tbody></table></details>")
