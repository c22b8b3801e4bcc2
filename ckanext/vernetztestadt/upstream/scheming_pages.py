"""ckanext-scheming's edit pages keep the repeating fields a steward changed.

Owns: a chained ``package_patch`` that turns the form's
``<field>-<n>-<subfield>`` keys of a repeating field (contacts, publishers,
temporal and spatial coverage) into that field's list before CKAN merges the
patch into the stored dataset. Scheming's page view (``/dataset/edit/<id>/
<page>``) saves a page with ``package_patch``; the merge kept the stored list
under the field's name, and scheming expands form keys only for fields the
data lacks, so a changed contact was dropped without a word.

Must not touch: anything else of the patch (CKAN's and scheming's validation
decide what is stored).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ckanext.scheming.plugins import expand_form_composite


def _repeating_fields(data_dict: dict[str, Any]) -> set[str]:
    """The repeating fields of the patched dataset's type, if the patch
    carries form keys at all."""
    import ckan.model as model

    if not any("-" in str(key) for key in data_dict):
        return set()
    package = model.Package.get(str(data_dict.get("id") or data_dict.get("name") or ""))
    schema = tk.h.scheming_get_dataset_schema(package.type) if package is not None else None
    return {field["field_name"] for field in (schema or {}).get("dataset_fields", [])
            if "repeating_subfields" in field}


@tk.chained_action
def package_patch(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    tk.check_access("package_patch", context, data_dict)
    repeating = _repeating_fields(data_dict)
    if repeating:
        expand_form_composite(data_dict, repeating)
    return original(context, data_dict)


def get_actions() -> dict[str, Any]:
    return {"package_patch": package_patch}
