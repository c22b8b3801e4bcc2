"""Running harvests from the command line and keeping sources in sync.

Owns: ``sync`` (the YAML source definitions → ckanext-harvest sources,
created or updated only where something differs, so running it again changes
nothing) and ``run`` (one job of one source from this process, stage by stage
as the queue consumers would run it — the objects' fetch and import in
forked worker processes when ``workers`` > 1, as several fetch consumers
would —, reporting progress per object, then closed with
``harvest_jobs_run`` like every job).

Must not touch: what the stages do (``framework``) or terminal output (``cli``).
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.harvest import queue
from ckanext.harvest.model import HarvestJob, HarvestObject

from .. import forked
from .publish import site_context
from .sources import SourceDefinition

#: the fields of a source that ``sync`` compares
_COMPARED = ("title", "url", "source_type", "frequency", "notes", "owner_org")


class RunError(Exception):
    """A source that cannot be run now (German message)."""


def _existing(name: str) -> dict[str, Any] | None:
    try:
        return tk.get_action("harvest_source_show")(site_context(), {"id": name})
    except tk.ObjectNotFound:
        return None


def _differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    if any((current.get(k) or "") != (wanted.get(k) or "") for k in _COMPARED):
        return True
    return json.loads(current.get("config") or "{}") != json.loads(wanted["config"])


def sync(definitions: Iterable[SourceDefinition]) -> list[tuple[str, str]]:
    """Create or update each source; returns (name, what happened)."""
    done = []
    for definition in definitions:
        org = model.Group.get(definition.organization)
        if org is None or not org.is_organization:
            raise RunError(f"{definition.file}: Die Organisation „{definition.organization}“ "
                           "gibt es nicht.")
        wanted = definition.action_data(org.id)
        current = _existing(definition.name)
        if current is None:
            tk.get_action("harvest_source_create")(site_context(), wanted)
            done.append((definition.name, "angelegt / created"))
        elif _differs(current, wanted):
            tk.get_action("harvest_source_update")(site_context(),
                                                   {**wanted, "id": current["id"]})
            done.append((definition.name, "aktualisiert / updated"))
        else:
            done.append((definition.name, "unverändert / unchanged"))
    return done


@dataclass
class RunResult:
    source: str
    job_id: str
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


def _start_job(source: dict[str, Any]) -> HarvestJob:
    try:
        job = tk.get_action("harvest_job_create")(
            site_context(), {"source_id": source["id"], "run": False})
    except tk.ValidationError as error:
        raise RunError(f"{source['name']}: Es gibt schon einen offenen Job "
                       f"({error.error_dict}). Abbrechen mit `ckan harvester job-abort "
                       f"{source['name']}`.") from None
    harvest_job = HarvestJob.get(job["id"])
    harvest_job.status = "Running"
    harvest_job.save()
    return harvest_job


def _fetch_and_import(job: tuple[str, str]) -> str:
    """One object through ckanext-harvest's fetch and import stages."""
    source_type, object_id = job
    queue.fetch_and_import_stages(queue.get_harvester(source_type),
                                  HarvestObject.get(object_id))
    return object_id


def _in_worker(job: tuple[str, str]) -> str:
    """``_fetch_and_import`` in a forked worker (the harvester plugin is the
    parent's, forked with it); each object starts with an empty session, as
    in a fetch consumer."""
    try:
        return _fetch_and_import(job)
    finally:
        model.Session.remove()


def _import_all(source_type: str, object_ids: list[str], workers: int) -> Iterator[str]:
    """The ids of the objects as each is done; ``workers`` > 1: that many
    forked processes share them, as that many fetch consumers would."""
    jobs = [(source_type, object_id) for object_id in object_ids]
    if workers <= 1 or len(jobs) <= 1:
        yield from map(_fetch_and_import, jobs)
    else:
        yield from forked.unordered(_in_worker, jobs, workers)


def run(name: str, progress: Callable[[int, int], None] | None = None,
        workers: int | None = None) -> RunResult:
    """Harvest source ``name`` now; ``progress(done, total)`` after each
    object; ``workers`` processes import (default
    ``ckanext.vernetztestadt.harvest.workers``)."""
    source = _existing(name)
    if source is None:
        raise RunError(f"Die Harvest-Quelle „{name}“ gibt es nicht.")
    harvester = queue.get_harvester(source["source_type"])
    if harvester is None:
        raise RunError(f"{name}: Kein Harvester für den Typ „{source['source_type']}“ "
                       "(Plugin in ckan.plugins?).")
    job = _start_job(source)
    result = RunResult(source=name, job_id=job.id)
    object_ids = queue.gather_stage(harvester, job) or []
    count = workers or tk.config.get("ckanext.vernetztestadt.harvest.workers")
    for done, _ in enumerate(_import_all(source["source_type"], object_ids, count), 1):
        if progress:
            progress(done, len(object_ids))
    for object_id in object_ids:
        obj = HarvestObject.get(object_id)
        result.counts[obj.report_status or "errored"] += 1
        result.errors += [f"{obj.guid}: {e.message}" for e in obj.errors]
    result.errors += [e.message for e in HarvestJob.get(result.job_id).gather_errors]
    tk.get_action("harvest_jobs_run")(site_context(), {"source_id": source["id"]})
    return result
