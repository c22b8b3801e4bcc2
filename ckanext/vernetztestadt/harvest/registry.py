"""The harvester types the portal has: found by name, as ckanext-dcat finds profiles.

Owns: the list of harvester types (source types), read from the entry point
group ``ckanext.vernetztestadt.harvesters`` (``setup.py`` lists each
harvester class there and, as the same class, among the CKAN plugins). The
source definitions' type check (``sources``), the portal's plugin list
(``runtime.ckan_config``) and the docs are drawn from here, so a new harvester
type is its class plus one line in ``setup.py``.

Must not touch: the harvester classes themselves (names are read without
importing them, so the runtime can build its config before CKAN is loaded).
"""
from __future__ import annotations

from functools import cache
from importlib import metadata

ENTRY_POINT_GROUP = "ckanext.vernetztestadt.harvesters"


@cache
def harvester_types() -> tuple[str, ...]:
    """The source types, sorted by name."""
    return tuple(sorted(entry.name for entry in metadata.entry_points(group=ENTRY_POINT_GROUP)))
