"""Maps of point tables: the ``vernetztestadt_map`` resource view.

Owns: the view type (IResourceView), reading the points of an uploaded CSV
resource (its ``latitude``/``longitude`` columns, WGS84) and drawing them
twice — as an inline SVG dot map inside the points' extent, which renders
without JavaScript and without network, and as the data of a Leaflet map
(ckanext-spatial's Leaflet and base-map settings
``ckanext.spatial.common_map.*``) that the JavaScript module
``vts-point-map`` draws over it when tiles can be loaded.

A view's ``map`` config (JSON): ``title``, ``label`` (the column naming a
point, default ``name``); the view form refuses other shapes in German, and a
view stored earlier with one draws no map instead of an error page.

Point names are data: escaped in the SVG, and carried to the JavaScript as
JSON in an HTML-escaped data attribute, which the module inserts as text only
(``assets/js/point-map.js``).

Must not touch: how resources are created or validated.
"""
from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import ckan.plugins.toolkit as tk
from markupsafe import Markup, escape

from ckanext.spatial.helpers import get_common_map_config

from .charts import resource_text

VIEW_TYPE = "vernetztestadt_map"
VIEW_TEMPLATE = "vernetztestadt/map_view.html"
FORM_TEMPLATE = "vernetztestadt/map_form.html"
WIDTH, HEIGHT, MARGIN = 640, 420, 16


def info() -> dict[str, Any]:
    not_empty = tk.get_validator("not_empty")
    unicode_safe = tk.get_validator("unicode_safe")
    return {"name": VIEW_TYPE, "title": tk._("Karte"), "icon": "map-marker",
            "iframed": False, "always_available": False, "default_title": tk._("Karte"),
            "schema": {"map": [not_empty, unicode_safe, _valid_map_config]}}


class MapConfigError(ValueError):
    """A map config of the wrong shape (German message)."""


def map_config(text: str) -> dict[str, str]:
    """The config of a map view, checked: an object whose ``title`` and
    ``label`` are texts."""
    try:
        config = json.loads(text or "{}")
    except (ValueError, TypeError, RecursionError):
        raise MapConfigError(tk._("Die Karten-Einstellung ist kein gültiges JSON.")) from None
    if not isinstance(config, dict) or not all(
            isinstance(config.get(key, ""), str) for key in ("title", "label")):
        raise MapConfigError(tk._("Die Karten-Einstellung muss ein JSON-Objekt sein, "
                                  "„title“ und „label“ Texte."))
    return config


def _valid_map_config(value: str) -> str:
    try:
        map_config(value)
    except MapConfigError as exc:
        raise tk.Invalid(str(exc)) from None
    return value


def can_view(data_dict: dict[str, Any]) -> bool:
    return (data_dict["resource"].get("format") or "").upper() == "CSV"


def points(resource: dict[str, Any], label: str = "name") -> list[tuple[float, float, str]]:
    """(latitude, longitude, label) of every row with coordinates."""
    text = resource_text(resource)
    if text is None:
        return []
    found = []
    for row in csv.DictReader(io.StringIO(text), delimiter=resource.get("csv_delimiter") or ","):
        try:
            lat, lon = float(row.get("latitude") or ""), float(row.get("longitude") or "")
        except ValueError:
            continue
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # also NaN: no JSON for it
            continue
        found.append((lat, lon, row.get(label) or ""))
    return found


def dot_map(found: list[tuple[float, float, str]], title: str) -> Markup:
    """The points in their extent, longitudes shortened by cos(latitude) so
    that the city keeps its shape."""
    lats, lons = [p[0] for p in found], [p[1] for p in found]
    squeeze = math.cos(math.radians(sum(lats) / len(lats)))
    width = max((max(lons) - min(lons)) * squeeze, 1e-6)
    height = max(max(lats) - min(lats), 1e-6)
    scale = min((WIDTH - 2 * MARGIN) / width, (HEIGHT - 2 * MARGIN) / height)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="vts-dot-map" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" aria-label="{escape(title)}">'
             f'<title>{escape(title)}</title>'
             f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#f4f6f8"/>']
    for lat, lon, label in found:
        x = MARGIN + (lon - min(lons)) * squeeze * scale
        y = HEIGHT - MARGIN - (lat - min(lats)) * scale
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#00549f">'
                     f'<title>{escape(label)}</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))


def render_view(view: dict[str, Any], resource: dict[str, Any]) -> Markup:
    try:
        config = map_config(view.get("map") or "")
    except MapConfigError:
        config = None  # stored before the check: no map, no error page
    found = points(resource, config.get("label") or "name") if config is not None else []
    if not found:
        return Markup('<p class="text-muted">{}</p>').format(
            tk._("Für diese Ressource kann keine Karte gezeichnet werden."))
    title = config.get("title") or view.get("title") or ""
    data = json.dumps([[round(lat, 6), round(lon, 6), label] for lat, lon, label in found],
                      ensure_ascii=False)
    base = json.dumps(get_common_map_config())
    count = tk._("{0} Standorte").format(len(found))
    return Markup('<div class="vts-point-map" data-module="vts-point-map" '
                  'data-module-points="{points}" data-module-map-config="{base}">'
                  '{svg}</div><p class="small vts-point-count">{count}</p>').format(
        points=data, base=base, svg=dot_map(found, title), count=count)


def template_variables(data_dict: dict[str, Any]) -> dict[str, Any]:
    return {"map_html": render_view(data_dict["resource_view"], data_dict["resource"])}
