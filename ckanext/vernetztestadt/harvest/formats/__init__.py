"""The harvest formats: pure parsers, bytes to rows, found by name.

Owns: the registry of the formats the harvesters read. A format is one class
(a subclass of ``Format``: its ``name``, the ``family`` of rows it gives and a
German ``title``) in one module of this package, registered under the entry
point group ``ckanext.vernetztestadt.harvest_formats`` with its name, as
ckanext-dcat registers its RDF profiles. A harvester asks for the formats of
its family (``of_family``); the source config check, the harvester's
description on the source form and the docs table are drawn from here, so a
new format is its module plus one line in ``setup.py``.

The families and the modules that hold what their formats share:
``hotspot_rows`` (WiFi hotspots; formats ``city_csv``, ``geojson``,
``meshviewer``, ``ffmap``, ``hopglass``, ``olsr``, ``overpass``),
``broadband`` (Breitbandatlas layouts; formats ``german_csv``, ``coded_csv``,
``legacy_csv``, ``xlsx``, ``mobile_long``, what their cells mean in
``broadband_cells``) and ``rankings`` (Bitkom pages and ranking tables);
``grids`` reads CSV/XLSX cells for all of them.

Must not touch: CKAN (nothing in this package imports ``ckan``; a test
enforces it), the network (harvesters fetch the bytes), publishing.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import metadata
from typing import Any, ClassVar

ENTRY_POINT_GROUP = "ckanext.vernetztestadt.harvest_formats"


class Format:
    """Base of every format class; a family adds how its formats read."""

    name: ClassVar[str]
    family: ClassVar[str]
    #: German label for the source form and the docs table
    title: ClassVar[str]
    #: detection order within the family (lower is tried first)
    order: ClassVar[int] = 100
    #: other names sources may write for it (any case), unique within the family
    aliases: ClassVar[tuple[str, ...]] = ()


class UnknownFormat(ValueError):
    """No registered format of the family has that name (German message)."""


@cache
def registered() -> dict[str, type[Format]]:
    """Name -> class of every registered format, ordered by family, order, name."""
    found: dict[str, type[Format]] = {}
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        cls = entry.load()
        if not (isinstance(cls, type) and issubclass(cls, Format)) or cls.name != entry.name:
            raise TypeError(f"entry point {entry.name} = {entry.value}: not a Format "
                            "subclass of that name")
        found[entry.name] = cls
    return dict(sorted(found.items(), key=lambda item: (item[1].family, item[1].order,
                                                        item[0])))


def refresh() -> None:
    """Read the entry points again (after installing a package with formats)."""
    registered.cache_clear()
    of_family.cache_clear()


@cache
def of_family(family: str) -> dict[str, type[Format]]:
    """The family's formats in detection order (asked for each document, so
    kept; callers do not change it)."""
    return {name: cls for name, cls in registered().items() if cls.family == family}


def known(family: str) -> list[str]:
    """The family's names, then its aliases."""
    found = of_family(family)
    return [*found, *(alias for cls in found.values() for alias in cls.aliases)]


def resolve(family: str, name: str) -> str | None:
    """The registered name that ``name`` (a name or an alias, any case) stands for."""
    found = of_family(family)
    text = name.strip()
    if text in found:
        return text
    folded = text.lower()
    return next((registered for registered, cls in found.items()
                 if folded == registered.lower() or folded in cls.aliases), None)


def get(family: str, name: str) -> type[Format]:
    found = resolve(family, name)
    if found is None:
        raise UnknownFormat(f"Unbekanntes Format „{name}“ (bekannt: "
                            f"{', '.join(of_family(family))}).")
    return of_family(family)[found]


def config_check(family: str) -> Callable[[Any], str]:
    """A source config check: the value names a registered format of the family
    (or an alias); the registered name is what the harvester gets."""
    def check(value: Any) -> str:
        found = resolve(family, value) if isinstance(value, str) else None
        if found is None:
            raise ValueError(f"muss einer von {', '.join(of_family(family))} sein")
        return found
    return check


def titles(family: str) -> str:
    """The family's format titles for a description, e.g. on the source form."""
    return ", ".join(cls.title for cls in of_family(family).values())
