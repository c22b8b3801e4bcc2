"""Dataset counts of ``organization_list`` and ``group_list`` as deployed
here: CKAN counts every active dataset of a group or organization for its
card on ``/organization`` and ``/group`` (``all_fields``), private ones and
harvest sources included, whoever asks; the organization's page lists only
what the visitor may see (18 on the card, 14 on the page).

Owns: the chained list actions that recount ``package_count`` with one
``package_search`` as the caller (its permission labels, no drafts, no
harvest sources), the same rules as the pages' dataset lists.

Must not touch: which groups are listed (CKAN's auth) or their other fields.
"""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk


def _recount(context: dict[str, Any], groups: Any, facet: str, key: str) -> Any:
    if not (isinstance(groups, list) and groups and isinstance(groups[0], dict)
            and "package_count" in groups[0]):
        return groups
    caller = {name: context[name] for name in ("user", "auth_user_obj") if name in context}
    found = tk.get_action("package_search")(caller, {
        "q": "", "rows": 0, "include_private": True,
        "facet.field": json.dumps([facet]), "facet.limit": -1})
    counts = found["facets"].get(facet, {})
    for group in groups:
        group["package_count"] = counts.get(group.get(key), 0)
    return groups


@tk.chained_action
@tk.side_effect_free
def organization_list(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    return _recount(context, original(context, data_dict), "owner_org", "id")


@tk.chained_action
@tk.side_effect_free
def group_list(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    return _recount(context, original(context, data_dict), "groups", "name")


def get_actions() -> dict[str, Any]:
    return {"organization_list": organization_list, "group_list": group_list}
