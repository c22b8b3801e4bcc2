"""What the Freifunk formats share: one loop from nodes to rows.

Owns: ``Node`` (what a Freifunk row is made of, as each format's reader takes
it out of a node), ``FreifunkFormat`` (a format that yields nodes) and the
loop that turns nodes into rows (``read_nodes``). Node ids are derived from
MAC addresses (OLSR: the host name), so the row id is a salted hash; node
ids, MACs, addresses, links and owner contacts are never copied, and a
hostname that contains an e-mail, MAC or IP address is replaced (see
``hotspot_rows.find_private``). Nodes without location or with impossible
coordinates are counted as skipped, not errors. Also the ``nodeinfo`` node of
ffmap's and hopglass' ``nodes.json``.

Must not touch: the layouts of the single formats (``meshviewer``,
``ffmap``, ``hopglass``, ``olsr``), CKAN.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .coordinates import location_of, valid_degrees
from .hotspot_rows import (
    FREIFUNK,
    IMPLAUSIBLE,
    NO_ID,
    NO_LOCATION,
    Document,
    HotspotFormat,
    Rows,
    as_text,
    make_row,
    member_of,
    salted,
)


class FreifunkFormat(HotspotFormat):
    """A Freifunk map format: its ``nodes`` are read by one loop."""

    hint = "„nodes“ (Freifunk)"

    def nodes(self, document: Any) -> Iterator[Node]:
        raise NotImplementedError

    def read(self, document: Document, rows: Rows, source_url: str) -> None:
        read_nodes(self.nodes(document.json), rows)


@dataclass(frozen=True)
class Node:
    """What a Freifunk row is made of, as a format's reader takes it out of
    a node; ``key`` (node id, MAC or OLSR host) is only hashed, ``problem`` is
    why the reader would skip the node."""

    key: str | None
    hostname: str | None
    point: tuple[float, float] | None  # latitude, longitude
    lastseen: Any
    domain: str | None = None
    problem: str | None = None


def read_nodes(nodes: Iterable[Node], rows: Rows) -> None:
    for node in nodes:
        if node.problem:
            rows.skip(node.problem)
            continue
        point = node.point
        if point is None:
            rows.skip(NO_LOCATION)
            continue
        if not valid_degrees(*point):
            # one volunteer's typo must not stop the whole map
            rows.skip(IMPLAUSIBLE)
            continue
        key = node.key or (f"{node.hostname}|{point[0]}|{point[1]}" if node.hostname else None)
        if key is None:
            rows.skip(NO_ID)
            continue
        digest = salted(rows.salt, key)
        rows.add(make_row(f"ff-{digest[:16]}", node.hostname or f"Freifunk-Knoten {digest[:8]}",
                      *point, FREIFUNK, last_seen=node.lastseen,
                      operator=f"Freifunk {node.domain}" if node.domain else "Freifunk"))


def nodeinfo_node(key: Any, node: dict[str, Any]) -> Node:
    """A node of ffmap's or hopglass' ``nodes.json``: what is kept is in
    ``nodeinfo``, except ``lastseen``; ``key`` is ffmap's key of the node."""
    info = member_of(node, "nodeinfo")
    mac = member_of(info, "network").get("mac")
    return Node(key=as_text(info.get("node_id")) or as_text(key) or as_text(mac),
                 hostname=as_text(info.get("hostname")), point=location_of(info.get("location")),
                 lastseen=node.get("lastseen"),
                 domain=as_text(member_of(info, "system").get("domain_code")))


def nodes_list(document: Any) -> list[Any] | None:
    """``nodes`` of a JSON object when it is a list."""
    nodes = document.get("nodes") if isinstance(document, dict) else None
    return nodes if isinstance(nodes, list) else None


def with_nodeinfo(nodes: list[Any]) -> bool:
    return any(isinstance(node, dict) and "nodeinfo" in node for node in nodes)
