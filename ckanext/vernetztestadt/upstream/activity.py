"""ckanext-activity as deployed here: ``activity_show`` made total, and no
resource-view activities.

Owns: a chained ``activity_show`` auth function that defaults the optional
``include_data`` parameter (false) before ckanext-activity's own check, which
reads ``data_dict["include_data"]`` and so answered HTTP 500 (KeyError) to
every call without it; and a chained ``activity_create`` that records no
"new/changed/deleted resource view" activity. ckanext-activity filters by
permission labels only activities whose type ends in "package", so those of a
draft or private dataset showed its and its resource's ids and the view's
settings to anyone in the organization's activity stream; and
``activity_diff`` compares a dataset's activity with the one before it of any
type, so a view created after a change made that change's "Änderungen" page
404 (CKAN's default views create one with every upload).

Must not touch: who may read an activity (ckanext-activity decides), the
activity data itself (a source's config is kept out of it in ``harvest``).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk


@tk.auth_allow_anonymous_access
@tk.chained_auth_function
def activity_show(next_auth: Any, context: dict[str, Any], data_dict: dict[str, Any],
                  ) -> dict[str, Any]:
    data_dict = data_dict or {}
    include_data = tk.asbool(data_dict.get("include_data", False))
    return next_auth(context, {**data_dict, "include_data": include_data})


@tk.chained_action
def activity_create(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    tk.check_access("activity_create", context, data_dict)
    if str(data_dict.get("activity_type") or "").endswith("resource view"):
        return None
    return original(context, data_dict)


def get_actions() -> dict[str, Any]:
    return {"activity_create": activity_create} if p.plugin_loaded("activity") else {}


def get_auth_functions() -> dict[str, Any]:
    return {"activity_show": activity_show} if p.plugin_loaded("activity") else {}
