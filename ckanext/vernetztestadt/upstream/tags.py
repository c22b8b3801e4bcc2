"""CKAN's tag and format lists, limited to what the caller may find.

Owns: chained ``tag_list``, ``tag_search``, ``tag_autocomplete``, ``tag_show``
and ``format_autocomplete``. CKAN answers them from the tag and resource
tables, whatever dataset a tag or format belongs to, so a tag that only
private datasets carry was listed to everyone. Here a free tag (or a format)
is shown only if a dataset the caller may find carries it: the ``tags``
(``res_format``) facet of a ``package_search`` as the caller, private
datasets included — CKAN's own permission labels decide. Drafts and deleted
datasets do not count (their readers are only those who may edit them).

Vocabulary tags are left as they are: a vocabulary is a public list of
allowed values (``vocabulary_show`` lists all of them to everyone).

Must not touch: the search itself, tags' storage, ``package_autocomplete``
(CKAN already filters it by permission labels).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.authz as authz
import ckan.plugins.toolkit as tk
from ckan.common import _

from . import permissions

Context = dict[str, Any]
DataDict = dict[str, Any]
Action = Callable[[Context, DataDict], Any]

#: formats fetched before filtering (CKAN's default answer has 5)
_FORMAT_CANDIDATES = 1000


def visible_terms(context: Context, field: str) -> set[str] | None:
    """The values of ``field`` among the datasets the caller may find; None
    when the caller may see everything (sysadmin, ``ignore_auth``)."""
    user = context.get("user")
    if context.get("ignore_auth") or (user and authz.is_sysadmin(user)):
        return None
    result = tk.get_action("package_search")(permissions.fresh(context), {
        "q": "", "rows": 0, "include_private": True,
        "facet": "true", "facet.field": [field], "facet.limit": -1, "facet.mincount": 1,
    })
    return set((result.get("facets") or {}).get(field) or {})


def _name(tag: Any) -> Any:
    return tag.get("name") if isinstance(tag, dict) else tag


def _bound(data_dict: DataDict, key: str) -> int | None:
    value = data_dict.get(key)
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise tk.ValidationError({key: [_("Ganze Zahl erwartet")]}) from None
    if number < 0:
        raise tk.ValidationError({key: [_("Ganze Zahl erwartet")]})
    return number


def _unpaged(data_dict: DataDict) -> DataDict:
    return {k: v for k, v in data_dict.items() if k not in ("limit", "offset")}


def _page(items: list[Any], data_dict: DataDict) -> list[Any]:
    """CKAN's ``offset`` / ``limit``, applied after filtering (applied before,
    a page would come back short)."""
    offset = _bound(data_dict, "offset") or 0
    limit = _bound(data_dict, "limit")
    return items[offset:] if limit is None else items[offset:offset + limit]


def _free_tags(data_dict: DataDict) -> bool:
    return not data_dict.get("vocabulary_id")


def _visible_tags(context: Context, tags: list[Any]) -> list[Any]:
    visible = visible_terms(context, "tags")
    return tags if visible is None else [tag for tag in tags if _name(tag) in visible]


@tk.side_effect_free
@tk.chained_action
def tag_list(original: Action, context: Context, data_dict: DataDict) -> Any:
    """``tag_list`` and ``tag_autocomplete`` (both answer a list of names)."""
    if not _free_tags(data_dict):
        return original(context, data_dict)
    return _page(_visible_tags(context, original(context, _unpaged(data_dict))), data_dict)


@tk.side_effect_free
@tk.chained_action
def tag_search(original: Action, context: Context, data_dict: DataDict) -> Any:
    if not _free_tags(data_dict):
        return original(context, data_dict)
    found = _visible_tags(context, original(context, _unpaged(data_dict))["results"])
    return {"count": len(found), "results": _page(found, data_dict)}


@tk.side_effect_free
@tk.chained_action
def tag_show(original: Action, context: Context, data_dict: DataDict) -> Any:
    tag = original(context, data_dict)
    if _free_tags(data_dict) and not _visible_tags(context, [tag]):
        raise tk.ObjectNotFound(_("Schlagwort nicht gefunden."))
    return tag


@tk.side_effect_free
@tk.chained_action
def format_autocomplete(original: Action, context: Context, data_dict: DataDict) -> Any:
    formats = original(context, {**data_dict, "limit": _FORMAT_CANDIDATES})
    limit = _bound(data_dict, "limit")
    visible = visible_terms(context, "res_format")
    if visible is not None:
        lowered = {value.lower() for value in visible}
        formats = [value for value in formats if value in lowered]
    return formats[:5 if limit is None else limit]


def get_actions() -> dict[str, Any]:
    return {"tag_list": tag_list, "tag_search": tag_search,
            "tag_autocomplete": tag_list, "tag_show": tag_show,
            "format_autocomplete": format_autocomplete}
