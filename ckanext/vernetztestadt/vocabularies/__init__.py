"""Controlled vocabularies of DCAT-AP.de and the EU that the portal's RDF
uses: the official contributor IDs, political geocoding URIs from an AGS,
file types and media types of distributions, languages.

Owns: the data files beside this module and pure lookups on them (no CKAN,
no database, no network). Must not touch: graphs (``profiles``) or
configuration (the caller passes what it read).
"""
from __future__ import annotations

import functools
from importlib import resources

CONTRIBUTORS = "http://dcat-ap.de/def/contributors/"
GEOCODING = "http://dcat-ap.de/def/politicalGeocoding/"
LEVEL = GEOCODING + "Level/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA = "https://www.iana.org/assignments/media-types/"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
LICENSES = "http://dcat-ap.de/def/licenses/"
LICENCE_TYPE = "http://purl.org/adms/licencetype/"

#: dcat-ap.de licence -> its ADMS licence type
_LICENCE_TYPES = {"dl-by-de/2.0": "Attribution", "dl-zero-de/2.0": "PublicDomain",
                  "cc-by/4.0": "Attribution", "cc-zero": "PublicDomain",
                  "cc-by-sa/4.0": "ShareAlike", "odbl": "ShareAlike"}
_LICENCE_TYPE_LABELS = {"Attribution": "Attribution", "PublicDomain": "Public domain",
                        "ShareAlike": "Share-alike", "UnknownIPR": "Unknown IPR"}

#: administrative level -> (key vocabulary, digits of the AGS it keeps)
_GEOCODING_KEYS = {
    "municipality": ("municipalityKey", 8),
    "administrativeDistrict": ("districtKey", 5),
    "state": ("stateKey", 2),
}

#: CKAN format label -> (EU file type, IANA media type or None)
_FORMATS: dict[str, tuple[str, str | None]] = {
    "CSV": ("CSV", "text/csv"),
    "TSV": ("TSV", "text/tab-separated-values"),
    "JSON": ("JSON", "application/json"),
    "GEOJSON": ("GEOJSON", "application/geo+json"),
    "JSON-LD": ("JSON_LD", "application/ld+json"),
    "XLSX": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "XLS": ("XLS", "application/vnd.ms-excel"),
    "ODS": ("ODS", "application/vnd.oasis.opendocument.spreadsheet"),
    "XML": ("XML", "application/xml"),
    "RDF": ("RDF_XML", "application/rdf+xml"),
    "TTL": ("RDF_TURTLE", "text/turtle"),
    "HTML": ("HTML", "text/html"),
    "PDF": ("PDF", "application/pdf"),
    "TXT": ("TXT", "text/plain"),
    "ZIP": ("ZIP", "application/zip"),
    "SHP": ("SHP", None),
    "GML": ("GML", "application/gml+xml"),
    "KML": ("KML", "application/vnd.google-earth.kml+xml"),
    "PNG": ("PNG", "image/png"),
    "JPEG": ("JPEG", "image/jpeg"),
    "SVG": ("SVG", "image/svg+xml"),
    "WMS": ("WMS_SRVC", None),
    "WFS": ("WFS_SRVC", None),
}
_LANGUAGES = {"de": "DEU", "en": "ENG", "fr": "FRA", "nl": "NLD", "pl": "POL",
              "tr": "TUR", "it": "ITA", "es": "SPA"}
_FORMAT_ALIASES = {"JPG": "JPEG", "TURTLE": "TTL", "RDF/XML": "RDF", "TEXT": "TXT",
                   "XLSM": "XLSX", "GEO+JSON": "GEOJSON"}


@functools.cache
def contributor_ids() -> frozenset[str]:
    """The official contributor URIs (``vocabularies/contributors.txt``)."""
    text = resources.files(__package__).joinpath("contributors.txt").read_text("utf-8")
    return frozenset(CONTRIBUTORS + line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def is_official_contributor(uri: str) -> bool:
    return uri in contributor_ids()


def geocoding_uri(ags: str | None, level_uri: str | None) -> str | None:
    """The municipality/district/state key URI of an AGS at its level, e.g.
    ``…/politicalGeocoding/municipalityKey/05513000``; None where the level
    has no key (federal) or the AGS is too short for it."""
    level = (level_uri or LEVEL + "municipality").removeprefix(LEVEL)
    if not ags or level not in _GEOCODING_KEYS:
        return None
    vocabulary, digits = _GEOCODING_KEYS[level]
    if len(ags) < digits or not ags[:digits].isdigit():
        return None
    return f"{GEOCODING}{vocabulary}/{ags[:digits]}"


def level_uri(level: str) -> str:
    return LEVEL + level


def is_level(uri: str) -> bool:
    return uri.removeprefix(LEVEL) in {*_GEOCODING_KEYS, "federal"}


def ags_from_geocoding(uri: str) -> tuple[str, str] | None:
    """(AGS, level URI) of a key URI made by ``geocoding_uri``; None otherwise."""
    for level, (vocabulary, digits) in _GEOCODING_KEYS.items():
        key = uri.removeprefix(f"{GEOCODING}{vocabulary}/")
        if key != uri and len(key) == digits and key.isdigit():
            return key, level_uri(level)
    return None


def licence_type_uri(licence_uri: str) -> str | None:
    """ADMS licence type of a dcat-ap.de licence URI (``…/Attribution``)."""
    kind = _LICENCE_TYPES.get(licence_uri.removeprefix(LICENSES))
    return LICENCE_TYPE + kind if kind and licence_uri.startswith(LICENSES) else None


def licence_type_label(type_uri: str) -> str | None:
    return _LICENCE_TYPE_LABELS.get(type_uri.removeprefix(LICENCE_TYPE))


def _format_key(label: str | None) -> str | None:
    key = (label or "").strip().upper().removeprefix(".")
    key = _FORMAT_ALIASES.get(key, key)
    return key if key in _FORMATS else None


def file_type_uri(label: str | None) -> str | None:
    """EU file-type URI of a CKAN format label (``CSV`` -> ``…/file-type/CSV``)."""
    key = _format_key(label)
    return FILE_TYPE + _FORMATS[key][0] if key else None


def media_type_uri(label: str | None) -> str | None:
    """IANA media-type URI of a CKAN format label, where IANA has one."""
    key = _format_key(label)
    media = _FORMATS[key][1] if key else None
    return IANA + media if media else None


def format_label(uri: str) -> str | None:
    """CKAN format label of an EU file-type or IANA media-type URI (import)."""
    for label, (file_type, media) in _FORMATS.items():
        if uri in (FILE_TYPE + file_type, IANA + (media or "-")):
            return label
    return None


def language_uri(code: str) -> str | None:
    """EU language URI of a two-letter code: ``de`` -> ``…/language/DEU``."""
    three = _LANGUAGES.get(code.lower())
    return LANGUAGE + three if three else None
