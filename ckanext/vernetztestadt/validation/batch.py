"""Validating many resources at once (``ckan vernetztestadt validate``).

Owns: choosing the tabular resources of the named datasets (or of all, or
only those whose last validation did not pass), and validating one of them
now or queueing it, storing each report.

Must not touch: terminal output (``cli``) or the publication rules.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import ckan.plugins.toolkit as tk

from . import display, jobs, reports, resource_check
from .status import SUCCESS, Status

_CONTEXT = {"ignore_auth": True}


def _package_ids(datasets: list[str], everything: bool) -> list[str]:
    import ckan.model as model

    if everything:
        query = model.Session.query(model.Package.id).filter(model.Package.state != "deleted")
        return [row.id for row in query.order_by(model.Package.name)]
    return [tk.get_action("package_show")(dict(_CONTEXT), {"id": name})["id"]
            for name in datasets]


def targets(datasets: list[str], everything: bool, only_failed: bool,
            ) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(resource, package) of each tabular resource to validate."""
    for package_id in _package_ids(datasets, everything):
        package = tk.get_action("package_show")(dict(_CONTEXT), {"id": package_id})
        done = reports.for_package(package_id) if only_failed else {}
        for resource in package.get("resources", []):
            if not resource_check.is_tabular(resource):
                continue
            if only_failed and done.get(resource["id"], {}).get("status") == SUCCESS:
                continue
            yield resource, package


def validate_now(resource: dict[str, Any], package: dict[str, Any]) -> str:
    """Validate in this process, store the report, return the status."""
    import ckan.model as model

    outcome, digest = resource_check.validate_resource(resource, package)
    resource_check.record(resource, package["id"], outcome, digest)
    display.refresh_index(package["id"])
    model.repo.commit()
    return outcome.status


def queue(resource: dict[str, Any]) -> str:
    import ckan.model as model

    jobs.enqueue(resource)
    display.refresh_index(resource["package_id"])
    model.repo.commit()
    return Status.CREATED
