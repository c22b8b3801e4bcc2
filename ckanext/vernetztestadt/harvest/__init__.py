"""Harvesting (ckanext-harvest): the portal's harvesters and what they read.

Owns: turning external sources into datasets and rows, in three layers:

- ``formats/``: pure parsers, bytes to rows, one module per format, each a
  registered class found by name (``formats``; no CKAN imports);
- ``harvesters/``: one class per source type (``ranking``, ``wifi``,
  ``broadband``, ``catalogs``), each naming its config keys and the family of
  formats it reads; the types are listed by ``registry``;
- the framework here: ``sources`` (YAML source definitions in
  ``harvesters/`` at the top of the project), ``config`` (source config
  keys), ``documents`` (getting a source's documents), ``items`` (what one
  harvest object carries), ``framework`` (gather/fetch/import), ``publish``
  (writing datasets), ``runner`` (CLI runs and source sync), ``job_summary``
  and ``status_mail`` (what a job reports).

Must not touch: HTTP itself (``fetching`` is the one client), how files are
validated (``validation``), search.
"""
