"""What pages and API users see of validations.

Owns: the status a dataset and each of its resources show (added to
package_show's output, hence also to the search index, its facet and the
search listing), German labels of statuses, grouping a report's errors
by type for the report page, and what the resource form shows after a
refused publication (the refused table again, its report, the message).

Must not touch: running validations or the publication rules.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any

from ckan.common import _

from . import reports, resource_check
from .messages import N_, error_hint, error_title
from .status import FAILED, NOT_VALIDATED, WORST_FIRST, Status

_LABELS = {
    Status.SUCCESS: (N_("Gültig"), "success"),
    Status.FAILURE: (N_("Fehlerhaft"), "danger"),
    Status.ERROR: (N_("Nicht prüfbar"), "warning"),
    Status.CREATED: (N_("Prüfung geplant"), "info"),
    Status.RUNNING: (N_("Prüfung läuft"), "info"),
    NOT_VALIDATED: (N_("Nicht geprüft"), "secondary"),
}


def dataset_status(statuses: list[str]) -> str | None:
    """One status for a dataset: the worst of its tables (None: no tables)."""
    return next((status for status in WORST_FIRST if status in statuses), None)


def annotate(pkg_dict: dict[str, Any]) -> dict[str, Any]:
    """Add ``validation_status`` to the dataset and to each tabular resource."""
    tables = [r for r in pkg_dict.get("resources", []) or []
              if r.get("id") and resource_check.is_tabular(r)]
    # package_show runs for every dataset a rebuild indexes: no query without tables
    found = reports.statuses(pkg_dict["id"]) if tables and pkg_dict.get("id") else {}
    for resource in tables:
        resource["validation_status"] = found.get(resource["id"], NOT_VALIDATED)
    status = dataset_status([r["validation_status"] for r in tables])
    if status:
        pkg_dict["validation_status"] = status
    else:
        pkg_dict.pop("validation_status", None)
    return pkg_dict


def staged_state(resource_id: str) -> str | None:
    """State of a new file held back for this resource, if the user may see it."""
    import ckan.plugins.toolkit as tk

    try:
        report = tk.get_action("resource_validation_show")({}, {"resource_id": resource_id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return None
    return (report.get("staged") or {}).get("state")


def label(status: str | None) -> dict[str, str]:
    """German label and Bootstrap colour of a status, for badges."""
    text, colour = _LABELS.get(status or NOT_VALIDATED, _LABELS[NOT_VALIDATED])
    return {"status": status or NOT_VALIDATED, "text": _(text), "colour": colour}


def grouped_errors(report: dict[str, Any], per_type: int) -> list[dict[str, Any]]:
    """Errors by type: title, total and the first ``per_type`` of each."""
    groups: OrderedDict[str, dict[str, Any]] = OrderedDict()
    for task in report.get("tasks", []):
        for error in task.get("errors", []):
            kind = str(error.get("type", ""))
            group = groups.setdefault(kind, {"type": kind, "title": error_title(kind),
                                             "count": 0, "errors": []})
            group["count"] += 1
            if len(group["errors"]) < per_type:
                group["errors"].append({**error, "hint": error_hint(error)})
    return list(groups.values())


def refresh_index(package_id: str) -> None:
    """Re-index a dataset whose reports changed (its status, facet, badge)."""
    import ckan.logic as logic

    logic.index_update_package({"ignore_auth": True}, package_id)


def refusal(errors: dict[str, Any] | None, package_name: str | None) -> dict[str, Any] | None:
    """After the publication gate refused the dataset from the resource form:
    the message and the newest of the dataset's tables that failed (the one
    the steward just saved: the form shows it again, filled in, so that a
    corrected file replaces it instead of adding a second one), else None.
    Read as the caller: ``package_show`` checks their access."""
    from ckan.plugins import toolkit as tk

    from .gate import REFUSAL_FIELD

    messages = (errors or {}).get(REFUSAL_FIELD)
    if not messages or not package_name:
        return None
    try:
        dataset = tk.get_action("package_show")({}, {"id": package_name})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return None
    failed = [r for r in dataset.get("resources", [])
              if r.get("validation_status") in FAILED]
    resource = failed[-1] if failed else None
    return {"messages": messages, "resource": resource,
            "report": tk.h.url_for("vernetztestadt_validation.report_page",
                                   id=dataset["name"], resource_id=resource["id"])
            if resource else None}
