"""Public WiFi hotspots: from published documents to rows of ``hotspots.json``.

Owns: reading the documents that list WiFi hotspots around Gelsenkirchen and
turning them into rows of the Table Schema ``schemas/tables/hotspots.json``
(its limits are read from that file): the city's list as CSV, GeoJSON (also
paged OGC API Features / WFS responses), Freifunk ``meshviewer.json``, the
older ffmap ``nodes.json``, hopglass ``nodes.json`` and the OLSR node map of
Freifunk Berlin, and OpenStreetMap data from the Overpass API. Also the area
filter, merging the same hotspot from several sources, and keeping personal
data out of every row. A document that is not such a list (also an HTML page,
truncated JSON or numbers no float holds) raises ``HotspotFormatError`` with
a German message.

Must not touch: the network (the caller fetches documents and follows
``Parsed.next_url``), CKAN, publishing or validating files (``validation``).
Pure Python; pyproj for EPSG:25832.

City list (``city_csv``): the layout of Gelsenkirchen's infrastructure lists,
``ID;Name;Art;PLZ;Ort;Strasse;Stadtteil;X;Y`` in Windows-1252, X/Y as
ETRS89 / UTM 32N (EPSG:25832) metres; or with ``Breite;Länge`` (also
``lat;lon``, ``latitude;longitude``) in WGS84 degrees. Decimal comma or
point. Coordinates in the wrong columns or swapped are errors naming the row:
a list that was exported wrongly must not put hotspots into the wrong place.

GeoJSON (``geojson``): a FeatureCollection of Points, WGS84 lon/lat (RFC 7946)
unless the legacy ``crs`` member names EPSG:25832. With OGC API ``links`` the
``rel="next"`` link is returned as ``next_url``.

Freifunk (``meshviewer``, ``ffmap_nodes``, ``hopglass``, ``olsr``): one row
per node with a location, all read by one loop (``_freifunk``) from what each
format's reader takes out of a node (``_Node``). Node ids are derived from MAC
addresses (OLSR: the host name), so the row id is a salted hash; node ids,
MACs, addresses, links and owner contacts are never copied, and a hostname
that contains an e-mail, MAC or IP address is replaced (see
``find_private``). Nodes without location or with impossible coordinates are
counted as skipped, not errors.

- ``hopglass``: ``{"version": 2, "nodes": [{"nodeinfo", "flags",
  "statistics", "lastseen", "firstseen"}]}`` as hopglass-server (and
  ffmap-backend's version 2) writes it; name ``nodeinfo.hostname``, position
  ``nodeinfo.location``, ``lastseen``, community ``nodeinfo.system.domain_code``
  like ``ffmap_nodes``. ``flags.online`` is not kept: ``hotspots.json`` has
  no such column (meshviewer's ``is_online`` is not kept either);
  ``last_seen`` says when the node was up.
- ``olsr``: the node map Freifunk Berlin publishes, ``{"JSON": {"update_seq",
  "rows": [{"id": "<host>.olsr", "bbox", "geometry", "value": {"hostname",
  "ctime", "mtime", "latlng", "links"}}]}}``. The position is the Point
  ``geometry`` [lon, lat]; where ``value.latlng`` [lat, lon] names another
  place the row is skipped (``widersprüchliche Koordinaten``); ``mtime`` is
  the last seen date. ``links`` (MACs and IPv4 addresses of neighbours) are
  never read.

Overpass (``overpass``): elements tagged ``internet_access`` = wlan/wifi/yes;
ways and relations need ``out center``.

Merging (``merge``): rows of different inputs within 25 m whose names fit
(equal ignoring case, umlauts and punctuation; one contained in the other;
half their words shared; or a generic name like "WLAN-Hotspot …") are one
hotspot. Inputs go in order of trust: the first one's id and values win.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any
from urllib.parse import urljoin

from pyproj import Transformer

from .. import table_schemas
from . import grids

__all__ = ["FORMATS", "GELSENKIRCHEN_BBOX", "PRIVATE_PATTERNS", "HotspotFormatError",
           "Parsed", "detect_format", "filter_area", "find_private", "in_area", "merge",
           "parse"]

FORMATS = ("city_csv", "geojson", "meshviewer", "ffmap_nodes", "hopglass", "olsr", "overpass")
#: west, south, east, north (WGS84 degrees)
BBox = tuple[float, float, float, float]
GELSENKIRCHEN_BBOX: BBox = (6.97, 51.47, 7.17, 51.64)
Row = dict[str, Any]

# source tags (``source`` joins them with "|")
CITY, GEOJSON, OGCAPI, FREIFUNK, OSM = "stadt", "geojson", "ogcapi", "freifunk", "osm"

# reasons for skipped entries (keys of ``Parsed.skipped``)
NO_COORDINATES = "ohne Koordinaten"
NO_LOCATION = "ohne Standort"
NO_GEOMETRY = "ohne Geometrie"
NOT_A_POINT = "keine Punktgeometrie"
NO_ID = "ohne Kennung"
NO_WLAN = "ohne WLAN-Zugang"
IMPLAUSIBLE = "unplausible Koordinaten"
CONFLICTING = "widersprüchliche Koordinaten"
DUPLICATE = "doppelte Kennung"
OUTSIDE = "außerhalb des Gebiets"

_HEX = "[0-9A-Fa-f]"
_H16 = f"{_HEX}{{1,4}}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV6_FORMS = (
    rf"(?:{_H16}:){{7}}{_H16}",
    rf"(?:{_H16}:){{1,7}}:",
    rf"(?:{_H16}:){{1,6}}:{_H16}",
    *(rf"(?:{_H16}:){{1,{5 - k}}}(?::{_H16}){{1,{k + 2}}}" for k in range(4)),
    rf"{_H16}:(?::{_H16}){{1,6}}",
    rf":(?::{_H16}){{1,7}}",
)
#: E-mail (also "name (at) example.org"), MAC (02:00:…, 02-00-…, 0200.0000.…,
#: 020000000001), IPv4, IPv6: what must never appear in a published row.
PRIVATE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"[\w.%+-]+(?:@|\s*[\[(]\s*(?i:at)\s*[\])]\s*)[\w-]+(?:\.[\w-]+)+"),
    re.compile(rf"(?<![0-9A-Za-z])(?:{_HEX}{{2}}([:-]){_HEX}{{2}}(?:\1{_HEX}{{2}}){{4}}"
               rf"|{_HEX}{{4}}\.{_HEX}{{4}}\.{_HEX}{{4}})(?![0-9A-Za-z])"),
    # twelve bare hex digits (also in hostnames like ffge-020000000001), but
    # not the last group of a UUID (…-4 hex-12 hex) or part of a longer hash
    re.compile(rf"(?<![0-9A-Za-z])(?<![0-9A-Fa-f]{{4}}-){_HEX}{{12}}(?![0-9A-Za-z])"),
    re.compile(rf"(?<![0-9.]){_OCTET}(?:\.{_OCTET}){{3}}(?![0-9]|\.[0-9])"),
    re.compile(rf"(?<![0-9A-Fa-f:])(?:{'|'.join(_IPV6_FORMS)})(?![0-9A-Fa-f:])"),
)

#: Germany with a margin: a point outside whose swapped coordinates fall in
#: here had latitude and longitude swapped (Gelsenkirchen: 51.5 N, 7.1 E).
_GERMANY: BBox = (5.5, 47.0, 15.5, 55.5)
_EARTH_RADIUS_M = 6_371_008.8
_METRES_PER_DEGREE = math.pi * _EARTH_RADIUS_M / 180
#: How far (degrees, about a metre) the two positions of an OLSR map row may
#: differ: the map writes one position twice (``geometry``, ``latlng``); more
#: than rounding apart, one of them is wrong.
_SAME_POSITION = 1e-5
_WLAN_VALUES = {"wlan", "yes", "wifi"}
_OSM_TYPES = ("node", "way", "relation")
#: Words that say nothing about which place a hotspot is at.
_STOP_WORDS = frozenset({
    "wlan", "wifi", "wi", "fi", "hotspot", "hotspots", "free", "freies", "freifunk",
    "public", "oeffentlich", "oeffentliches", "oeffentlicher", "gast", "guest", "internet",
    "zugang", "der", "die", "das", "den", "dem", "des", "am", "an", "im", "in", "zum", "zur",
    "und", "von", "vom", "bei", "gelsenkirchen", "ge"})
_GENERIC_NAMES = ("wlan hotspot", "freifunk knoten")


class HotspotFormatError(grids.FormatError):
    """The document is not the expected hotspot list (German message)."""


@dataclass
class Parsed:
    """The rows of one document, what was left out (reason -> count), and the
    next page of a paged GeoJSON response."""

    rows: list[Row] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    next_url: str | None = None


@dataclass(frozen=True)
class _Column:
    key: str
    headers: tuple[str, ...]  # the first is named in messages


_CSV_COLUMNS = (
    _Column("id", ("ID", "Kennung")),
    _Column("name", ("Name", "Bezeichnung")),
    _Column("postcode", ("PLZ", "Postleitzahl")),
    _Column("street", ("Strasse", "Adresse")),
    _Column("district", ("Stadtteil", "Ortsteil")),
    _Column("operator", ("Betreiber",)),
    _Column("ssid", ("SSID",)),
    _Column("x", ("X", "Rechtswert", "Ostwert", "Easting")),
    _Column("y", ("Y", "Hochwert", "Nordwert", "Northing")),
    _Column("lat", ("Breite", "Breitengrad", "lat", "latitude")),
    _Column("lon", ("Länge", "Längengrad", "lon", "lng", "long", "longitude")),
)


@dataclass(frozen=True)
class _Document:
    """A file read once: JSON, or a CSV grid."""

    json: Any = None
    grid: list[list[grids.Cell]] | None = None


# --- the Table Schema -------------------------------------------------------


def _constraints(name: str) -> dict[str, Any]:
    return table_schemas.constraints("hotspots", name)


@cache
def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(_constraints(name)["pattern"])


def _row(row_id: str, name: str, latitude: float, longitude: float, source: str, *,
         street: Any = None, postcode: Any = None, district: Any = None,
         operator: Any = None, ssid: Any = None, last_seen: Any = None) -> Row:
    """A row of ``hotspots.json``, its fields in the schema's order, values
    cut to the schema's limits."""
    return {"id": row_id, "name": _limited(name, "name"), "street": _text(street),
            "postcode": _postcode(postcode), "district": _text(district),
            "latitude": round(latitude, 6), "longitude": round(longitude, 6),
            "operator": _text(operator), "ssid": _ssid(ssid), "source": source,
            "last_seen": _date(last_seen)}


