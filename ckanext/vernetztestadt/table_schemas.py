"""Table Schemas: the bundled ones, references to them, defaults per type.

Owns: which Frictionless Table Schemas ship in ``schemas/tables/``, checking
a resource's ``table_schema`` value (a bundled name, an http(s) URL or inline
JSON), and the default schema each dataset type names in its YAML
(``vernetztestadt_table_schema``).

Must not touch: fetching remote schemas or validating data files (that is
the validation module's job); it only reads the packaged files.
"""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk

from . import resources

_ = tk._


class TableSchemaError(ValueError):
    """A value that is not a usable Table Schema reference (German message)."""


#: Name -> descriptor of each bundled schema (read by ``resources``).
bundled = resources.bundled_table_schemas


def _descriptor_errors(descriptor: Any) -> list[str]:
    from frictionless import Schema

    if not isinstance(descriptor, dict):
        return [_("Ein Table Schema ist ein JSON-Objekt.")]
    report = Schema.validate_descriptor(descriptor)
    return [error.message for error in report.errors]


def check_reference(value: str) -> str:
    """The normalised reference, or TableSchemaError saying what is wrong."""
    text = value.strip()
    if text in bundled():
        return text
    if text.startswith(("http://", "https://")):
        if " " in text:
            raise TableSchemaError(_("Die Adresse des Table Schemas enthält Leerzeichen."))
        return text
    if text.startswith("{"):
        try:
            descriptor = json.loads(text)
        except ValueError as exc:
            raise TableSchemaError(
                _("Das Table Schema ist kein gültiges JSON: {0}").format(exc)) from None
        errors = _descriptor_errors(descriptor)
        if errors:
            raise TableSchemaError(
                _("Das ist kein gültiges Table Schema: {0}").format("; ".join(errors[:3])))
        return json.dumps(descriptor, ensure_ascii=False, sort_keys=True)
    raise TableSchemaError(
        _("Unbekanntes Table Schema „{0}“: erwartet wird {1}, eine http(s)-Adresse "
          "oder JSON.").format(text[:60], ", ".join(sorted(bundled()))))


def default_for(dataset_type: str) -> str | None:
    """The Table Schema a dataset type names in its scheming YAML, if any."""
    schema = tk.h.scheming_get_dataset_schema(dataset_type) if _scheming() else None
    return (schema or {}).get("vernetztestadt_table_schema")


def _scheming() -> bool:
    return "scheming_get_dataset_schema" in tk.h


def for_resource(resource: dict[str, Any], dataset_type: str) -> str | None:
    """The reference that applies to a resource: its own, else its type's."""
    return resource.get("table_schema") or default_for(dataset_type)


def field_names(reference: str | None) -> set[str]:
    """The field names of a bundled or inline schema (none for a URL: it is
    not fetched here)."""
    if not reference:
        return set()
    descriptor = bundled().get(reference)
    if descriptor is None and reference.lstrip().startswith("{"):
        try:
            descriptor = json.loads(reference)
        except ValueError:
            return set()
    fields = (descriptor or {}).get("fields") if isinstance(descriptor, dict) else None
    return {f["name"] for f in fields or [] if isinstance(f, dict) and "name" in f}
