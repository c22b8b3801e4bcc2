"""ckanext-activity's ``activity_show`` auth function, made total.

Owns: a chained ``activity_show`` auth function that defaults the optional
``include_data`` parameter (false) before ckanext-activity's own check, which
reads ``data_dict["include_data"]`` and so answered HTTP 500 (KeyError) to
every call without it.

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


def get_auth_functions() -> dict[str, Any]:
    return {"activity_show": activity_show} if p.plugin_loaded("activity") else {}