class _Rows:
    """Collects the rows of one document: ids unique, personal data scrubbed,
    skips counted."""

    def __init__(self, salt: str) -> None:
        self.salt = salt
        self.parsed = Parsed()
        self._ids: set[str] = set()

    def skip(self, reason: str) -> None:
        self.parsed.skipped[reason] = self.parsed.skipped.get(reason, 0) + 1

    def add(self, row: Row) -> None:
        row = _scrub(row, self.salt)
        if row["id"] in self._ids:
            self.skip(DUPLICATE)
            return
        self._ids.add(row["id"])
        self.parsed.rows.append(row)


# --- values -------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """Spacing collapsed; numbers as written (``45879.0`` -> ``45879``); None
    for nothing, and for JSON values that are no text."""
    if isinstance(value, bool | dict | list):
        return None
    return grids.cell_text(value) or None


def _limited(value: Any, name: str) -> str | None:
    text = _text(value)
    limit = _constraints(name).get("maxLength")
    return text[:limit].strip() if text and limit else text


def _postcode(value: Any) -> str | None:
    text = _text(value)
    if text and isinstance(value, int | float) and text.isdigit():
        text = text.zfill(5)  # a spreadsheet drops the 0 of 0xxxx
    return text if text and _pattern("postcode").fullmatch(text) else None


def _ssid(value: Any) -> str | None:
    # a longer "SSID" is not one; cutting it would publish a wrong network name
    text = value.strip() if isinstance(value, str) else _text(value)
    limit = _constraints("ssid").get("maxLength", 32)
    return text if text and len(text) <= limit else None


def _date(value: Any) -> str | None:
    """ISO date from ``2024-05-01T09:59:00+0200``, ``01.05.2024`` or a Unix time
    (seconds or milliseconds); the date as written, no time zone conversion."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            # inside the try: dividing a huge integer overflows as well
            seconds = value / 1000 if value > 1e11 else value
            return datetime.fromtimestamp(seconds, UTC).date().isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    text = str(value).strip()
    iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    german = re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", text)
    parts = iso.groups() if iso else german.groups()[::-1] if german else None
    try:
        return date(*map(int, parts)).isoformat() if parts else None
    except ValueError:
        return None


