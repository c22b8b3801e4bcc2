"""Format ``ffmap``: the older Freifunk ``nodes.json`` of ffmap.

Owns: ffmap's nodes (an object keyed by node id, or a list of nodes with
``nodeinfo``; an empty one has a ``version`` and no ``links``). What is kept
is in ``nodeinfo`` (``freifunk.nodeinfo_node``), except ``lastseen``.

Must not touch: the other Freifunk layouts, CKAN.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .freifunk import FreifunkFormat, Node, nodeinfo_node, nodes_list, with_nodeinfo
from .hotspot_rows import Document, required_member


class Ffmap(FreifunkFormat):
    name = "ffmap_nodes"
    title = "Freifunk nodes.json (ffmap)"
    order = 50

    def recognises(self, document: Document) -> bool:
        data = document.json
        if isinstance(data, dict) and isinstance(data.get("nodes"), dict):
            return True
        nodes = nodes_list(data)
        if nodes is None:
            return False
        # an empty nodes.json has a version and no links (meshviewer has links)
        return with_nodeinfo(nodes) or (not nodes and "version" in data
                                        and "links" not in data)

    def nodes(self, document: Any) -> Iterator[Node]:
        return _ffmap_nodes(document)


def _ffmap_nodes(document: Any) -> Iterator[Node]:
    nodes = required_member(document, "nodes", dict | list, "nodes.json")
    entries = nodes.items() if isinstance(nodes, dict) else ((None, node) for node in nodes)
    for key, node in entries:
        if isinstance(node, dict):
            yield nodeinfo_node(key, node)
