"""The organization's metadata quality page for its stewards.

Owns: the route ``/organization/<id>/metadatenqualitaet`` and what it
renders: the organization's datasets the caller may read (private ones and
drafts included), worst first, with score, grade and MUST count. Access is
that of ``metadata_quality_organization_list`` (the organization's editors
and admins, sysadmins): 404 for an unknown organization, 403 for anyone
else, before any dataset is read.

Must not touch: the score or the datasets (the page only reads).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint

blueprint = Blueprint("vernetztestadt_quality", __name__)


def _context() -> dict[str, Any]:
    return {"user": tk.current_user.name if tk.current_user.is_authenticated else ""}


def organization_page(id: str) -> Any:
    try:
        overview = tk.get_action("metadata_quality_organization_list")(_context(), {"id": id})
        organization = tk.get_action("organization_show")(_context(), {
            "id": overview["organization"]["id"], "include_datasets": False,
            "include_users": False, "include_groups": False, "include_tags": False,
            "include_followers": False})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Organisation nicht gefunden."))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Nur Redakteure und Administratoren der Organisation "
                                  "sehen ihre Metadatenqualität."))
    return tk.render("vernetztestadt/quality_organization.html", {
        "overview": overview, "group_dict": organization, "group_type": organization["type"]})


blueprint.add_url_rule("/organization/<id>/metadatenqualitaet", view_func=organization_page)


def get_blueprints() -> list[Blueprint]:
    return [blueprint]
