"""The metadata quality API.

Owns: ``metadata_quality_show`` (one dataset's score, grade and findings
with German text and form link; for whoever may edit the dataset) and
``metadata_quality_organization_list`` (an organization's datasets the
caller may read, private ones and drafts included, with score and MUST
count, worst first; for its editors and admins and sysadmins), and their
auth functions. Permission is checked before anything is read, and datasets
are read as the caller (``package_show``/``package_search``).

Must not touch: the score (``assess``) or the stored datasets.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import _

from . import display
from .assess import assess

PAGE = 1000


def _ident(data_dict: dict[str, Any]) -> str:
    ident = data_dict.get("id") or data_dict.get("name")
    if not ident:
        raise tk.ValidationError({"id": [_("Pflichtangabe fehlt")]})
    return str(ident)


def metadata_quality_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    ident = _ident(data_dict)
    tk.check_access("metadata_quality_show", context, {"id": ident})
    dataset = tk.get_action("package_show")(dict(context), {"id": ident})
    return {"id": dataset["id"], "name": dataset["name"],
            **display.shown(assess(dataset), dataset)}


def _organization(data_dict: dict[str, Any]) -> Any:
    import ckan.model as model

    found = model.Group.get(_ident(data_dict))
    if found is None or not found.is_organization or found.state != "active":
        raise tk.ObjectNotFound(_("Organisation nicht gefunden."))
    return found


def _datasets(context: dict[str, Any], organization_id: str) -> list[dict[str, Any]]:
    """The organization's datasets as the caller may read them (searched as
    the caller: private ones of their organizations, their drafts)."""
    found: list[dict[str, Any]] = []
    while True:
        page = tk.get_action("package_search")(dict(context), {
            "fq": f'owner_org:"{organization_id}" -dataset_type:harvest', "rows": PAGE,
            "start": len(found), "sort": "name asc", "include_private": True,
            "include_drafts": True})
        found += page["results"]
        if not page["results"] or len(found) >= page["count"]:
            return found


def _row(dataset: dict[str, Any]) -> dict[str, Any]:
    result = assess(dataset)
    return {"id": dataset["id"], "name": dataset["name"],
            "title": dataset.get("title") or dataset["name"], "type": dataset.get("type"),
            "private": bool(dataset.get("private")), "state": dataset.get("state"),
            "score": result.score, "grade": result.grade,
            "grade_label": display.grade_label(result.grade),
            "must": len(result.must), "findings": len(result.findings)}


def worst_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (-r["must"], r["score"], r["title"].casefold()))


def metadata_quality_organization_list(context: dict[str, Any], data_dict: dict[str, Any],
                                       ) -> dict[str, Any]:
    organization = _organization(data_dict)
    tk.check_access("metadata_quality_organization_list", context, {"id": organization.id})
    rows = worst_first([_row(d) for d in _datasets(context, organization.id)])
    return {"organization": {"id": organization.id, "name": organization.name,
                             "title": organization.title or organization.name},
            "count": len(rows), "datasets": rows}


# -- auth ----------------------------------------------------------------------
def _auth_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    try:
        tk.check_access("package_update", dict(context), {"id": data_dict.get("id")})
    except tk.NotAuthorized:
        return {"success": False, "msg": _("Nur wer den Datensatz bearbeiten darf, sieht "
                                           "seine Metadatenqualität.")}
    return {"success": True}


def _auth_organization(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    import ckan.authz as authz

    if authz.has_user_permission_for_group_or_org(data_dict.get("id"), context.get("user"),
                                                  "update_dataset"):
        return {"success": True}
    return {"success": False, "msg": _("Nur Redakteure und Administratoren der "
                                       "Organisation sehen ihre Metadatenqualität.")}


def get_actions() -> dict[str, Any]:
    return {"metadata_quality_show": metadata_quality_show,
            "metadata_quality_organization_list": metadata_quality_organization_list}


def get_auth_functions() -> dict[str, Any]:
    return {"metadata_quality_show": _auth_show,
            "metadata_quality_organization_list": _auth_organization}
