"""The German report page of a resource's validation.

Owns: the route ``/dataset/<id>/resource/<resource_id>/validation`` and what
it renders: status, detected dialect, suggested schema, errors grouped by
type with row, column and cell (the first N of each type). Access is that of
``resource_validation_show``.

Must not touch: running validations (the page only reads the report).
"""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint

from . import display

blueprint = Blueprint("vernetztestadt_validation", __name__)


def report_page(id: str, resource_id: str) -> Any:
    context = {"user": tk.current_user.name if tk.current_user else ""}
    try:
        package = tk.get_action("package_show")(dict(context), {"id": id})
        resource = tk.get_action("resource_show")(dict(context), {"id": resource_id})
        validation = tk.get_action("resource_validation_show")(
            dict(context), {"resource_id": resource_id})
    except tk.ObjectNotFound:
        return tk.abort(404, tk._("Kein Prüfbericht gefunden."))
    except tk.NotAuthorized:
        return tk.abort(403, tk._("Keine Berechtigung für diesen Prüfbericht."))
    report = validation.get("report") or {}
    extra = report.get("vernetztestadt") or {}
    per_type = int(tk.config.get("ckanext.vernetztestadt.validation.errors_per_type"))
    staged = validation.get("staged")
    return tk.render("validation/report.html", {
        "pkg_dict": package, "resource": resource, "validation": validation,
        "badge": display.label(validation["status"]),
        "groups": display.grouped_errors(report, per_type), "per_type": per_type,
        "staged": staged,
        "staged_groups": display.grouped_errors((staged or {}).get("report") or {}, per_type),
        "dialect": extra.get("dialect"), "rows": extra.get("rows"),
        "inferred_schema": json.dumps(extra["inferred_schema"], ensure_ascii=False, indent=2)
        if extra.get("inferred_schema") else None,
    })


blueprint.add_url_rule("/dataset/<id>/resource/<resource_id>/validation",
                       view_func=report_page)


def get_blueprints() -> list[Blueprint]:
    return [blueprint]
