"""Maps of point tables: the ``vernetztestadt_map`` resource view.

Owns: the view type (IResourceView), reading the points of an uploaded CSV
resource (its ``latitude``/``longitude`` columns, WGS84) and drawing them
twice — as an inline SVG dot map inside the points' extent (over the city's
outline, if ``ckanext.vernetztestadt.map_outline`` names a GeoJSON file, and
with a scale bar), which renders without JavaScript and without network, and
as the data of a Leaflet map
(ckanext-spatial's Leaflet and base-map settings
``ckanext.spatial.common_map.*``) that the JavaScript module
``vts-point-map`` draws over it once a tile has loaded (only where a tile
provider is set).

A view's ``map`` config (JSON): ``title``, ``label`` (the column naming a
point, default ``name``); the view form refuses other shapes in German, and a
view stored earlier with one draws no map instead of an error page.

Point names are data: escaped in the SVG, and carried to the JavaScript as
JSON in an HTML-escaped data attribute, which the module inserts as text only
(``assets/js/point-map.js``).

Must not touch: how resources are created or validated.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk
from markupsafe import Markup, escape

from ckanext.spatial.helpers import get_common_map_config

from . import table_schemas
from .charts import cell_number, resource_table

VIEW_TYPE = "vernetztestadt_map"
VIEW_TEMPLATE = "vernetztestadt/map_view.html"
FORM_TEMPLATE = "vernetztestadt/map_form.html"
WIDTH, MARGIN, SCALE_BAR = 640, 16, 18
MIN_HEIGHT, MAX_HEIGHT = 240, 560


def info() -> dict[str, Any]:
    default = tk.get_validator("default")
    unicode_safe = tk.get_validator("unicode_safe")
    # a default view (created by CKAN for an upload) has no config: "{}"
    return {"name": VIEW_TYPE, "title": tk._("Karte"), "icon": "map-marker",
            "iframed": False, "always_available": False, "default_title": tk._("Karte"),
            "schema": {"map": [default("{}"), unicode_safe, _valid_map_config]}}


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
    """CSV tables whose Table Schema (the resource's, else its dataset type's)
    has ``latitude`` and ``longitude``: CKAN then adds the view to every such
    upload (``ckan.views.default_views``), as harvesters do to theirs."""
    resource = data_dict["resource"]
    if (resource.get("format") or "").upper() != "CSV":
        return False
    dataset_type = (data_dict.get("package") or {}).get("type") or "dataset"
    reference = table_schemas.for_resource(resource, dataset_type)
    return {"latitude", "longitude"} <= table_schemas.field_names(reference)


def points(resource: dict[str, Any], label: str = "name") -> list[tuple[float, float, str]]:
    """(latitude, longitude, label) of every row with coordinates."""
    table = resource_table(resource)
    if table is None:
        return []
    found = []
    for row in table.rows:
        lat = cell_number(row.get("latitude"), table.decimal_char)
        lon = cell_number(row.get("longitude"), table.decimal_char)
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            continue  # also NaN: no JSON for it
        found.append((lat, lon, row.get(label) or ""))
    return found


#: one degree of latitude in km (WGS84, mid-latitudes)
KM_PER_DEGREE = 111.2


@dataclass(frozen=True)
class Frame:
    """How degrees become SVG units: the extent, the squeeze of longitudes by
    cos(latitude) (so that the city keeps its shape) and the scale, with the
    drawing's height fitted to the extent's shape (no empty band)."""

    west: float
    south: float
    squeeze: float
    scale: float
    height: float
    lift: float = 0.0  # centres a flat extent in the minimum height

    @classmethod
    def around(cls, lats: list[float], lons: list[float]) -> Frame:
        squeeze = math.cos(math.radians(sum(lats) / len(lats)))
        width = max((max(lons) - min(lons)) * squeeze, 1e-6)
        height = max(max(lats) - min(lats), 1e-6)
        scale = min((WIDTH - 2 * MARGIN) / width, (MAX_HEIGHT - 2 * MARGIN) / height)
        needed = height * scale + 2 * MARGIN + SCALE_BAR
        drawn = max(MIN_HEIGHT, needed)
        return cls(min(lons), min(lats), squeeze, scale, drawn, (drawn - needed) / 2)

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (MARGIN + (lon - self.west) * self.squeeze * self.scale,
                self.height - MARGIN - SCALE_BAR - self.lift - (lat - self.south) * self.scale)


def scale_bar(frame: Frame) -> str:
    """A bar of 1, 2 or 5 times 10^n km, about a fifth of the map's width."""
    km_per_unit = KM_PER_DEGREE / frame.scale
    target = WIDTH / 5 * km_per_unit
    power = 10 ** math.floor(math.log10(target))
    km = max(m * power for m in (1, 2, 5) if m * power <= target)
    length = km / km_per_unit
    label = f"{km:g} km".replace(".", ",") if km >= 1 else f"{km * 1000:g} m"
    x, y = MARGIN, frame.height - MARGIN / 2
    return (f'<g class="vts-scale" aria-hidden="true"><path d="M{x} {y - 6}V{y}H{x + length:.1f}'
            f'V{y - 6}" fill="none" stroke="#333" stroke-width="1.5"/>'
            f'<text x="{x + length + 6:.1f}" y="{y}" font-size="12">{label}</text></g>')


