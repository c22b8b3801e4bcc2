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


def get_helpers() -> dict[str, Callable[..., Any]]:
    return {"vernetztestadt_city_name": city_name, "vernetztestadt_default_ags": default_ags,
            "vernetztestadt_validation_label": validation_label,
            "vernetztestadt_validation_staged": validation_staged}
