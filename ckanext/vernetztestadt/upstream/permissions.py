"""Asking CKAN's auth functions on behalf of a caller, for the upstream guards.

Owns: ``may`` / ``decide`` (a permission asked with a copy of the caller's
context, so that auth functions that write into the context — ckanext-harvest
sets ``context["package"]`` — do not change the caller's), ``fresh`` (that
copy) and the site user's context.

Must not touch: which permission a guard asks for (its own module decides).
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

Context = dict[str, Any]

#: what a copied context keeps of the caller's
_IDENTITY = ("user", "auth_user_obj", "ignore_auth")


def fresh(context: Context) -> Context:
    """A new context for the same caller."""
    copied = {key: context[key] for key in _IDENTITY if key in context}
    return {"model": model, "session": model.Session, **copied}


def decide(context: Context, action: str, data_dict: dict[str, Any]) -> dict[str, Any]:
    """An auth function's answer to ``action`` for the caller of ``context``."""
    try:
        tk.check_access(action, fresh(context), dict(data_dict))
    except tk.NotAuthorized as error:
        return {"success": False, "msg": str(error) or None}
    return {"success": True}


def may(context: Context, action: str, data_dict: dict[str, Any]) -> bool:
    try:
        return decide(context, action, data_dict)["success"]
    except tk.ObjectNotFound:
        return False


def site_context() -> Context:
    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    return {"model": model, "session": model.Session, "user": site_user,
            "ignore_auth": True}
