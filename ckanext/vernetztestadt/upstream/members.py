"""``member_list`` of a group or organization as deployed here: CKAN lists
every dataset of an organization, private ones and harvest sources
included, to anyone who may see the organization.

Owns: the chained ``member_list`` that keeps only the datasets the caller
may read (``package_show``); users and groups are listed as CKAN lists them.

Must not touch: who may see the organization itself (CKAN's auth).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from . import permissions


@tk.chained_action
@tk.side_effect_free
def member_list(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    members = original(context, data_dict)
    return [member for member in members if member[1] != "package"
            or permissions.may(context, "package_show", {"id": member[0]})]


def get_actions() -> dict[str, Any]:
    return {"member_list": member_list}
