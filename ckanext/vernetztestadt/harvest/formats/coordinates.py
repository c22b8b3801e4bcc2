"""Coordinates of hotspot documents: guards, conversion, points of JSON members.

Owns: what every hotspot format checks of a point (WGS84 degrees in range,
not metres, latitude and longitude not swapped — Germany with a margin is
the test; ETRS89 / UTM 32N metres in range, X and Y not swapped) with the
German error that names the place in the document, the conversion from
EPSG:25832 to WGS84 (pyproj), a point of a Freifunk or Overpass location
member, and whether a point lies in a bounding box.

Must not touch: rows, sources or the network (``hotspot_rows``, the formats,
the harvester). Pure Python and pyproj; no CKAN.
"""
from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from pyproj import Transformer

from . import grids
from .hotspot_rows import BBox, HotspotFormatError, first_of

#: Germany with a margin: a point outside whose swapped coordinates fall in
#: here had latitude and longitude swapped (Gelsenkirchen: 51.5 N, 7.1 E).
_GERMANY: BBox = (5.5, 47.0, 15.5, 55.5)

@cache
def _utm32() -> Transformer:
    # created once: building a transformer costs far more than using it
    # (pyproj >= 3.1 transformers are thread-safe)
    return Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


def in_box(longitude: float, latitude: float, box: BBox) -> bool:
    west, south, east, north = box
    return west <= longitude <= east and south <= latitude <= north


def valid_degrees(latitude: float, longitude: float) -> bool:
    return -90 <= latitude <= 90 and -180 <= longitude <= 180


def _swapped(latitude: float, longitude: float) -> bool:
    return (not in_box(longitude, latitude, _GERMANY)
            and in_box(latitude, longitude, _GERMANY))


def check_degrees(latitude: float, longitude: float, where: str, declared: str) -> None:
    """Guards for coordinates meant as WGS84 degrees; ``declared`` says where
    the document says so."""
    shown = f"(Breite {grids.german(latitude, 6)}, Länge {grids.german(longitude, 6)})"
    if not valid_degrees(latitude, longitude):
        if max(abs(latitude), abs(longitude)) >= 1000:
            raise HotspotFormatError(f"{where}: Koordinaten sehen nach EPSG:25832 aus, "
                                     f"{declared} {shown}.")
        raise HotspotFormatError(f"{where}: Koordinaten {shown} sind keine gültigen "
                                 "Grad-Angaben.")
    if _swapped(latitude, longitude):
        raise HotspotFormatError(f"{where}: Breite und Länge sind offenbar vertauscht "
                                 f"{shown}.")


def from_utm32(easting: float, northing: float, where: str, declared: str,
                ) -> tuple[float, float]:
    """EPSG:25832 -> (latitude, longitude) in WGS84, after the guards;
    ``declared`` says where the document says the values are metres."""
    shown = f"(X {grids.german(easting, 6)}, Y {grids.german(northing, 6)})"
    if abs(easting) <= 180 and abs(northing) <= 180:
        raise HotspotFormatError(f"{where}: Koordinaten sehen nach Grad (WGS84) aus, "
                                 f"{declared} {shown}.")
    if easting > 1_000_000 and 0 < northing < 1_000_000:
        raise HotspotFormatError(f"{where}: X und Y sind offenbar vertauscht {shown}.")
    if not (0 < easting < 1_000_000 and 0 < northing < 10_000_000):
        raise HotspotFormatError(f"{where}: Koordinaten {shown} liegen außerhalb von "
                                 "EPSG:25832 (ETRS89 / UTM Zone 32N).")
    longitude, latitude = _utm32().transform(easting, northing)
    return latitude, longitude


def number_pair(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    """(latitude, longitude) as numbers; None when one is missing or both are
    0 (the default of an unset Freifunk location)."""
    lat, lon = grids.number(latitude), grids.number(longitude)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None
    return lat, lon


def location_of(value: Any) -> tuple[float, float] | None:
    """(latitude, longitude) of a Freifunk or Overpass location (see ``number_pair``)."""
    if not isinstance(value, Mapping):
        return None
    return number_pair(first_of(value, "latitude", "lat"),
                 first_of(value, "longitude", "lon", "long", "lng"))
