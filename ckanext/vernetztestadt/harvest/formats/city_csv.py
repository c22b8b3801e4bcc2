"""Format ``city_csv``: the city's hotspot lists as CSV.

Owns: the layout of Gelsenkirchen's infrastructure lists,
``ID;Name;Art;PLZ;Ort;Strasse;Stadtteil;X;Y`` in Windows-1252, X/Y as
ETRS89 / UTM 32N (EPSG:25832) metres; or with ``Breite;Länge`` (also
``lat;lon``, ``latitude;longitude``) in WGS84 degrees. Decimal comma or
point. Coordinates in the wrong columns or swapped are errors naming the row:
a list that was exported wrongly must not put hotspots into the wrong place.

Must not touch: what all hotspot formats share (``hotspot_rows``), CKAN.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import grids
from .coordinates import check_degrees, from_utm32
from .hotspot_rows import (
    CITY,
    NO_COORDINATES,
    NO_ID,
    Document,
    HotspotFormat,
    HotspotFormatError,
    Rows,
    as_text,
    make_row,
    safe_id,
)


class CityCsv(HotspotFormat):
    name = "city_csv"
    title = "Hotspot-Liste der Stadt (CSV, EPSG:25832 oder WGS84)"
    reads = "csv"
    hint = "den Spalten Name und X/Y oder Breite/Länge"
    order = 10

    def recognises(self, document: Document) -> bool:
        index = _csv_index(_csv_header(document.grid or []))
        return "name" in index and ({"x", "y"} <= index.keys() or {"lat", "lon"} <= index.keys())

    def read(self, document: Document, rows: Rows, source_url: str) -> None:
        _city_csv(document.grid or [], rows)


_Column = grids.Column  # the first header is named in messages
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


def _csv_header(grid: list[list[grids.Cell]]) -> list[grids.Cell]:
    return next((row for row in grid if any(as_text(cell) for cell in row)), [])


def _csv_index(header: Sequence[grids.Cell]) -> dict[str, int]:
    """Column key -> position; error if a column comes twice."""
    return grids.header_index([str(cell or "") for cell in header], _CSV_COLUMNS,
                              HotspotFormatError)


def _city_csv(grid: list[list[grids.Cell]], rows: Rows) -> None:
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
        if not any(as_text(value) for value in cells):
            continue
        # CSV rows may lack trailing empty cells
        value = {key: cells[position] if position < len(cells) else None
                 for key, position in index.items()}
        where = f"Zeile {number}"
        coordinates = [_coordinate(value[key], str(header[index[key]]), where)
                       for key in (first, second)]
        city_id = safe_id(CITY, value["id"], rows.salt)
        if None in coordinates:
            rows.skip(NO_COORDINATES)
            continue
        if city_id is None:
            rows.skip(NO_ID)
            continue
        a, b = coordinates
        if degrees:
            check_degrees(a, b, where, f"stehen aber in Grad-Spalten {columns}")
            latitude, longitude = a, b
        else:
            latitude, longitude = from_utm32(a, b, where,
                                              f"stehen aber in den EPSG:25832-Spalten {columns}")
        rows.add(make_row(city_id, as_text(value.get("name")) or f"WLAN-Hotspot {city_id}",
                      latitude, longitude, CITY, street=value.get("street"),
                      postcode=value.get("postcode"), district=value.get("district"),
                      operator=value.get("operator"), ssid=value.get("ssid")))


def _coordinate(value: grids.Cell, label: str, where: str) -> float | None:
    text = as_text(value)
    if text is None:
        return None
    number = grids.number(text)
    if number is None:
        raise HotspotFormatError(f"{where}: {label} „{text}“ ist keine Zahl.")
    return number
