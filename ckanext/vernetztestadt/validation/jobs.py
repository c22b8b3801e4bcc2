"""Validation in the background (CKAN's RQ jobs, ``ckan jobs worker``).

Owns: queueing a resource's validation and the job that runs it, with the
time limit from ``max_seconds``; the report's status goes
created → running → success/failure/error, so the UI can show progress.

Must not touch: the publication rules (``gate``).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from . import display, reports, resource_check, staging
from .status import FINAL, SUCCESS, Status

QUEUE = "default"
_AFTER_COMMIT = "vernetztestadt_validation.enqueue"


def _queue(resource_id: str) -> str:
    job = tk.enqueue_job(run, [resource_id], title=f"Prüfung {resource_id}", queue=QUEUE,
                         rq_kwargs={"timeout": resource_check.settings().max_seconds,
                                    "on_failure": _failed})
    return job.id


def enqueue(resource: dict[str, Any]) -> str:
    """Mark the resource's report as queued and queue its validation now."""
    job_id = _queue(resource["id"])
    reports.save(resource["id"], resource["package_id"], Status.CREATED,
                 url=resource.get("url"), job_id=job_id)
    return job_id


def enqueue_after_commit(resource_id: str) -> None:
    """Queue once the current transaction committed: a worker must find the
    resource (and not a job for a change that was rolled back)."""
    import ckan.model as model

    session = model.Session()
    session.info.setdefault(_AFTER_COMMIT, []).append(resource_id)
    if not sa.event.contains(model.Session, "after_commit", _flush_queue):
        sa.event.listen(model.Session, "after_commit", _flush_queue)


def _flush_queue(session: Any) -> None:
    for resource_id in session.info.pop(_AFTER_COMMIT, []):
        _queue(resource_id)


def run(resource_id: str) -> str:
    """The job: validate the resource's current file and store the report."""
    import ckan.model as model

    context = {"ignore_auth": True}
    resource = tk.get_action("resource_show")(context, {"id": resource_id})
    package = tk.get_action("package_show")(context, {"id": resource["package_id"]})
    staged = (reports.get(resource_id) or {}).get("staged")
    if staged and staged.get("state") == Status.CREATED:
        status = staging.validate_and_apply(resource, package, staged)
        display.refresh_index(package["id"])
        model.repo.commit()
        return status
    publish = bool((reports.get(resource_id) or {}).get("publish_when_valid"))
    reports.save(resource_id, package["id"], Status.RUNNING, url=resource.get("url"),
                 publish_when_valid=publish)
    model.repo.commit()
    outcome, digest = resource_check.validate_resource(resource, package)
    resource_check.record(resource, package["id"], outcome, digest, publish_when_valid=publish)
    display.refresh_index(package["id"])
    model.repo.commit()
    _publish_if_ready(package["id"])
    return outcome.status


def _publish_if_ready(package_id: str) -> None:
    """Publish a dataset the steward asked to publish, once every table passed;
    a failure ends the request (the dataset stays private)."""
    import ckan.model as model

    found = reports.for_package(package_id)
    if not any(r["publish_when_valid"] for r in found.values()):
        return
    statuses = {r["status"] for r in found.values()}
    if statuses <= {SUCCESS}:
        site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})
        tk.get_action("package_patch")({"user": site_user["name"], "ignore_auth": True},
                                       {"id": package_id, "private": False})
    if statuses <= set(FINAL):  # published, or it never will be by itself
        reports.clear_publish_request(package_id)
    model.repo.commit()


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
