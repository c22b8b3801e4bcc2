"""A hotspot format that exists only in the tests: a point list
``Punkt;Breite;Länge`` (WGS84), registered from the test package by
``test_format_registry`` to show that a format needs only its module and
its entry point. All data read with it is synthetic."""
from __future__ import annotations

from ckanext.vernetztestadt.harvest.formats import grids
from ckanext.vernetztestadt.harvest.formats.coordinates import check_degrees
from ckanext.vernetztestadt.harvest.formats.hotspot_rows import (
    Document,
    HotspotFormat,
    Rows,
    as_text,
    make_row,
    safe_id,
)

HEADER = ["punkt", "breite", "laenge"]


class PointList(HotspotFormat):
    name = "test_punktliste"
    title = "Testformat Punktliste (synthetisch)"
    reads = "csv"
    hint = "den Spalten Punkt, Breite und Länge"
    order = 90

    def recognises(self, document: Document) -> bool:
        grid = document.grid or [[]]
        return [grids.key(str(cell or "")) for cell in grid[0]] == HEADER

    def read(self, document: Document, rows: Rows, source_url: str) -> None:
        for number, (point, latitude, longitude) in enumerate((document.grid or [])[1:], 2):
            lat, lon = grids.number(latitude), grids.number(longitude)
            if lat is None or lon is None:
                continue
            check_degrees(lat, lon, f"Zeile {number}", "in den Spalten Breite/Länge")
            row_id = safe_id("test", point, rows.salt) or f"test-{number}"
            rows.add(make_row(row_id, as_text(point) or row_id, lat, lon, "test"))
