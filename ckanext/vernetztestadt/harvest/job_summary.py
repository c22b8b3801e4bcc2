"""What one harvest job did to each dataset, for ckanext-harvest's job page.

Owns: the template helper ``vernetztestadt_job_changes(job_id)`` behind the
section "Änderungen dieses Jobs" of ``source/job/read.html``: per dataset of
the job whether it was new, changed (with the change summary the framework
stores as the harvest object extra ``vts_changes``), unchanged, withdrawn or
refused, and the counts of each. Read with one query over the job's objects,
and only for a user who may see the job (``harvest_job_show``: whoever may
edit the source, i.e. its organisation's editors and admins, and sysadmins).

Must not touch: the stages that record the summaries (``framework``), the
rest of the job page (ckanext-harvest's template) or the job's status mail
(ckanext-harvest, configured in ``runtime.ckan_config`` and ``test.ini``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.common import current_user

from ckanext.harvest.model import HarvestObject, HarvestObjectExtra

from .framework import CHANGES

#: outcomes in the order the page counts them
OUTCOMES = ("new", "changed", "unchanged", "withdrawn", "refused")
#: what ckanext-harvest's report status says where no change summary is
#: stored (harvesters not built on the framework, withdrawals, refusals)
_BY_REPORT_STATUS = {"added": "new", "updated": "changed", "not modified": "unchanged",
                     "deleted": "withdrawn", "errored": "refused"}
#: per-dataset lines shown at most: a catalogue job may hold thousands
LINE_LIMIT = 500


@dataclass(frozen=True)
class DatasetChange:
    """One dataset of the job: its name (the harvest guid) and outcome."""

    name: str
    outcome: str
    #: the dataset exists in CKAN (so the page can link it)
    exists: bool = False
    #: the framework's change summary; None where none is stored
    rows_added: int | None = None
    rows_removed: int | None = None
    rows_changed: int | None = None
    fields_changed: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobChanges:
    counts: dict[str, int]
    #: the datasets the job did something to (not the unchanged ones)
    lines: list[DatasetChange] = field(default_factory=list)
    #: lines left off beyond LINE_LIMIT
    more: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _rows(job_id: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """(guid, report status, stored change summary, dataset name) per object."""
    query = (model.Session.query(HarvestObject.guid, HarvestObject.report_status,
                                 HarvestObjectExtra.value, model.Package.name)
             .outerjoin(HarvestObjectExtra,
                        (HarvestObjectExtra.harvest_object_id == HarvestObject.id)
                        & (HarvestObjectExtra.key == CHANGES))
             .outerjoin(model.Package, model.Package.id == HarvestObject.package_id)
             .filter(HarvestObject.harvest_job_id == job_id)
             .order_by(HarvestObject.guid))
    return [tuple(row) for row in query]  # type: ignore[misc]


def _change(guid: str, status: str | None, stored: str | None,
            package_name: str | None) -> DatasetChange | None:
    """None for an object not done yet (the job still runs)."""
    exists = package_name is not None
    if stored:
        summary: dict[str, Any] = json.loads(stored)
        return DatasetChange(
            name=guid, outcome="new" if summary.get("new") else "changed", exists=exists,
            rows_added=summary.get("rows_added", 0), rows_removed=summary.get("rows_removed", 0),
            rows_changed=summary.get("rows_changed", 0),
            fields_changed=tuple(summary.get("fields_changed") or ()))
    outcome = _BY_REPORT_STATUS.get(status or "")
    return DatasetChange(name=guid, outcome=outcome, exists=exists) if outcome else None


def _may_see(job_id: str) -> bool:
    try:
        tk.check_access("harvest_job_show", {"user": current_user.name}, {"id": job_id})
    except (tk.NotAuthorized, tk.ObjectNotFound):
        return False
    return True


def job_changes(job_id: str) -> JobChanges | None:
    """The job's changes; None for a user who may not see the job."""
    if not _may_see(job_id):
        return None
    changes = [c for c in (_change(*row) for row in _rows(job_id)) if c is not None]
    counts = {outcome: 0 for outcome in OUTCOMES}
    for change in changes:
        counts[change.outcome] += 1
    lines = [c for c in changes if c.outcome != "unchanged"]
    return JobChanges(counts=counts, lines=lines[:LINE_LIMIT],
                      more=max(0, len(lines) - LINE_LIMIT))


def get_helpers() -> dict[str, Any]:
    return {"vernetztestadt_job_changes": job_changes}
