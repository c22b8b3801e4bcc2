"""Validation in the background (CKAN's RQ jobs, ``ckan jobs worker``).

Owns: queueing a resource's validation and the job that runs it, with the
time limit from ``max_seconds``; the report's status goes
created → running → success/failure/error, so the UI can show progress.

Must not touch: the publication rules (``gate``).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from . import reports, service

QUEUE = "default"


def enqueue(resource: dict[str, Any]) -> str:
    config = service.settings()
    reports.save(resource["id"], resource["package_id"], reports.CREATED,
                 url=resource.get("url"))
    job = tk.enqueue_job(run, [resource["id"]], title=f"Prüfung {resource['id']}",
                         queue=QUEUE, rq_kwargs={"timeout": config.max_seconds,
                                                 "on_failure": _failed})
    reports.save(resource["id"], resource["package_id"], reports.CREATED,
                 url=resource.get("url"), job_id=job.id)
    return job.id


def run(resource_id: str) -> str:
    """The job: validate the resource's current file and store the report."""
    import ckan.model as model

    context = {"ignore_auth": True}
    resource = tk.get_action("resource_show")(context, {"id": resource_id})
    package = tk.get_action("package_show")(context, {"id": resource["package_id"]})
    reports.save(resource_id, package["id"], reports.RUNNING, url=resource.get("url"))
    model.repo.commit()
    outcome, digest = service.validate_resource(resource, package)
    service.record(resource, package["id"], outcome, digest)
    model.repo.commit()
    return outcome.status


def _failed(job: Any, connection: Any, kind: Any, value: Any, traceback: Any) -> None:
    """RQ's failure callback (also on the time limit): never leave 'running'."""
    import ckan.model as model

    resource_id = job.args[0]
    existing = reports.get(resource_id)
    if existing is None:
        return
    message = ("Die Prüfung hat das Zeitlimit überschritten." if "Timeout" in str(kind)
               else f"Die Prüfung ist abgebrochen: {value}")
    reports.save(resource_id, existing["package_id"], "error",
                 error={"message": message}, url=existing.get("url"))
    model.repo.commit()
