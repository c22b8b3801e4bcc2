"""Format ``hopglass``: Freifunk ``nodes.json`` as hopglass-server writes it.

Owns: ``{"version": 2, "nodes": [{"nodeinfo", "flags", "statistics",
"lastseen", "firstseen"}]}`` (also ffmap-backend's version 2); name
``nodeinfo.hostname``, position ``nodeinfo.location``, ``lastseen``,
community ``nodeinfo.system.domain_code``, read like ffmap's nodes
(``freifunk.nodeinfo_node``). ``flags.online`` is not kept:
``hotspots.json`` has no such column; ``last_seen`` says when the node was up.

Must not touch: the other Freifunk layouts, CKAN.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .freifunk import FreifunkFormat, Node, nodeinfo_node, nodes_list, with_nodeinfo
from .hotspot_rows import Document, required_member


class Hopglass(FreifunkFormat):
    name = "hopglass"
    title = "Freifunk nodes.json (hopglass)"
    order = 40

    def recognises(self, document: Document) -> bool:
        nodes = nodes_list(document.json)
        return nodes is not None and document.json.get("version") == 2 and (
            with_nodeinfo(nodes) or not nodes)

    def nodes(self, document: Any) -> Iterator[Node]:
        return _hopglass_nodes(document)


def _hopglass_nodes(document: Any) -> Iterator[Node]:
    for node in required_member(document, "nodes", list, "hopglass-nodes.json"):
        if isinstance(node, dict):
            yield nodeinfo_node(None, node)
