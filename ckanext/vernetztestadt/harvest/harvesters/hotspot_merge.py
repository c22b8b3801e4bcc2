"""The WiFi harvester's area filter and merging of hotspots from several sources.

Owns: keeping the rows in the source's area (``filter_area``) and merging
(``merge``): rows of different inputs within 25 m whose names fit (equal
ignoring case, umlauts and punctuation; one contained in the other; half
their words shared; or a generic name like "WLAN-Hotspot …") are one
hotspot. Inputs go in order of trust: the first one's id and values win.

Must not touch: reading documents (the hotspot formats), CKAN. Pure Python.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..formats import grids
from ..formats.coordinates import in_box
from ..formats.hotspot_rows import GELSENKIRCHEN_BBOX, BBox, Row

_EARTH_RADIUS_M = 6_371_008.8

_METRES_PER_DEGREE = math.pi * _EARTH_RADIUS_M / 180

#: Words that say nothing about which place a hotspot is at.
_STOP_WORDS = frozenset({
    "wlan", "wifi", "wi", "fi", "hotspot", "hotspots", "free", "freies", "freifunk",
    "public", "oeffentlich", "oeffentliches", "oeffentlicher", "gast", "guest", "internet",
    "zugang", "der", "die", "das", "den", "dem", "des", "am", "an", "im", "in", "zum", "zur",
    "und", "von", "vom", "bei", "gelsenkirchen", "ge"})


_GENERIC_NAMES = ("wlan hotspot", "freifunk knoten")


def in_area(row: Row, bbox: BBox) -> bool:
    """Whether the row lies in ``bbox`` (west, south, east, north), edges included."""
    return in_box(row["longitude"], row["latitude"], bbox)


def filter_area(rows: Iterable[Row], bbox: BBox = GELSENKIRCHEN_BBOX) -> tuple[list[Row], int]:
    """The rows in ``bbox``, and how many were dropped (to be counted under
    ``OUTSIDE``)."""
    rows = list(rows)
    kept = [row for row in rows if in_area(row, bbox)]
    return kept, len(rows) - len(kept)


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