def outline_paths(frame: Frame, rings: list[list[tuple[float, float]]]) -> str:
    parts = []
    for ring in rings:
        points = " ".join("{:.1f},{:.1f}".format(*frame.xy(lat, lon)) for lon, lat in ring)
        parts.append(f'<polygon class="vts-outline" points="{points}" fill="#e8edf2" '
                     'stroke="#5a6b7b" stroke-width="1.2"/>')
    return "".join(parts)


def dot_map(found: list[tuple[float, float, str]], title: str,
            rings: list[list[tuple[float, float]]] | None = None) -> Markup:
    """The points, over the city's outline (``rings`` of (lon, lat), from
    ``ckanext.vernetztestadt.map_outline``) if one is set, with a scale bar."""
    rings = rings or []
    lats = [p[0] for p in found] + [lat for ring in rings for _, lat in ring]
    lons = [p[1] for p in found] + [lon for ring in rings for lon, _ in ring]
    frame = Frame.around(lats, lons)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="vts-dot-map" role="img" '
             f'viewBox="0 0 {WIDTH} {frame.height:.0f}" width="100%" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
             f'<rect width="{WIDTH}" height="{frame.height:.0f}" fill="#f4f6f8"/>',
             outline_paths(frame, rings)]
    for lat, lon, label in found:
        x, y = frame.xy(lat, lon)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#00549f">'
                     f'<title>{escape(label)}</title></circle>')
    parts.append(scale_bar(frame))
    parts.append("</svg>")
    return Markup("".join(parts))


def city_outline() -> list[list[tuple[float, float]]]:
    """The outer rings (lon, lat) of the GeoJSON Polygon or MultiPolygon (or a
    Feature/FeatureCollection of them) in ``ckanext.vernetztestadt.map_outline``;
    none if unset or unreadable (the map is drawn without it)."""
    path = tk.config.get("ckanext.vernetztestadt.map_outline")
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as handle:
            return _rings(json.load(handle))
    except (OSError, ValueError, TypeError, KeyError, IndexError):
        return []


def _rings(geojson: dict[str, Any]) -> list[list[tuple[float, float]]]:
    kind = geojson.get("type")
    if kind == "FeatureCollection":
        return [r for feature in geojson["features"] for r in _rings(feature)]
    if kind == "Feature":
        return _rings(geojson["geometry"])
    polygons = {"Polygon": [geojson.get("coordinates")],
                "MultiPolygon": geojson.get("coordinates")}.get(kind) or []
    return [[(float(lon), float(lat)) for lon, lat, *_ in polygon[0]] for polygon in polygons]


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
        points=data, base=base, svg=dot_map(found, title, city_outline()), count=count)


def template_variables(data_dict: dict[str, Any]) -> dict[str, Any]:
    return {"map_html": render_view(data_dict["resource_view"], data_dict["resource"])}
