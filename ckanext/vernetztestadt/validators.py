"""Validators for what the dataset schemas' YAML cannot say by itself.

Owns: the checks named in ``schemas/*.yaml`` as ``vernetztestadt_*``: AGS,
licence, end date not before start date, GeoJSON geometry inside a plausible
area, bounding box derived from the geometry, URIs, Table Schema references,
defaults taken from configuration (not for another portal's datasets:
``foreign_metadata``), and fields only harvests may write
(``harvest_provenance``: client input is replaced by the stored value).
Messages are German msgids with English in the translation catalogue.

Must not touch: the database (apart from CKAN's licence register and the
stored value of a harvest-only field, read from the package CKAN is
updating) or files; resolving a Table Schema to its content is
``table_schemas``' job.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
from collections.abc import Callable, Iterator
from typing import Any

import ckan.plugins.toolkit as tk
from dateutil import parser as date_parser
from shapely.geometry import box, mapping, shape

from . import table_schemas

Validator = Callable[..., Any]
_ = tk._
missing = tk.missing
#: context key set by harvest/publish.py only: this write comes from a harvest.
#: A context is built by the server, never from a request, so no client sets it.
HARVEST_WRITE = "vernetztestadt_harvest_write"


def _is_empty(value: Any) -> bool:
    return value is missing or value is None or (isinstance(value, str) and not value.strip())


#: set by ``foreign_metadata``
_FOREIGN: contextvars.ContextVar[bool] = contextvars.ContextVar("vernetztestadt_foreign",
                                                                default=False)


@contextlib.contextmanager
def foreign_metadata() -> Iterator[None]:
    """Within this block the city's defaults (its AGS, its licence) are not
    filled in: another portal's dataset says for itself where it lies and
    under which licence (the catalog imports)."""
    token = _FOREIGN.set(True)
    try:
        yield
    finally:
        _FOREIGN.reset(token)


def default_from_config(config_key: str) -> Validator:
    """``vernetztestadt_default_from_config(<key>)``: fill an empty value from
    the configuration (e.g. the city's AGS or licence)."""

    def validator(key: Any, data: dict, errors: dict, context: dict) -> None:
        if _is_empty(data.get(key)) and not _FOREIGN.get():
            data[key] = tk.config.get(config_key)

    return validator


def harvest_only(key: Any, data: dict, errors: dict, context: dict) -> None:
    """A field harvests write (the "Herkunft" box, the "Veraltet" banner):
    outside a harvest's write the incoming value is ignored and the stored
    one kept (package_update drops a field it is not given, so it is put
    back from the package being updated); a new dataset starts without it."""
    if context.get(HARVEST_WRITE) and not _is_empty(data.get(key)):
        return
    package = context.get("package")
    stored = None
    # package_update sets context["package"] and data["id"] to it; on create
    # a "package" left in a reused context belongs to another dataset
    if package is not None and data.get(("id",)) == package.id:
        stored = package.extras.get(key[-1])
    data[key] = missing if _is_empty(stored) else stored


def license_id(value: Any, context: dict) -> Any:
    import ckan.model as model

    if _is_empty(value):
        return value
    if value not in model.Package.get_license_register():
        raise tk.Invalid(_("Unbekannte Lizenz: {0}").format(value))
    return value


def ags(value: Any, context: dict) -> Any:
    """Amtlicher Gemeindeschlüssel: 8 digits (municipality), 5 (district) or
    2 (state: the key of a Land, as DCAT-AP.de geocodes state data)."""
    if _is_empty(value):
        return value
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) in (2, 5, 8)):
        raise tk.Invalid(_("Der AGS muss aus 8 Ziffern (Gemeinde), 5 Ziffern (Kreis) oder "
                           "2 Ziffern (Land) bestehen, z. B. 05513000."))
    return text


def end_after_start(key: Any, data: dict, errors: dict, context: dict) -> None:
    """In a temporal coverage period, the end must not lie before the start."""
    end, start = data.get(key), data.get((*key[:-1], "start"))
    if _is_empty(end) or _is_empty(start):
        return
    try:
        if date_parser.isoparse(str(end)) < date_parser.isoparse(str(start)):
            errors[key].append(_("Das Ende liegt vor dem Beginn."))
    except (ValueError, TypeError):
        return  # dcat_date has reported the bad date already


def _plausible_area() -> Any:
    west, south, east, north = (float(v) for v in
                                tk.config.get("ckanext.vernetztestadt.plausible_bbox").split(","))
    return box(west, south, east, north)


def _geometry(value: Any) -> Any:
    """A valid shapely geometry from GeoJSON text, or Invalid with the reason."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
        geometry = shape(parsed)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise tk.Invalid(_("Keine gültige GeoJSON-Geometrie: {0}").format(exc)) from None
    if geometry.is_empty or not geometry.is_valid:
        raise tk.Invalid(_("Die Geometrie ist leer oder ungültig (z. B. sich schneidende "
                           "Kanten)."))
    if not geometry.within(_plausible_area()):
        raise tk.Invalid(_("Die Geometrie liegt außerhalb des plausiblen Gebiets "
                           "(Längen-/Breitengrade vertauscht oder keine WGS84-Koordinaten?)."))
    return geometry


def geojson_geometry(value: Any, context: dict) -> Any:
    if _is_empty(value):
        return value
    return json.dumps(mapping(_geometry(value)))


def bbox_from_geom(key: Any, data: dict, errors: dict, context: dict) -> None:
    """Derive the bounding box from the geometry when it is missing."""
    if not _is_empty(data.get(key)):
        return
    geom = data.get((*key[:-1], "geom"))
    if _is_empty(geom):
        return
    try:
        bounds = _geometry(geom).bounds
    except tk.Invalid:
        return  # the geom field reports it
    data[key] = json.dumps(mapping(box(*bounds)))


def uri(value: Any, context: dict) -> Any:
    if _is_empty(value):
        return value
    text = str(value).strip()
    if not text.startswith(("http://", "https://")) or " " in text or len(text) < 12:
        raise tk.Invalid(_("Bitte eine vollständige http(s)-Adresse angeben."))
    return text


def year(value: Any, context: dict) -> Any:
    if _is_empty(value):
        return value
    if not 1990 <= int(value) <= 2100:
        raise tk.Invalid(_("Bitte ein Jahr zwischen 1990 und 2100 angeben."))
    return value


def table_schema(value: Any, context: dict) -> Any:
    """A bundled schema name, an http(s) URL, or a Table Schema as JSON."""
    if _is_empty(value):
        return value
    try:
        return table_schemas.check_reference(str(value))
    except table_schemas.TableSchemaError as exc:
        raise tk.Invalid(str(exc)) from None


def get_validators() -> dict[str, Validator]:
    return {
        "vernetztestadt_default_from_config": default_from_config,
        "vernetztestadt_license": license_id,
        "vernetztestadt_ags": ags,
        "vernetztestadt_end_after_start": end_after_start,
        "vernetztestadt_geojson_geometry": geojson_geometry,
        "vernetztestadt_bbox_from_geom": bbox_from_geom,
        "vernetztestadt_uri": uri,
        "vernetztestadt_year": year,
        "vernetztestadt_table_schema": table_schema,
        "vernetztestadt_harvest_only": harvest_only,
    }
