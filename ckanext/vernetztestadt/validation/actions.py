"""The validation API, compatible with ckanext-validation.

Owns: ``resource_validation_show``, ``resource_validation_run`` and
``resource_validation_delete`` with ckanext-validation's parameters, statuses
(created, running, success, failure, error) and result shape, and their auth
functions: running and deleting need the right to edit the resource; a
report is shown to whoever may see the resource (so private datasets' reports
stay private).

Must not touch: how files are validated (``resource_check``) or the gate.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import _

from . import batch, display, reports, resource_check, staging


def _resource_id(data_dict: dict[str, Any]) -> str:
    resource_id = data_dict.get("resource_id") or data_dict.get("id")
    if not resource_id:
        raise tk.ValidationError({"resource_id": [_("Pflichtangabe fehlt")]})
    return str(resource_id)


def resource_validation_show(context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    resource_id = _resource_id(data_dict)
    tk.check_access("resource_validation_show", context, {"resource_id": resource_id})
    report = reports.get(resource_id)
    if report is None:
        raise tk.ObjectNotFound(_("Für diese Ressource gibt es keinen Prüfbericht."))
    staged = staging.public(report.get("staged"), _may_update(context, resource_id))
    return {**report, "staged": staged}


def _may_update(context: dict[str, Any], resource_id: str) -> bool:
    try:
        tk.check_access("resource_update", dict(context), {"id": resource_id})
    except tk.NotAuthorized:
        return False
    return True


def resource_validation_delete(context: dict[str, Any], data_dict: dict[str, Any]) -> None:
    import ckan.model as model

    resource_id = _resource_id(data_dict)
    tk.check_access("resource_validation_delete", context, {"resource_id": resource_id})
    package_id = (reports.get(resource_id) or {}).get("package_id")
    if not reports.delete(resource_id):
        raise tk.ObjectNotFound(_("Für diese Ressource gibt es keinen Prüfbericht."))
    display.refresh_index(package_id)
    model.repo.commit()


def resource_validation_run(context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    """Validate now (``async=False``) or in a background job (the default)."""
    resource_id = _resource_id(data_dict)
    tk.check_access("resource_validation_run", context, {"resource_id": resource_id})
    resource = tk.get_action("resource_show")(dict(context), {"id": resource_id})
    if not resource_check.is_tabular(resource):
        raise tk.ValidationError({"format": [_("Nur Tabellen (CSV, TSV, XLSX, XLS, JSON) "
                                               "können geprüft werden.")]})
    if tk.asbool(data_dict.get("async", True)):
        batch.queue(resource)
    else:
        package = tk.get_action("package_show")({"ignore_auth": True},
                                                {"id": resource["package_id"]})
        batch.validate_now(resource, package)
    return resource_validation_show(dict(context), {"resource_id": resource_id})


# -- auth ----------------------------------------------------------------------
def _may(action: str, context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    try:
        tk.check_access(action, context, {"id": data_dict.get("resource_id")})
    except tk.NotAuthorized:
        return {"success": False, "msg": _("Keine Berechtigung für diese Ressource.")}
    return {"success": True}


def auth_show(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    return _may("resource_show", context, data_dict)


def auth_change(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any]:
    return _may("resource_update", context, data_dict)


def get_actions() -> dict[str, Any]:
    return {"resource_validation_show": tk.side_effect_free(resource_validation_show),
            "resource_validation_run": resource_validation_run,
            "resource_validation_delete": resource_validation_delete}


def get_auth_functions() -> dict[str, Any]:
    return {"resource_validation_show": tk.auth_allow_anonymous_access(auth_show),
            "resource_validation_run": auth_change,
            "resource_validation_delete": auth_change}
