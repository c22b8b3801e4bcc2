"""Field types of the index, mirroring CKAN's Solr ``schema.xml``.

Owns: which field is exact (``string``), analysed (``text``), a date, a
number or an n-gram field, which fields are not returned by ``fl``, which
take several values and which every document needs.
Must not touch: SQL (``storage``, ``lucene``) or documents (``analysis``).
"""
from __future__ import annotations

from enum import StrEnum


class FieldType(StrEnum):
    STRING = "string"
    TEXT = "text"
    DATE = "date"
    NUMBER = "number"
    NGRAM = "ngram"


_EXACT: dict[str, FieldType] = {
    **dict.fromkeys(
        ["title", "notes", "text", "urls", "author", "author_email", "maintainer",
         "maintainer_email", "res_name", "res_description", "depends_on", "dependency_of",
         "derives_from", "has_derivation", "links_to", "linked_from", "child_of", "parent_of"],
        FieldType.TEXT),
    **dict.fromkeys(["metadata_created", "metadata_modified", "indexed_ts"], FieldType.DATE),
    # views_* come from CKAN's schema; minx..bbox_area from ckanext-spatial's
    # solr-bbox backend, which asks ranges on them for ``ext_bbox``.
    **dict.fromkeys(
        ["views_total", "views_recent", "resources_accessed_total",
         "resources_accessed_recent", "minx", "miny", "maxx", "maxy", "bbox_area"],
        FieldType.NUMBER),
    **dict.fromkeys(["name_ngram", "title_ngram"], FieldType.NGRAM),
}

#: Where an n-gram field takes its text from (Solr's copyField).
NGRAM_SOURCES = {"name_ngram": "name", "title_ngram": "title"}

#: Fields Solr indexes but does not store: never returned by ``fl``.
NOT_STORED = frozenset([
    "text", "urls", "permission_labels", "title_string", "views_total", "views_recent",
    "resources_accessed_total", "resources_accessed_recent", "depends_on",
    "dependency_of", "derives_from", "has_derivation", "links_to", "linked_from",
    "child_of", "parent_of",
])

#: Stored but never indexed; kept out of the searchable ``fields`` column.
NOT_INDEXED = frozenset(["data_dict", "validated_data_dict"])

#: Fields that take several values (``multiValued="true"``, plus the
#: dynamic ``res_extras_*`` and ``vocab_*``); Solr refuses a list of two or
#: more values for any other field.
MULTI_VALUED = frozenset([
    "tags", "groups", "permission_labels", "res_name", "res_description", "res_format",
    "res_url", "res_type", "text", "urls", "depends_on", "dependency_of", "derives_from",
    "has_derivation", "links_to", "linked_from", "child_of", "parent_of",
])
MULTI_VALUED_PREFIXES = ("res_extras_", "vocab_")
#: Fields every document must have (Solr's uniqueKey first).
REQUIRED = ("index_id", "id", "site_id")
#: Number fields of type ``int`` (the others are floats).
INTEGERS = frozenset(["views_total", "views_recent", "resources_accessed_total",
                      "resources_accessed_recent"])


def multi_valued(name: str) -> bool:
    return name in MULTI_VALUED or name.startswith(MULTI_VALUED_PREFIXES)

#: Fields whose values Solr's copyField rules feed into the catch-all ``text``
#: (plus every ``extras_*``, ``res_extras_*`` and ``vocab_*``), by weight:
#: A and B carry the dismax boosts ``name^4 title^4 tags^2 groups^2``.
TEXT_SOURCES = {
    "A": ("name", "title"),
    "B": ("tags", "groups", "organization"),
    "C": ("text", "urls", "url", "ckan_url", "download_url", "res_url", "license", "notes",
          "res_name", "res_description", "maintainer", "author"),
}
TEXT_PREFIXES = ("extras_", "res_extras_", "vocab_")


def field_type(name: str) -> FieldType:
    """The type of ``name`` by Solr's rules: exact fields, then dynamic ones,
    longer patterns first (``extras_*`` wins over ``*_date``)."""
    if name in _EXACT:
        return _EXACT[name]
    if name.startswith(("extras_", "res_extras_")):
        return FieldType.TEXT
    if name.endswith("_date") and not name.startswith("vocab_"):
        return FieldType.DATE
    return FieldType.STRING  # vocab_* and the catch-all "*" are strings
