"""Format ``geojson``: GeoJSON and paged OGC API Features / WFS responses.

Owns: a FeatureCollection of Points, WGS84 lon/lat (RFC 7946) unless the
legacy ``crs`` member names EPSG:25832. With OGC API ``links`` the
``rel="next"`` link is returned as the next page.

Must not touch: what all hotspot formats share (``hotspot_rows``), CKAN.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from . import grids
from .coordinates import check_degrees, from_utm32
from .hotspot_rows import (
    GEOJSON,
    NO_COORDINATES,
    NO_GEOMETRY,
    NOT_A_POINT,
    OGCAPI,
    Document,
    HotspotFormat,
    HotspotFormatError,
    Row,
    Rows,
    as_text,
    first_of,
    make_row,
    required_member,
    safe_id,
    salted,
)


class GeoJson(HotspotFormat):
    name = "geojson"
    title = "GeoJSON und OGC API Features"
    hint = "„features“ (GeoJSON)"
    order = 10

    def recognises(self, document: Document) -> bool:
        data = document.json
        return isinstance(data, dict) and (data.get("type") == "FeatureCollection"
                                           or isinstance(data.get("features"), list))

    def read(self, document: Document, rows: Rows, source_url: str) -> str | None:
        return _geojson(document.json, rows, source_url)


def _declared_crs(document: dict[str, Any]) -> str:
    """``EPSG:25832`` or ``EPSG:4326`` (lon/lat, as GeoJSON writes it)."""
    crs = document.get("crs")
    if crs is None:
        return "EPSG:4326"
    properties = crs.get("properties") if isinstance(crs, dict) else None
    name = as_text(first_of(properties, "name", "code")) if isinstance(properties, dict) else None
    if name is None:
        raise HotspotFormatError("Das Koordinatensystem (crs) ist unlesbar.")
    code = re.search(r"(\d+)\s*$", name)
    if "CRS84" in name.upper() or (code and code.group(1) in ("4326", "4258")):
        return "EPSG:4326"  # ETRS89 and WGS84 differ by well under a metre
    if code and code.group(1) == "25832":
        return "EPSG:25832"
    raise HotspotFormatError(f"Das Koordinatensystem „{name}“ wird nicht unterstützt "
                             "(erwartet EPSG:25832 oder WGS84).")


def _next_url(links: Any, source_url: str) -> str | None:
    """The ``rel="next"`` link, preferring a JSON one; absolute."""
    if not isinstance(links, list):
        return None
    found = [link for link in links if isinstance(link, dict) and as_text(link.get("href"))
             and "next" in str(link.get("rel", "")).split()]
    if not found:
        return None
    best = next((link for link in found if "json" in str(link.get("type", ""))), found[0])
    return urljoin(source_url, str(best["href"]).strip())


def _geojson(document: Any, rows: Rows, source_url: str) -> str | None:
    features = required_member(document, "features", list, "GeoJSON")
    crs = _declared_crs(document)
    source = OGCAPI if "links" in document or "numberReturned" in document else GEOJSON
    for number, feature in enumerate(features, 1):
        where = f"Feature {number}"
        if not isinstance(feature, dict):
            raise HotspotFormatError(f"{where} ist kein GeoJSON-Feature.")
        position = _feature_position(feature.get("geometry"), rows)
        if position is None:
            continue
        x, y = position
        if crs == "EPSG:25832":
            latitude, longitude = from_utm32(x, y, where,
                                              "die Datei gibt aber EPSG:25832 als crs an")
        else:
            latitude, longitude = y, x
            check_degrees(latitude, longitude, where,
                           "die Datei gibt aber kein solches Koordinatensystem (crs) an")
        properties = feature.get("properties")
        rows.add(_feature_row(properties if isinstance(properties, dict) else {},
                              feature.get("id"), latitude, longitude, source, rows.salt))
    return _next_url(document.get("links"), source_url)


def _feature_position(geometry: Any, rows: Rows) -> tuple[float, float] | None:
    """(x, y) of a Point (or a MultiPoint of one point); skips anything else."""
    if not isinstance(geometry, dict):
        rows.skip(NO_GEOMETRY)
        return None
    kind, coordinates = geometry.get("type"), geometry.get("coordinates")
    if kind == "MultiPoint" and isinstance(coordinates, list) and len(coordinates) == 1:
        coordinates = coordinates[0]
    elif kind != "Point":
        rows.skip(NOT_A_POINT)
        return None
    if not isinstance(coordinates, list):
        coordinates = []
    numbers = [grids.number(value) for value in coordinates[:2]]
    if len(numbers) < 2 or None in numbers:
        rows.skip(NO_COORDINATES)
        return None
    return numbers[0], numbers[1]


def _feature_row(properties: dict[str, Any], feature_id: Any, latitude: float,
                 longitude: float, source: str, salt: str) -> Row:
    name = as_text(first_of(properties, "name", "bezeichnung", "titel", "title"))
    row_id = safe_id("geo", feature_id if as_text(feature_id) else first_of(properties, "id"),
                      salt)
    if row_id is None:
        # no id: the same place under the same name keeps its id between runs
        row_id = "geo-" + salted(salt, f"{name or ''}|{latitude:.6f}|{longitude:.6f}")[:16]
    street = as_text(first_of(properties, "street", "strasse", "straße", "addr:street", "adresse"))
    number = as_text(first_of(properties, "housenumber", "hausnummer", "hausnr",
                          "addr:housenumber"))
    if street and number and not street.endswith(number):
        street = f"{street} {number}"
    return make_row(row_id, name or f"WLAN-Hotspot {row_id.removeprefix('geo-')}", latitude,
                longitude, source, street=street,
                postcode=first_of(properties, "postcode", "plz", "addr:postcode"),
                district=first_of(properties, "district", "stadtteil", "ortsteil",
                                "addr:suburb"),
                operator=first_of(properties, "operator", "betreiber"),
                ssid=first_of(properties, "ssid", "internet_access:ssid"),
                last_seen=first_of(properties, "last_seen", "lastseen"))