def _digest(salt: str, value: str) -> str:
    return hashlib.sha256((salt + value).encode("utf-8")).hexdigest()


def _safe_id(prefix: str, value: Any, salt: str) -> str | None:
    """``prefix-value`` within the schema's id pattern; a salted hash where the
    value cannot be kept as it is."""
    text = _text(value)
    if not text:
        return None
    cleaned = re.sub(r"[^A-Za-z0-9._:-]+", "-", text).strip("-")
    row_id = f"{prefix}-{cleaned}"
    if not cleaned or len(row_id) > 64 or not _pattern("id").fullmatch(row_id):
        row_id = f"{prefix}-{_digest(salt, text)[:16]}"
    return row_id


# --- privacy --------------------------------------------------------------------


def find_private(text: str) -> list[str]:
    """The e-mail, MAC and IP addresses in ``text`` (empty when there are none)."""
    return [match.group(0) for pattern in PRIVATE_PATTERNS for match in pattern.finditer(text)]


def _scrub(row: Row, salt: str) -> Row:
    """No field keeps an e-mail, MAC or IP address: an id becomes a salted
    hash, a name a neutral one, any other field empty."""
    row = dict(row)
    if find_private(row["id"]):
        prefix = row["id"].split("-", 1)[0]
        row["id"] = f"{prefix}-{_digest(salt, row['id'])[:16]}"
    for key, value in row.items():
        if key in ("id", "latitude", "longitude") or value is None:
            continue
        if find_private(str(value)):
            row[key] = _anonymous_name(row, salt) if key == "name" else None
    return row


def _anonymous_name(row: Row, salt: str) -> str:
    if row["source"] == FREIFUNK:
        return f"Freifunk-Knoten {row['id'].removeprefix('ff-')[:8]}"
    return f"WLAN-Hotspot {_digest(salt, row['id'])[:8]}"


# --- coordinates --------------------------------------------------------------


