"""WiFi hotspots: what every hotspot format shares, and reading by format.

Owns: the rows of the Table Schema ``schemas/tables/hotspots.json`` (its
limits are read from that file), the family's format base ``HotspotFormat``
(a registered format of family ``hotspots`` recognises a document and reads
its rows), ``parse``/``detect_format`` (the format named, or the first in the
registry that recognises the document), and what keeps personal data out of
every row (``Rows``, with the patterns of ``privacy``), and the value helpers
the formats use (the coordinate guards are ``coordinates``).
A document that is not a hotspot list (also an HTML page, truncated JSON or
numbers no float holds) raises ``HotspotFormatError`` with a German message.

The formats, one module each: ``city_csv`` (the city's lists),
``geojson`` (also paged OGC API Features), ``meshviewer``, ``ffmap``,
``hopglass`` and ``olsr`` (Freifunk, their shared loop in ``freifunk``),
``overpass`` (OpenStreetMap).

Must not touch: the network (the caller fetches documents and follows
``Parsed.next_url``), CKAN, merging several sources (the WiFi harvester's
``hotspot_merge``). Pure Python.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, ClassVar

from ... import resources
from . import Format, UnknownFormat, get, grids, of_family
from .privacy import find_private

FAMILY = "hotspots"

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
class Document:
    """A file read once: JSON, or a CSV grid."""

    json: Any = None
    grid: list[list[grids.Cell]] | None = None


def limits(name: str) -> dict[str, Any]:
    return resources.field_constraints("hotspots", name)


@cache
def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(limits(name)["pattern"])


def make_row(row_id: str, name: str, latitude: float, longitude: float, source: str, *,
         street: Any = None, postcode: Any = None, district: Any = None,
         operator: Any = None, ssid: Any = None, last_seen: Any = None) -> Row:
    """A row of ``hotspots.json``, its fields in the schema's order, values
    cut to the schema's limits."""
    return {"id": row_id, "name": _limited(name, "name"), "street": as_text(street),
            "postcode": _postcode(postcode), "district": as_text(district),
            "latitude": round(latitude, 6), "longitude": round(longitude, 6),
            "operator": as_text(operator), "ssid": _ssid(ssid), "source": source,
            "last_seen": _date(last_seen)}


class Rows:
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


def as_text(value: Any) -> str | None:
    """Spacing collapsed; numbers as written (``45879.0`` -> ``45879``); None
    for nothing, and for JSON values that are no text."""
    if isinstance(value, bool | dict | list):
        return None
    return grids.cell_text(value) or None


def _limited(value: Any, name: str) -> str | None:
    text = as_text(value)
    limit = limits(name).get("maxLength")
    return text[:limit].strip() if text and limit else text


def _postcode(value: Any) -> str | None:
    text = as_text(value)
    if text and isinstance(value, int | float) and text.isdigit():
        text = text.zfill(5)  # a spreadsheet drops the 0 of 0xxxx
    return text if text and _pattern("postcode").fullmatch(text) else None


def _ssid(value: Any) -> str | None:
    # a longer "SSID" is not one; cutting it would publish a wrong network name
    text = value.strip() if isinstance(value, str) else as_text(value)
    limit = limits("ssid").get("maxLength", 32)
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


def salted(salt: str, value: str) -> str:
    return hashlib.sha256((salt + value).encode("utf-8")).hexdigest()


def safe_id(prefix: str, value: Any, salt: str) -> str | None:
    """``prefix-value`` within the schema's id pattern; a salted hash where the
    value cannot be kept as it is."""
    text = as_text(value)
    if not text:
        return None
    cleaned = re.sub(r"[^A-Za-z0-9._:-]+", "-", text).strip("-")
    row_id = f"{prefix}-{cleaned}"
    if not cleaned or len(row_id) > 64 or not _pattern("id").fullmatch(row_id):
        row_id = f"{prefix}-{salted(salt, text)[:16]}"
    return row_id


def _scrub(row: Row, salt: str) -> Row:
    """No field keeps an e-mail, MAC or IP address: an id becomes a salted
    hash, a name a neutral one, any other field empty."""
    row = dict(row)
    if find_private(row["id"]):
        prefix = row["id"].split("-", 1)[0]
        row["id"] = f"{prefix}-{salted(salt, row['id'])[:16]}"
    for key, value in row.items():
        if key in ("id", "latitude", "longitude") or value is None:
            continue
        if find_private(str(value)):
            row[key] = _anonymous_name(row, salt) if key == "name" else None
    return row


