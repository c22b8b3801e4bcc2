"""Harvesting (ckanext-harvest): the portal's harvesters and what they read.

Owns: turning external sources into datasets and rows — ``sources`` reads the
harvest source definitions in ``harvesters/``; ``rankings`` parses smart-city
ranking documents (Bitkom Smart City Index, Haselhorst Associates) into rows
of the Table Schema ``schemas/tables/ranking.json``.

Must not touch: fetching (``fetching`` is the one HTTP client), validation
before publication (``validation``), search.
"""
