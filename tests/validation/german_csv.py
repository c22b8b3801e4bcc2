"""German hotspot tables for the validation tests: right ones and broken ones.

Rows follow ``schemas/tables/hotspots.json``; ``encode`` writes them as the
city's offices do (``;``, decimal comma, Windows-1252, CRLF).
"""
from __future__ import annotations

HEADER = ["id", "name", "street", "postcode", "district", "latitude", "longitude",
          "operator", "ssid", "source", "last_seen"]


def rows(count: int = 5) -> list[list[str]]:
    """Valid hotspot rows with umlauts, ß and decimal commas."""
    streets = ["Bahnhofstraße", "Hochstraße", "Überruhrstraße", "Ahstraße", "Mühlenstraße"]
    return [[f"ge-{i:04d}", f"Hotspot {streets[i % 5]} {i}", streets[i % 5], "45879",
             "Altstadt", f"51,{5078 + i}", f"7,{966 + i}", "Stadtwerke Gelsenkirchen",
             "FreeWiFi-GE", "stadt", "2025-06-30"] for i in range(1, count + 1)]


def encode(table: list[list[str]], *, encoding: str = "cp1252", delimiter: str = ";",
           newline: str = "\r\n", header: list[str] | None = None) -> bytes:
    lines = [delimiter.join(header or HEADER), *(delimiter.join(row) for row in table)]
    return (newline.join(lines) + newline).encode(encoding)


def valid(count: int = 5, **options: str) -> bytes:
    return encode(rows(count), **options)


def with_cell(row: int, column: str, value: str, count: int = 5) -> bytes:
    """A valid table with one cell replaced (``row`` counts data rows from 1)."""
    table = rows(count)
    table[row - 1][HEADER.index(column)] = value
    return encode(table)