@cache
def _utm32() -> Transformer:
    # created once: building a transformer costs far more than using it
    # (pyproj >= 3.1 transformers are thread-safe)
    return Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True)


def _in_box(longitude: float, latitude: float, box: BBox) -> bool:
    west, south, east, north = box
    return west <= longitude <= east and south <= latitude <= north


def _valid_degrees(latitude: float, longitude: float) -> bool:
    return -90 <= latitude <= 90 and -180 <= longitude <= 180


def _swapped(latitude: float, longitude: float) -> bool:
    return (not _in_box(longitude, latitude, _GERMANY)
            and _in_box(latitude, longitude, _GERMANY))


def _check_degrees(latitude: float, longitude: float, where: str, declared: str) -> None:
    """Guards for coordinates meant as WGS84 degrees; ``declared`` says where
    the document says so."""
    shown = f"(Breite {grids.german(latitude, 6)}, Länge {grids.german(longitude, 6)})"
    if not _valid_degrees(latitude, longitude):
        if max(abs(latitude), abs(longitude)) >= 1000:
            raise HotspotFormatError(f"{where}: Koordinaten sehen nach EPSG:25832 aus, "
                                     f"{declared} {shown}.")
        raise HotspotFormatError(f"{where}: Koordinaten {shown} sind keine gültigen "
                                 "Grad-Angaben.")
    if _swapped(latitude, longitude):
        raise HotspotFormatError(f"{where}: Breite und Länge sind offenbar vertauscht "
                                 f"{shown}.")


def _from_utm32(easting: float, northing: float, where: str, declared: str,
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


def _pair(latitude: Any, longitude: Any) -> tuple[float, float] | None:
    """(latitude, longitude) as numbers; None when one is missing or both are
    0 (the default of an unset Freifunk location)."""
    lat, lon = grids.number(latitude), grids.number(longitude)
    if lat is None or lon is None or (lat == 0 and lon == 0):
        return None
    return lat, lon


def _point(value: Any) -> tuple[float, float] | None:
    """(latitude, longitude) of a Freifunk or Overpass location (see ``_pair``)."""
    if not isinstance(value, Mapping):
        return None
    return _pair(_first(value, "latitude", "lat"),
                 _first(value, "longitude", "lon", "long", "lng"))


def _member(mapping: Any, key: str) -> dict[str, Any]:
    """``mapping[key]`` if both are JSON objects, else an empty one."""
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, dict) else {}


