"""How the city's dataset fields appear in the search index.

Owns: the ``before_dataset_index`` step that turns the dataset types'
structured fields into searchable index fields: multi-valued fields (themes,
technologies) as lists in CKAN's multi-valued ``vocab_<field>`` index fields
(CKAN's Solr schema types every other unknown field as one string), so each
value is a facet value of its own and ``fq=vocab_theme:"…"`` works; and the
spatial coverage as ckanext-spatial's ``spatial`` field, so that the map
search (``ext_bbox``) finds the dataset; and the dataset's validation status,
for its facet; and its metadata quality grade (``vernetztestadt_quality``:
good, fair, poor; a string field in both engines, Solr's catch-all ``*``
and the PostgreSQL backend's string type), for its facet; and the title's
sort key in German order (``title_string``, which only sorting reads). A
harvest source gets its "validated" dict from package_show: ckanext-harvest
re-indexes a source after each job with its unconverted extras
in that place, so package_show (and harvest_source_show, and the /harvest
list) would lose ``source_type`` and ``config``.

Must not touch: the search backend; it only edits the dict CKAN is about to
index (reading the database only for that harvest source dict).
"""
from __future__ import annotations

import json
from typing import Any

from .quality import assess as quality


def _validated(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """The dataset as its scheming schema shows it (lists are lists)."""
    try:
        return json.loads(pkg_dict.get("validated_data_dict") or "{}")
    except ValueError:
        return {}


def _string_lists(dataset: dict[str, Any]) -> dict[str, list[str]]:
    return {key: value for key, value in dataset.items()
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value)}


def _coverage_geometry(dataset: dict[str, Any]) -> str | None:
    for area in dataset.get("spatial_coverage") or []:
        if isinstance(area, dict) and (area.get("geom") or area.get("bbox")):
            return area.get("geom") or area.get("bbox")
    return None


#: DIN 5007-1 ("Wörterbuch"): umlauts sort as their base letter, ß as ss
_GERMAN_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})


def german_sort_key(text: str) -> str:
    """German alphabetical order: "Öffentliche …" among the O's, not after Z,
    and case does not split the alphabet."""
    return (text or "").casefold().translate(_GERMAN_FOLD)


def before_dataset_index(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    dataset = _validated(pkg_dict)
    if pkg_dict.get("title_string"):  # CKAN's sort field for "title asc/desc"
        pkg_dict["title_string"] = german_sort_key(pkg_dict["title_string"])
    for key, values in _string_lists(dataset).items():
        if key not in ("tags", "groups"):  # CKAN indexes those itself
            pkg_dict[f"vocab_{key}"] = values
            if f"extras_{key}" in pkg_dict:
                pkg_dict[f"extras_{key}"] = " ".join(values)
    if dataset.get("validation_status"):  # added by package_show (validation.display)
        pkg_dict["validation_status"] = dataset["validation_status"]
    if dataset and pkg_dict.get("type") != "harvest":
        pkg_dict[quality.INDEX_FIELD] = quality.assess(dataset).grade
    geometry = _coverage_geometry(dataset)
    if geometry and not pkg_dict.get("extras_spatial"):
        pkg_dict["spatial"] = pkg_dict["extras_spatial"] = geometry
    if pkg_dict.get("type") == "harvest":
        pkg_dict["validated_data_dict"] = _harvest_source(pkg_dict["id"])
    return pkg_dict


def _harvest_source(source_id: str) -> str:
    import ckan.plugins.toolkit as tk

    shown = tk.get_action("package_show")({"ignore_auth": True, "use_cache": False},
                                          {"id": source_id})
    return json.dumps(shown)
