"""Facet values as people read them.

Owns: the ``display_name`` of facet items whose stored value is a code —
validation statuses (``success`` -> "Gültig", in the page's language),
metadata quality grades (``poor`` -> "Mangelhaft"),
harvester types (``vernetztestadt_wifi`` -> the harvester's title), harvest
schedules (``MANUAL`` -> "manuell") and EU
data themes (their URI -> the ``vts_theme`` preset's label) — in
``package_search`` results (pages and API alike, as CKAN does for groups and
organizations).

Must not touch: the values themselves (filters and URLs keep the codes) or
the search.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
import flask

from .quality import display as quality_display
from .quality.assess import INDEX_FIELD as QUALITY_FIELD
from .validation import display as validation_display
from .validation.messages import N_


def _harvester_title(name: str) -> str:
    from ckan.plugins import PluginImplementations

    from ckanext.harvest.interfaces import IHarvester

    for harvester in PluginImplementations(IHarvester):
        info = harvester.info() or {}
        if info.get("name") == name:
            return tk._(info.get("title") or name)
    return name


def theme_label(uri: str) -> str:
    """An EU data theme URI as the ``vts_theme`` preset names it."""
    preset = tk.h.scheming_get_preset("vts_theme") or {}  # scheming keeps its values
    for choice in preset.get("choices", []):
        if choice["value"] == uri:
            return tk.h.scheming_language_text(choice["label"])
    return uri.rsplit("/", 1)[-1]


#: ckanext-harvest's schedule codes, translated where they are shown
HARVEST_FREQUENCIES = {"MANUAL": N_("manuell"), "MONTHLY": N_("monatlich"),
                       "WEEKLY": N_("wöchentlich"), "BIWEEKLY": N_("alle zwei Wochen"),
                       "DAILY": N_("täglich"), "ALWAYS": N_("fortlaufend")}


def _harvest_frequency(code: str) -> str:
    return tk._(HARVEST_FREQUENCIES[code]) if code in HARVEST_FREQUENCIES else code


LABELS: dict[str, Callable[[str], str]] = {
    "validation_status": lambda value: validation_display.label(value)["text"],
    QUALITY_FIELD: quality_display.grade_label,
    "source_type": _harvester_title,
    "frequency": _harvest_frequency,
    "vocab_theme": theme_label,
}


def label_facets(search_results: dict[str, Any]) -> dict[str, Any]:
    """Labels in the request's language; outside a request (CLI, jobs) there
    is no language to write them in, and CKAN's display names stay."""
    if not flask.has_request_context():
        return search_results
    for name, label in LABELS.items():
        for item in (search_results.get("search_facets") or {}).get(name, {}).get("items", []):
            item["display_name"] = label(item["name"])
    return search_results
