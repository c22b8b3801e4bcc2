"""Template helpers of the extension (``h.vernetztestadt_*``).

Owns: small read-only values templates need. Must not query the database or
the search index; pages get their data from actions.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk


def city_name() -> str:
    return tk.config.get("ckanext.vernetztestadt.city_name")


def default_ags() -> str:
    return tk.config.get("ckanext.vernetztestadt.default_ags")


def validation_label(status: str | None) -> dict[str, str]:
    from .validation.display import label

    return label(status)


def validation_staged(resource_id: str) -> str | None:
    from .validation.display import staged_state

    return staged_state(resource_id)


#: Places where CKAN shows a dataset type's name on its own (page titles,
#: breadcrumbs, navigation), not inside a sentence like "Add …".
_STANDALONE = ("page title", "breadcrumb", "main nav", "facet label", "content tab")


def type_label(object_type: str) -> str | None:
    """A city dataset type as its schema's ``about`` names it, in the page's
    language (German part before " / ", English after)."""
    schema = tk.h.scheming_get_dataset_schema(object_type) if object_type else None
    about = (schema or {}).get("about") or ""
    if " / " not in about:
        return None
    german, english = about.split(" / ", 1)
    return english if tk.h.lang() == "en" else german


@tk.chained_helper
def humanize_entity_type(next_helper: Callable[..., Any], entity_type: str, object_type: str,
                         purpose: str) -> Any:
    """"Breitbandverfügbarkeit" instead of CKAN's "Broadband_Coverage"."""
    label = type_label(object_type) if entity_type == "package" else None
    if label and purpose in _STANDALONE and object_type != "dataset":
        return label
    return next_helper(entity_type, object_type, purpose)


def get_helpers() -> dict[str, Callable[..., Any]]:
    return {"humanize_entity_type": humanize_entity_type,
            "vernetztestadt_city_name": city_name, "vernetztestadt_default_ags": default_ags,
            "vernetztestadt_validation_label": validation_label,
            "vernetztestadt_validation_staged": validation_staged}
