"""Format ``olsr``: the OLSR node map that Freifunk Berlin publishes.

Owns: ``{"JSON": {"update_seq", "rows": [{"id": "<host>.olsr", "bbox",
"geometry", "value": {"hostname", "ctime", "mtime", "latlng", "links"}}]}}``.
The position is the Point ``geometry`` [lon, lat]; where ``value.latlng``
[lat, lon] names another place the row is skipped (``widersprüchliche
Koordinaten``); ``mtime`` is the last seen date. ``links`` (MACs and IPv4
addresses of neighbours) are never read.

Must not touch: the other Freifunk layouts, CKAN.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .coordinates import number_pair
from .freifunk import FreifunkFormat, Node
from .hotspot_rows import CONFLICTING, Document, as_text, member_of, required_member


class Olsr(FreifunkFormat):
    name = "olsr"
    title = "OLSR-Knotenkarte (Freifunk Berlin)"
    hint = "„JSON.rows“ (OLSR-Karte)"
    order = 30

    def recognises(self, document: Document) -> bool:
        return isinstance(member_of(document.json, "JSON").get("rows"), list)

    def nodes(self, document: Any) -> Iterator[Node]:
        return _olsr_nodes(document)


#: How far (degrees, about a metre) the two positions of an OLSR map row may
#: differ: the map writes one position twice (``geometry``, ``latlng``); more
#: than rounding apart, one of them is wrong.
_SAME_POSITION = 1e-5


def _olsr_nodes(document: Any) -> Iterator[Node]:
    """Rows of the OLSR node map; ``links``, ``bbox`` and ``ctime`` stay unread."""
    for entry in required_member(required_member(document, "JSON", dict, "OLSR-JSON"), "rows", list,
                         "OLSR-JSON"):
        if not isinstance(entry, dict):
            continue
        value = member_of(entry, "value")
        host = as_text(entry.get("id"))  # "<hostname>.olsr"
        hostname = as_text(value.get("hostname")) or as_text((host or "").removesuffix(".olsr"))
        point, problem = _olsr_position(entry.get("geometry"), value.get("latlng"))
        yield Node(key=host, hostname=hostname, point=point, lastseen=value.get("mtime"),
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
    return number_pair(first, second) if latitude_first else number_pair(second, first)
