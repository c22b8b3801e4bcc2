"""Harvesting (ckanext-harvest): the portal's harvesters and what they read.

Owns: turning external sources into datasets and rows, one module per step —
``sources`` (YAML source definitions in ``harvesters/``), ``config`` (source
config keys), ``documents`` (getting a source's documents), ``items``
(what one harvest object carries), ``framework`` (gather/fetch/import),
``publish`` (writing datasets), ``runner`` (CLI runs and source sync); the
pure parsers ``grids`` (CSV/XLSX cells), ``rankings`` (Bitkom, Haselhorst),
``hotspots`` (WiFi hotspot lists, GeoJSON, Freifunk, OSM) and ``broadband``
(Breitbandatlas); and the harvesters built on them (``ranking_source``).

Must not touch: HTTP itself (``fetching`` is the one client), how files are
validated (``validation``), search.
"""
