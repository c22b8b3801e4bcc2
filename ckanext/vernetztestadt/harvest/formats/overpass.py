"""Format ``overpass``: OpenStreetMap data from the Overpass API.

Owns: elements tagged ``internet_access`` = wlan/wifi/yes as rows; ways and
relations need ``out center`` (or ``out geom``, whose bounds give the centre).

Must not touch: what all hotspot formats share (``hotspot_rows``), CKAN.
"""
from __future__ import annotations

from typing import Any

from . import grids
from .coordinates import location_of, valid_degrees
from .hotspot_rows import (
    IMPLAUSIBLE,
    NO_COORDINATES,
    NO_WLAN,
    OSM,
    Document,
    HotspotFormat,
    HotspotFormatError,
    Rows,
    as_text,
    make_row,
    required_member,
)


class Overpass(HotspotFormat):
    name = "overpass"
    title = "OpenStreetMap (Overpass-JSON)"
    hint = "„elements“ (Overpass)"
    order = 20

    def recognises(self, document: Document) -> bool:
        data = document.json
        return isinstance(data, dict) and isinstance(data.get("elements"), list)

    def read(self, document: Document, rows: Rows, source_url: str) -> None:
        _overpass(document.json, rows)


_WLAN_VALUES = {"wlan", "yes", "wifi"}

_OSM_TYPES = ("node", "way", "relation")


def _overpass(document: Any, rows: Rows) -> None:
    elements = required_member(document, "elements", list, "Overpass-JSON")
    for number, element in enumerate(elements, 1):
        if not isinstance(element, dict):
            raise HotspotFormatError(f"Element {number} ist kein OSM-Element.")
        tags = element.get("tags") if isinstance(element.get("tags"), dict) else {}
        access = {value.strip().casefold() for value in str(tags.get("internet_access", ""))
                  .split(";")}
        if not access & _WLAN_VALUES:
            rows.skip(NO_WLAN)
            continue
        kind, osm_id = element.get("type"), element.get("id")
        if kind not in _OSM_TYPES or not isinstance(osm_id, int) or isinstance(osm_id, bool):
            raise HotspotFormatError(f"Element {number}: Typ oder Kennung fehlt.")
        point = (location_of(element) or location_of(element.get("center"))
                 or _bounds_centre(element))
        if point is None:
            rows.skip(NO_COORDINATES)
            continue
        if not valid_degrees(*point):
            rows.skip(IMPLAUSIBLE)
            continue
        street = " ".join(filter(None, (as_text(tags.get("addr:street")),
                                        as_text(tags.get("addr:housenumber")))))
        rows.add(make_row(f"osm-{kind}-{osm_id}",
                      as_text(tags.get("name")) or f"WLAN-Hotspot (OSM {kind} {osm_id})", *point,
                      OSM, street=street, postcode=tags.get("addr:postcode"),
                      district=tags.get("addr:suburb"), operator=tags.get("operator"),
                      ssid=tags.get("internet_access:ssid"),
                      last_seen=tags.get("check_date:internet_access") or tags.get("check_date")))


def _bounds_centre(element: dict[str, Any]) -> tuple[float, float] | None:
    """``out geom`` gives ways bounds instead of a centre."""
    bounds = element.get("bounds")
    if not isinstance(bounds, dict):
        return None
    values = [grids.number(bounds.get(key)) for key in ("minlat", "minlon", "maxlat", "maxlon")]
    if None in values:
        return None
    south, west, north, east = values
    return (south + north) / 2, (west + east) / 2
