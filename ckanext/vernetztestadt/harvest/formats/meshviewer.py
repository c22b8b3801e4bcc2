"""Format ``meshviewer``: Freifunk's ``meshviewer.json``.

Owns: the flat nodes of meshviewer (``node_id``, ``hostname``, ``location``,
``lastseen``, ``domain``; ``is_online`` is not kept: ``hotspots.json`` has no
such column). The rows come from the Freifunk loop (``freifunk``).

Must not touch: the other Freifunk layouts, CKAN.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .coordinates import location_of
from .freifunk import FreifunkFormat, Node, nodes_list
from .hotspot_rows import Document, as_text, required_member


class Meshviewer(FreifunkFormat):
    name = "meshviewer"
    title = "Freifunk meshviewer.json"
    order = 60

    def recognises(self, document: Document) -> bool:
        return nodes_list(document.json) is not None

    def nodes(self, document: Any) -> Iterator[Node]:
        return _meshviewer_nodes(document)


def _meshviewer_nodes(document: Any) -> Iterator[Node]:
    for node in required_member(document, "nodes", list, "meshviewer.json"):
        if isinstance(node, dict):
            yield Node(key=as_text(node.get("node_id")) or as_text(node.get("mac")),
                        hostname=as_text(node.get("hostname")),
                        point=location_of(node.get("location")), lastseen=node.get("lastseen"),
                        domain=as_text(node.get("domain")))