def _anonymous_name(row: Row, salt: str) -> str:
    if row["source"] == FREIFUNK:
        return f"Freifunk-Knoten {row['id'].removeprefix('ff-')[:8]}"
    return f"WLAN-Hotspot {salted(salt, row['id'])[:8]}"


def member_of(mapping: Any, key: str) -> dict[str, Any]:
    """``mapping[key]`` if both are JSON objects, else an empty one."""
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, dict) else {}


def first_of(mapping: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` (any case) with a value."""
    folded = {str(key).casefold(): value for key, value in mapping.items()}
    for key in keys:
        value = folded.get(key.casefold())
        if value not in (None, "", [], {}):
            return value
    return None


def _read(data: bytes) -> Document:
    text = grids.decode(data).strip()
    if not text:
        raise HotspotFormatError("Die Datei ist leer.")
    if text[0] == "<":
        # neither JSON nor a list starts so: an error or login page, or XML
        raise HotspotFormatError("Die Datei ist eine HTML- oder XML-Seite, keine Hotspot-Liste "
                                 "(erwartet wird JSON oder CSV).")
    if text[0] in "{[":
        return Document(json=_json(text))
    return Document(grid=grids.csv_grid(data))


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


def required_member(document: Any, member: str, kind: Any, fmt: str) -> Any:
    value = document.get(member) if isinstance(document, dict) else None
    if not isinstance(value, kind):
        raise HotspotFormatError(f"Kein {fmt}: das Element „{member}“ fehlt.")
    return value


# --- formats ------------------------------------------------------------------
class HotspotFormat(Format):
    """A registered format of hotspot documents."""

    family = FAMILY
    #: the form it reads: ``json`` or ``csv`` (a grid of cells)
    reads: ClassVar[str] = "json"
    #: what the format is recognised by, for the message when none is
    hint: ClassVar[str] = ""

    def recognises(self, document: Document) -> bool:
        raise NotImplementedError

    def read(self, document: Document, rows: Rows, source_url: str) -> str | None:
        """Add the document's rows; the next page's URL, if the format pages."""
        raise NotImplementedError


def _formats() -> dict[str, type[HotspotFormat]]:
    return {name: cls for name, cls in of_family(FAMILY).items()
            if issubclass(cls, HotspotFormat)}


def _format_of(document: Document) -> HotspotFormat:
    reads = "json" if document.grid is None else "csv"
    candidates = [cls() for cls in _formats().values() if cls.reads == reads]
    found = next((fmt for fmt in candidates if fmt.recognises(document)), None)
    if found is not None:
        return found
    hints = list(dict.fromkeys(fmt.hint for fmt in candidates if fmt.hint))
    if reads == "json":
        raise HotspotFormatError(f"Unbekanntes Format: JSON ohne {_either(hints)}.")
    header = next((row for row in document.grid or [] if any(as_text(c) for c in row)), [])
    shown = ", ".join(str(cell) for cell in header if cell) or "keine"
    raise HotspotFormatError(f"Unbekanntes Format: weder JSON noch eine Liste mit "
                             f"{_either(hints)} (gefundene Spalten: {shown}).")


def _either(hints: list[str]) -> str:
    return ", ".join(hints[:-1]) + f" oder {hints[-1]}" if len(hints) > 1 else "".join(hints)


def detect_format(data: bytes) -> str:
    """The name of the registered format that recognises the content."""
    return _format_of(_read(data)).name


def parse(data: bytes, fmt: str | None = None, *, salt: str, source_url: str = "") -> Parsed:
    """Rows of ``hotspots.json`` from a document; ``fmt`` (a registered
    format of the family) forces the format, None recognises it.

    ``salt`` keys the hashes that stand in for Freifunk node ids (keep it
    secret and stable: the same salt gives the same row ids next time);
    ``source_url`` is where the document came from, for relative next links.
    """
    if not salt:
        raise HotspotFormatError("Es ist kein Salz (salt) für die Kennungen angegeben.")
    document = _read(data)
    reader = _format_of(document) if fmt is None else _named(fmt)
    if reader.reads == "csv" and document.grid is None:
        raise HotspotFormatError("Erwartet wird eine CSV-Tabelle, die Datei ist JSON.")
    if reader.reads == "json" and document.json is None:
        raise HotspotFormatError(f"Erwartet wird JSON ({fmt}), die Datei ist eine Tabelle.")
    rows = Rows(salt)
    rows.parsed.next_url = reader.read(document, rows, source_url)
    return rows.parsed


def _named(fmt: str) -> HotspotFormat:
    try:
        return get(FAMILY, fmt)()  # type: ignore[return-value]
    except UnknownFormat as error:
        raise HotspotFormatError(str(error)) from None