def _first(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` (any case) with a value."""
    folded = {str(key).casefold(): value for key, value in mapping.items()}
    for key in keys:
        value = folded.get(key.casefold())
        if value not in (None, "", [], {}):
            return value
    return None


# --- reading the document -----------------------------------------------------


def _read(data: bytes) -> _Document:
    text = grids.decode(data).strip()
    if not text:
        raise HotspotFormatError("Die Datei ist leer.")
    if text[0] == "<":
        # neither JSON nor a list starts so: an error or login page, or XML
        raise HotspotFormatError("Die Datei ist eine HTML- oder XML-Seite, keine Hotspot-Liste "
                                 "(erwartet wird JSON oder CSV).")
    if text[0] in "{[":
        return _Document(json=_json(text))
    return _Document(grid=grids.csv_grid(data))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise HotspotFormatError(f"Die Datei ist kein gültiges JSON (Zeile {error.lineno}, "
                                 f"Spalte {error.colno}).") from error
    except ValueError as error:
        # Python refuses integers of more than 4300 digits
        raise HotspotFormatError("Die Datei enthält eine Zahl mit zu vielen Ziffern.") from error
    except RecursionError as error:
        raise HotspotFormatError("Die Datei ist zu tief verschachtelt.") from error


def _json_format(document: Any) -> str | None:
    if not isinstance(document, dict):
        return None
    if document.get("type") == "FeatureCollection" or isinstance(document.get("features"),
                                                                   list):
        return "geojson"
    if isinstance(document.get("elements"), list):
        return "overpass"
    if isinstance(_member(document, "JSON").get("rows"), list):
        return "olsr"
    nodes = document.get("nodes")
    if isinstance(nodes, dict):
        return "ffmap_nodes"
    if isinstance(nodes, list):
        return _nodes_list_format(document, nodes)
    return None


def _nodes_list_format(document: dict[str, Any], nodes: list[Any]) -> str:
    """``nodes`` as a list: hopglass (version 2, nodes with ``nodeinfo``),
    ffmap (another version), or meshviewer (flat nodes, ``links``)."""
    with_nodeinfo = any(isinstance(node, dict) and "nodeinfo" in node for node in nodes)
    if document.get("version") == 2 and (with_nodeinfo or not nodes):
        return "hopglass"
    if with_nodeinfo:
        return "ffmap_nodes"
    # an empty nodes.json has a version and no links
    empty = not nodes and "version" in document and "links" not in document
    return "ffmap_nodes" if empty else "meshviewer"


def _format_of(document: _Document) -> str:
    if document.grid is None:
        found = _json_format(document.json)
        if found is None:
            raise HotspotFormatError("Unbekanntes Format: JSON ohne „features“ (GeoJSON), "
                                     "„nodes“ (Freifunk), „JSON.rows“ (OLSR-Karte) oder "
                                     "„elements“ (Overpass).")
        return found
    header = _csv_header(document.grid)
    index = _csv_index(header) if header else {}
    if "name" in index and ({"x", "y"} <= index.keys() or {"lat", "lon"} <= index.keys()):
        return "city_csv"
    found = ", ".join(str(cell) for cell in header if cell) or "keine"
    raise HotspotFormatError("Unbekanntes Format: weder JSON noch eine Liste mit den Spalten "
                             f"Name und X/Y oder Breite/Länge (gefundene Spalten: {found}).")


def detect_format(data: bytes) -> str:
    """One of ``FORMATS``, recognised from the content (JSON members, CSV header)."""
    return _format_of(_read(data))


def parse(data: bytes, fmt: str | None = None, *, salt: str, source_url: str = "") -> Parsed:
    """Rows of ``hotspots.json`` from a document; ``fmt`` (one of ``FORMATS``)
    forces the format, None recognises it.

    ``salt`` keys the hashes that stand in for Freifunk node ids (keep it
    secret and stable: the same salt gives the same row ids next time);
    ``source_url`` is where the document came from, for relative next links.
    """
    if not salt:
        raise HotspotFormatError("Es ist kein Salz (salt) für die Kennungen angegeben.")
    document = _read(data)
    if fmt is None:
        fmt = _format_of(document)
    elif fmt not in FORMATS:
        raise HotspotFormatError(f"Unbekanntes Format „{fmt}“ (bekannt: {', '.join(FORMATS)}).")
    rows = _Rows(salt)
    if fmt == "city_csv":
        if document.grid is None:
            raise HotspotFormatError("Erwartet wird eine CSV-Tabelle, die Datei ist JSON.")
        _city_csv(document.grid, rows)
        return rows.parsed
    if document.json is None:
        raise HotspotFormatError(f"Erwartet wird JSON ({fmt}), die Datei ist eine Tabelle.")
    if fmt == "geojson":
        rows.parsed.next_url = _geojson(document.json, rows, source_url)
    elif fmt == "overpass":
        _overpass(document.json, rows)
    else:
        _freifunk(_NODE_READERS[fmt](document.json), rows)
    return rows.parsed


def _object(document: Any, member: str, kind: Any, fmt: str) -> Any:
    value = document.get(member) if isinstance(document, dict) else None
    if not isinstance(value, kind):
        raise HotspotFormatError(f"Kein {fmt}: das Element „{member}“ fehlt.")
    return value


# --- city list (CSV) ------------------------------------------------------------


def _csv_header(grid: list[list[grids.Cell]]) -> list[grids.Cell]:
    return next((row for row in grid if any(_text(cell) for cell in row)), [])


def _csv_index(header: Sequence[grids.Cell]) -> dict[str, int]:
    """Column key -> position; error if a column comes twice."""
    names = {grids.key(name): column for column in _CSV_COLUMNS for name in column.headers}
    index: dict[str, int] = {}
    for position, cell in enumerate(header):
        column = names.get(grids.key(str(cell or "")))
        if column is None:
            continue
        if column.key in index:
            raise HotspotFormatError(f"Die Spalte „{column.headers[0]}“ kommt mehrfach vor.")
        index[column.key] = position
    return index


def _city_csv(grid: list[list[grids.Cell]], rows: _Rows) -> None:
    header = _csv_header(grid)
    index = _csv_index(header)
    if "id" not in index:
        raise HotspotFormatError("Die Spalte „ID“ fehlt.")
    degrees = {"lat", "lon"} <= index.keys()
    first, second = ("lat", "lon") if degrees else ("x", "y")
    if not degrees and not {"x", "y"} <= index.keys():
        raise HotspotFormatError("Die Spalten „X“ und „Y“ (EPSG:25832) oder „Breite“ und "
                                 "„Länge“ (WGS84) fehlen.")
    columns = f"„{header[index[first]]}“/„{header[index[second]]}“"
    start = grid.index(header) + 1
    for number, cells in enumerate(grid[start:], start + 1):
        if not any(_text(value) for value in cells):
            continue
        # CSV rows may lack trailing empty cells
        value = {key: cells[position] if position < len(cells) else None
                 for key, position in index.items()}
        where = f"Zeile {number}"
        coordinates = [_coordinate(value[key], str(header[index[key]]), where)
                       for key in (first, second)]
        city_id = _safe_id(CITY, value["id"], rows.salt)
        if None in coordinates:
            rows.skip(NO_COORDINATES)
            continue
        if city_id is None:
            rows.skip(NO_ID)
            continue
        a, b = coordinates
        if degrees:
            _check_degrees(a, b, where, f"stehen aber in Grad-Spalten {columns}")
            latitude, longitude = a, b
        else:
            latitude, longitude = _from_utm32(a, b, where,
                                              f"stehen aber in den EPSG:25832-Spalten {columns}")
        rows.add(_row(city_id, _text(value.get("name")) or f"WLAN-Hotspot {city_id}",
                      latitude, longitude, CITY, street=value.get("street"),
                      postcode=value.get("postcode"), district=value.get("district"),
                      operator=value.get("operator"), ssid=value.get("ssid")))


def _coordinate(value: grids.Cell, label: str, where: str) -> float | None:
    text = _text(value)
    if text is None:
        return None
    number = grids.number(text)
    if number is None:
        raise HotspotFormatError(f"{where}: {label} „{text}“ ist keine Zahl.")
    return number


# --- GeoJSON, OGC API Features ------------------------------------------------------


def _declared_crs(document: dict[str, Any]) -> str:
    """``EPSG:25832`` or ``EPSG:4326`` (lon/lat, as GeoJSON writes it)."""
    crs = document.get("crs")
    if crs is None:
        return "EPSG:4326"
    properties = crs.get("properties") if isinstance(crs, dict) else None
    name = _text(_first(properties, "name", "code")) if isinstance(properties, dict) else None
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
    found = [link for link in links if isinstance(link, dict) and _text(link.get("href"))
             and "next" in str(link.get("rel", "")).split()]
    if not found:
        return None
    best = next((link for link in found if "json" in str(link.get("type", ""))), found[0])
    return urljoin(source_url, str(best["href"]).strip())


def _geojson(document: Any, rows: _Rows, source_url: str) -> str | None:
    features = _object(document, "features", list, "GeoJSON")
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
            latitude, longitude = _from_utm32(x, y, where,
                                              "die Datei gibt aber EPSG:25832 als crs an")
        else:
            latitude, longitude = y, x
            _check_degrees(latitude, longitude, where,
                           "die Datei gibt aber kein solches Koordinatensystem (crs) an")
        properties = feature.get("properties")
        rows.add(_feature_row(properties if isinstance(properties, dict) else {},
                              feature.get("id"), latitude, longitude, source, rows.salt))
    return _next_url(document.get("links"), source_url)


def _feature_position(geometry: Any, rows: _Rows) -> tuple[float, float] | None:
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
    name = _text(_first(properties, "name", "bezeichnung", "titel", "title"))
    row_id = _safe_id("geo", feature_id if _text(feature_id) else _first(properties, "id"),
                      salt)
    if row_id is None:
        # no id: the same place under the same name keeps its id between runs
        row_id = "geo-" + _digest(salt, f"{name or ''}|{latitude:.6f}|{longitude:.6f}")[:16]
    street = _text(_first(properties, "street", "strasse", "straße", "addr:street", "adresse"))
    number = _text(_first(properties, "housenumber", "hausnummer", "hausnr",
                          "addr:housenumber"))
    if street and number and not street.endswith(number):
        street = f"{street} {number}"
    return _row(row_id, name or f"WLAN-Hotspot {row_id.removeprefix('geo-')}", latitude,
                longitude, source, street=street,
                postcode=_first(properties, "postcode", "plz", "addr:postcode"),
                district=_first(properties, "district", "stadtteil", "ortsteil",
                                "addr:suburb"),
                operator=_first(properties, "operator", "betreiber"),
                ssid=_first(properties, "ssid", "internet_access:ssid"),
                last_seen=_first(properties, "last_seen", "lastseen"))


# --- Freifunk ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Node:
    """What a Freifunk row is made of, as a format's reader takes it out of
    a node; ``key`` (node id, MAC or OLSR host) is only hashed, ``problem`` is
    why the reader would skip the node."""

    key: str | None
    hostname: str | None
    point: tuple[float, float] | None  # latitude, longitude
    lastseen: Any
    domain: str | None = None
    problem: str | None = None


def _freifunk(nodes: Iterable[_Node], rows: _Rows) -> None:
    for node in nodes:
        if node.problem:
            rows.skip(node.problem)
            continue
        point = node.point
        if point is None:
            rows.skip(NO_LOCATION)
            continue
        if not _valid_degrees(*point):
            # one volunteer's typo must not stop the whole map
            rows.skip(IMPLAUSIBLE)
            continue
        key = node.key or (f"{node.hostname}|{point[0]}|{point[1]}" if node.hostname else None)
        if key is None:
            rows.skip(NO_ID)
            continue
        digest = _digest(rows.salt, key)
        rows.add(_row(f"ff-{digest[:16]}", node.hostname or f"Freifunk-Knoten {digest[:8]}",
                      *point, FREIFUNK, last_seen=node.lastseen,
                      operator=f"Freifunk {node.domain}" if node.domain else "Freifunk"))


def _meshviewer_nodes(document: Any) -> Iterator[_Node]:
    for node in _object(document, "nodes", list, "meshviewer.json"):
        if isinstance(node, dict):
            yield _Node(key=_text(node.get("node_id")) or _text(node.get("mac")),
                        hostname=_text(node.get("hostname")),
                        point=_point(node.get("location")), lastseen=node.get("lastseen"),
                        domain=_text(node.get("domain")))


def _nodeinfo_node(key: Any, node: dict[str, Any]) -> _Node:
    """A node of ffmap's or hopglass' ``nodes.json``: what is kept is in
    ``nodeinfo``, except ``lastseen``; ``key`` is ffmap's key of the node."""
    info = _member(node, "nodeinfo")
    mac = _member(info, "network").get("mac")
    return _Node(key=_text(info.get("node_id")) or _text(key) or _text(mac),
                 hostname=_text(info.get("hostname")), point=_point(info.get("location")),
                 lastseen=node.get("lastseen"),
                 domain=_text(_member(info, "system").get("domain_code")))


def _ffmap_nodes(document: Any) -> Iterator[_Node]:
    nodes = _object(document, "nodes", dict | list, "nodes.json")
    entries = nodes.items() if isinstance(nodes, dict) else ((None, node) for node in nodes)
    for key, node in entries:
        if isinstance(node, dict):
            yield _nodeinfo_node(key, node)


def _hopglass_nodes(document: Any) -> Iterator[_Node]:
    for node in _object(document, "nodes", list, "hopglass-nodes.json"):
        if isinstance(node, dict):
            yield _nodeinfo_node(None, node)


def _olsr_nodes(document: Any) -> Iterator[_Node]:
    """Rows of the OLSR node map; ``links``, ``bbox`` and ``ctime`` stay unread."""
    for entry in _object(_object(document, "JSON", dict, "OLSR-JSON"), "rows", list,
                         "OLSR-JSON"):
        if not isinstance(entry, dict):
            continue
        value = _member(entry, "value")
        host = _text(entry.get("id"))  # "<hostname>.olsr"
        hostname = _text(value.get("hostname")) or _text((host or "").removesuffix(".olsr"))
        point, problem = _olsr_position(entry.get("geometry"), value.get("latlng"))
        yield _Node(key=host, hostname=hostname, point=point, lastseen=value.get("mtime"),
                    problem=problem)


def _olsr_position(geometry: Any, latlng: Any,
                   ) -> tuple[tuple[float, float] | None, str | None]:
    """(latitude, longitude) of the Point ``geometry`` [lon, lat], else of
    ``latlng`` [lat, lon]; with a skip reason where the two disagree (a
    swapped or stale value: which one is right cannot be told)."""
    point: tuple[float, float] | None = None
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        point = _listed_pair(geometry.get("coordinates"), latitude_first=False)
    other = _listed_pair(latlng, latitude_first=True)
    if point and other and (abs(point[0] - other[0]) > _SAME_POSITION
                            or abs(point[1] - other[1]) > _SAME_POSITION):
        return None, CONFLICTING
    return point or other, None


def _listed_pair(value: Any, *, latitude_first: bool) -> tuple[float, float] | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    first, second = value[:2]
    return _pair(first, second) if latitude_first else _pair(second, first)


_NODE_READERS: dict[str, Callable[[Any], Iterator[_Node]]] = {
    "meshviewer": _meshviewer_nodes, "ffmap_nodes": _ffmap_nodes,
    "hopglass": _hopglass_nodes, "olsr": _olsr_nodes}


# --- OpenStreetMap (Overpass API) -----------------------------------------------------


def _overpass(document: Any, rows: _Rows) -> None:
    for number, element in enumerate(_object(document, "elements", list, "Overpass-JSON"), 1):
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
        point = _point(element) or _point(element.get("center")) or _bounds_centre(element)
        if point is None:
            rows.skip(NO_COORDINATES)
            continue
        if not _valid_degrees(*point):
            rows.skip(IMPLAUSIBLE)
            continue
        street = " ".join(filter(None, (_text(tags.get("addr:street")),
                                        _text(tags.get("addr:housenumber")))))
        rows.add(_row(f"osm-{kind}-{osm_id}",
                      _text(tags.get("name")) or f"WLAN-Hotspot (OSM {kind} {osm_id})", *point,
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


# --- area ---------------------------------------------------------------------------


def in_area(row: Row, bbox: BBox) -> bool:
    """Whether the row lies in ``bbox`` (west, south, east, north), edges included."""
    return _in_box(row["longitude"], row["latitude"], bbox)


def filter_area(rows: Iterable[Row], bbox: BBox = GELSENKIRCHEN_BBOX) -> tuple[list[Row], int]:
    """The rows in ``bbox``, and how many were dropped (to be counted under
    ``OUTSIDE``)."""
    rows = list(rows)
    kept = [row for row in rows if in_area(row, bbox)]
    return kept, len(rows) - len(kept)


# --- merging sources ----------------------------------------------------------------


def _distance(a: Row, b: Row) -> float:
    """Haversine distance of two rows in metres."""
    phi_a, phi_b = math.radians(a["latitude"]), math.radians(b["latitude"])
    d_phi = phi_b - phi_a
    d_lambda = math.radians(b["longitude"] - a["longitude"])
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class _Name:
    text: str
    tokens: frozenset[str]
    generic: bool

    @classmethod
    def of(cls, name: str | None) -> _Name:
        text = grids.key(name or "")
        # numbers alone name no place: "Halle 1" and "Schule 1" share nothing
        tokens = frozenset(token for token in text.split()
                           if token not in _STOP_WORDS and not token.isdigit())
        return cls(text, tokens, not tokens or text.startswith(_GENERIC_NAMES))


def _name_score(a: _Name, b: _Name) -> float:
    """How well two names fit, 0 if they name different places: equal 3,
    one contains the other 2, else the token overlap (at least 0.5); a generic
    name fits anything, weakest."""
    if a.generic or b.generic:
        return 0.1
    if a.text == b.text:
        return 3.0
    short, long = sorted((a.text, b.text), key=len)
    if len(short) >= 4 and short in long:
        return 2.0
    if not a.tokens or not b.tokens:
        return 0.0
    overlap = len(a.tokens & b.tokens) / min(len(a.tokens), len(b.tokens))
    return overlap if overlap >= 0.5 else 0.0


class _Cells:
    """Rows by grid cell of about ``size_m`` so that neighbours are found
    in the 3x3 cells around a point, not by comparing all pairs."""

    def __init__(self, size_m: float) -> None:
        self.height = max(size_m, 1.0) / _METRES_PER_DEGREE * 1.01
        self.cells: dict[tuple[int, int], list[int]] = {}

    def _width(self, band: int) -> float:
        # wide enough at the poleward edge of the band and of its neighbours
        edge = min(89.999, (max(abs(band), abs(band + 1)) + 1) * self.height)
        return min(360.0, self.height / math.cos(math.radians(edge)))

    def _cell(self, row: Row, band: int) -> tuple[int, int]:
        # the date line is not wrapped: the portal's hotspots are in Germany
        return band, math.floor((row["longitude"] + 180) / self._width(band))

    def add(self, row: Row, item: int) -> None:
        key = self._cell(row, math.floor(row["latitude"] / self.height))
        self.cells.setdefault(key, []).append(item)

    def near(self, row: Row) -> Iterator[int]:
        band = math.floor(row["latitude"] / self.height)
        for neighbour in (band - 1, band, band + 1):
            _, column = self._cell(row, neighbour)
            for offset in (-1, 0, 1):
                yield from self.cells.get((neighbour, column + offset), ())


@dataclass
class _Cluster:
    row: Row
    lists: set[int]  # which inputs contributed; one row of each at most
    sources: set[str]


def merge(rows_by_source: list[list[Row]], distance_m: float = 25.0) -> list[Row]:
    """One row per hotspot: rows of different inputs within ``distance_m``
    with compatible names (or the same id) are one hotspot.

    The earliest input wins: its id and fields stay, empty fields are filled
    from the later ones; ``source`` lists every source tag. Sorted by id.
    """
    clusters: list[_Cluster] = []
    by_id: dict[str, int] = {}
    cells = _Cells(distance_m)
    members: list[tuple[Row, _Name, int]] = []  # every row added, its name, its cluster
    for list_number, rows in enumerate(rows_by_source):
        for row in rows:
            name = _Name.of(row.get("name"))
            target = by_id.get(row["id"])
            if target is None:
                target = _nearest(row, name, list_number, cells, members, clusters, distance_m)
            if target is None:
                target = len(clusters)
                clusters.append(_Cluster(dict(row), set(), set()))
            else:
                _fill(clusters[target].row, row)
            cluster = clusters[target]
            cluster.lists.add(list_number)
            cluster.sources.update(tag for tag in str(row["source"]).split("|") if tag)
            by_id.setdefault(row["id"], target)
            cells.add(row, len(members))
            members.append((row, name, target))
    merged = []
    for cluster in clusters:
        cluster.row["source"] = "|".join(sorted(cluster.sources))
        merged.append(cluster.row)
    return sorted(merged, key=lambda row: row["id"])


def _nearest(row: Row, name: _Name, list_number: int, cells: _Cells,
             members: list[tuple[Row, _Name, int]], clusters: list[_Cluster],
             limit: float) -> int | None:
    """The cluster whose member fits best: best name first, then the closest."""
    best: tuple[float, float, int] | None = None
    for item in cells.near(row):
        other, other_name, target = members[item]
        if list_number in clusters[target].lists:
            continue  # rows of one input are different hotspots
        distance = _distance(row, other)
        score = _name_score(name, other_name) if distance <= limit else 0.0
        if score > 0 and (best is None or (-score, distance, target) < best):
            best = (-score, distance, target)
    return None if best is None else best[2]


def _fill(merged: Row, row: Row) -> None:
    for key, value in row.items():
        if merged.get(key) in (None, "") and value not in (None, ""):
            merged[key] = value
