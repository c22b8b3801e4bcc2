"""The publication gate: no public dataset with an unvalidated or invalid table.

Owns: the chained actions through which datasets and resources change
(package_create/update — package_patch, resource_create/update/patch/delete
and the forms all end there — and bulk_update_public), the decision whether
a change would leave a public dataset with a tabular resource whose current
file has not passed, and the German refusal (a ValidationError: HTTP 409
through the API).

Order of work: CKAN's own ``check_access`` for the action first (nothing is
read, fetched or validated for a caller who may not make the change, so a
refusal only quotes what the caller may read); then the files — the
incoming upload stream, or the stored file of a resource of the changed
dataset only (a resource id of another dataset is refused). The reports are
stored in CKAN's transaction (its after_dataset_create/update hook) and an
overwritten upload is kept (``previous``) until the change went through, so
file, report and badge change together or not at all.

Must not touch: how a file is validated (``resource_check``/``engine``).

Size: over 400 lines on purpose: the decision and the chained actions that
apply it are one unit of security review; its parts that are not the decision
live beside it (``staging``, ``previous``, ``content``, ``messages``).
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import _

from . import (
    content,
    display,
    jobs,
    messages,
    previous,
    reports,
    resource_check,
    resource_files,
    staging,
)
from .engine import Outcome
from .status import SUCCESS, Status

#: Context key of callers that validated the change themselves (the gate skips it).
SKIP_GATE = "vernetztestadt_validation_skip"
#: Context key of callers that need the verdict now (harvesters): every file
#: is validated within the call, whatever its size, and an invalid table is
#: refused even for a private dataset.
STRICT = "vernetztestadt_validation_strict"


# -- deciding --------------------------------------------------------------
def changed_dataset(action: str, context: dict[str, Any],
                    data_dict: dict[str, Any]) -> dict[str, Any] | None:
    """The dataset an update changes (a create changes none, whatever name it
    asks for); read only after the caller's right to change it was checked.
    A caller that read it already for CKAN's ``package_update``
    (``original_package``, server-side code only) is not read twice."""
    ident = data_dict.get("id") or data_dict.get("name")
    if action == "package_create" or not ident:
        return None
    original = context.get("original_package")
    if isinstance(original, dict) and ident in (original.get("id"), original.get("name")):
        return original
    try:
        return tk.get_action("package_show")({"ignore_auth": True, "for_update": True},
                                             {"id": ident})
    except tk.ObjectNotFound:
        return None


def _claim_resources(data_dict: dict[str, Any], existing: dict[str, Any] | None) -> set[str]:
    """The ids of the resources this change may read the stored files of:
    the changed dataset's own. A resource id of another dataset is refused
    (CKAN would move that resource here, and the gate would read its file)."""
    import ckan.model as model

    own = {r["id"] for r in (existing or {}).get("resources", [])}
    for resource in data_dict.get("resources") or []:
        ident = resource.get("id") if isinstance(resource, dict) else None
        if ident and ident not in own and model.Resource.get(str(ident)) is not None:
            raise tk.ValidationError({"resources": [_(
                "Die Ressource „{0}“ gehört nicht zu diesem Datensatz; neue Ressourcen "
                "werden ohne ID angelegt.").format(ident)]})
    return own


def will_be_public(data_dict: dict[str, Any], existing: dict[str, Any] | None) -> bool:
    """Public after the change: not private, not a draft, not deleted."""
    private = data_dict.get("private", (existing or {}).get("private", False))
    state = data_dict.get("state") or (existing or {}).get("state") or "active"
    owner = data_dict.get("owner_org", (existing or {}).get("owner_org"))
    return state == "active" and not (tk.asbool(private) and owner)


class Verdicts:
    """Outcomes of the validations this request ran, by resource position."""

    def __init__(self, stored: dict[str, dict[str, Any]], strict: bool = False) -> None:
        #: the dataset's reports, read once (resource id -> report)
        self.stored = stored
        #: validate every file now, whatever its size (harvesters: no request
        #: time limit, and a job must know the verdict before it goes on)
        self.strict = strict
        self.fresh: dict[int, tuple[Outcome, str | None]] = {}
        self.problems: list[str] = []
        self.waiting = 0  # problems that are only validations still to run

    def current_report(self, resource: dict[str, Any]) -> dict[str, Any] | None:
        """The stored report, if it was made for the resource's current file."""
        report = self.stored.get(resource.get("id") or "")
        if report and report.get("url") == resource.get("url"):
            return report
        return None

    @property
    def only_waiting(self) -> bool:
        return bool(self.problems) and self.waiting == len(self.problems)

    def judge(self, index: int, resource: dict[str, Any], package: dict[str, Any],
              stored: bool) -> None:
        """Validate the resource's file (or use its current report); ``stored``:
        its stored file may be read (a resource of the changed dataset)."""
        stream = _upload_stream(resource)
        report = self.current_report(resource) if stream is None and stored else None
        if report is not None:
            self._note(resource, report["status"], (report.get("report") or {}))
            return
        self.fresh[index] = resource_check.validate_resource(resource, package, stream=stream,
                                                      background_if_large=not self.strict,
                                                      stored=stored)
        if stream is not None:
            stream.seek(0)  # CKAN stores the same stream afterwards
        outcome = self.fresh[index][0]
        self._note(resource, outcome.status, {"tasks": [{"errors": outcome.errors}]})

    def _note(self, resource: dict[str, Any], status: str, report: dict[str, Any]) -> None:
        if status == SUCCESS:
            return
        if status in (Status.CREATED, Status.RUNNING):
            self.waiting += 1
        errors = [e for task in report.get("tasks", []) for e in task.get("errors", [])]
        name = resource.get("name") or resource.get("url") or resource.get("id") or "?"
        if errors:
            detail = messages.summary(errors)
        elif status == Status.CREATED:
            detail = _("zu groß für eine Prüfung während der Anfrage; sie läuft im "
                       "Hintergrund, solange der Datensatz nicht öffentlich ist")
        else:
            detail = _("die Prüfung läuft noch")
        self.problems.append(_("Ressource „{0}“: {1}").format(name, detail))


def _upload_stream(resource: dict[str, Any]) -> Any:
    """The stream of a file being uploaded with this change, if any."""
    upload = resource_files.incoming_upload(resource)
    return getattr(upload, "stream", None) if upload is not None else None


def _table_format(resource: dict[str, Any]) -> str | None:
    """The resource's tabular format after CKAN's normalisation of its label,
    or what an incoming upload's bytes show; a table labelled otherwise is
    labelled by what it is, so that every later check agrees."""
    labelled = resource_check.resource_format(resource)
    stream = _upload_stream(resource)
    if labelled or stream is None:
        return labelled
    head = stream.read(content.HEAD_BYTES)
    stream.seek(0)
    sniffed = content.sniff_format(head)
    if sniffed:
        resource["format"] = sniffed.upper()
    return sniffed


#: The field a refused publication's message is given for (what the change
#: asked: public); the resource form recognises it (``display.refusal``).
REFUSAL_FIELD = "private"


def refusal(problems: list[str]) -> tk.ValidationError:
    message = _("Der Datensatz kann nicht veröffentlicht werden, solange Tabellen die "
                "Prüfung nicht bestanden haben. {0}").format(" | ".join(problems))
    return tk.ValidationError({REFUSAL_FIELD: [message]})


def _resources(data_dict: dict[str, Any], existing: dict[str, Any] | None,
               ) -> list[dict[str, Any]]:
    if "resources" in data_dict and data_dict["resources"] is not None:
        return list(data_dict["resources"])
    return list((existing or {}).get("resources", []))


def _judge_all(context: dict[str, Any], data_dict: dict[str, Any],
               existing: dict[str, Any] | None, own: set[str]) -> Verdicts:
    verdicts = Verdicts(reports.for_package(existing["id"]) if existing else {},
                        strict=bool(context.get(STRICT)))
    package = {**(existing or {}), **data_dict}
    for index, resource in enumerate(_resources(data_dict, existing)):
        if _table_format(resource):
            verdicts.judge(index, resource, package, stored=resource.get("id") in own)
    return verdicts


class Pending:
    """What a change validated, to be stored in CKAN's own transaction: by
    ``record_in_transaction`` (CKAN's after_dataset_create/update hook, before
    its commit), else right after the action."""

    def __init__(self, verdicts: Verdicts, publish: bool,
                 held: dict[int, dict[str, Any]]) -> None:
        self.verdicts, self.publish, self.held = verdicts, publish, held
        self.done = False

    def record(self, package_id: str, resources: list[dict[str, Any]]) -> None:
        """Store the reports, now that resources have ids (``resources`` in the
        order of the change); queue the large files for a background job."""
        if self.done:
            return
        self.done = True
        for index, (outcome, digest) in self.verdicts.fresh.items():
            if index >= len(resources):
                continue
            resource = resources[index]
            if outcome.status == Status.CREATED:
                reports.save(resource["id"], package_id, Status.CREATED,
                             url=resource.get("url"), publish_when_valid=self.publish)
                jobs.enqueue_after_commit(resource["id"])
            else:
                resource_check.record(resource, package_id, outcome, digest,
                               publish_when_valid=self.publish)
        for index, staged in self.held.items():
            resource_id = resources[index]["id"]
            reports.set_staged(resource_id, staged)
            jobs.enqueue_after_commit(resource_id)


PENDING = "vernetztestadt_validation_pending"


def record_in_transaction(context: dict[str, Any], pkg_dict: dict[str, Any]) -> None:
    """CKAN's after_dataset_create/update: store this change's reports in the
    same transaction as the dataset (and before CKAN indexes it), so that a
    failure anywhere leaves dataset, file and report as they were."""
    import ckan.model as model

    pending = context.get(PENDING)
    if not isinstance(pending, Pending) or pending.done:
        return
    package = model.Package.get(pkg_dict["id"])
    if package is None:
        return
    pending.record(package.id, [{"id": r.id, "url": r.url} for r in package.resources])


# -- chained actions ----------------------------------------------------------
def enabled(context: dict[str, Any]) -> bool:
    """The gate can be switched off for a site (``validation.gate``) and is
    skipped by callers that validated everything themselves (``SKIP_GATE``).
    Harvesters (``STRICT``) pass it even where the site switched it off."""
    if context.get(SKIP_GATE):
        return False
    return bool(context.get(STRICT)) or tk.asbool(
        tk.config.get("ckanext.vernetztestadt.validation.gate"))


#: set by ``private_when_refused``: the problems of each change saved private
_HOLD_PRIVATE: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "vernetztestadt_hold_private", default=None)


@contextlib.contextmanager
def private_when_refused() -> Iterator[list[str]]:
    """Within this block a change the gate would refuse for its tables is
    saved private instead (the catalog imports: another portal's metadata is
    kept, but not published here before its tables pass); the list yielded
    collects the German reasons of every change so held back."""
    held: list[str] = []
    token = _HOLD_PRIVATE.set(held)
    try:
        yield held
    finally:
        _HOLD_PRIVATE.reset(token)


def hold_private(data_dict: dict[str, Any], existing: dict[str, Any] | None,
                 problems: list[str]) -> bool:
    """Within ``private_when_refused`` (and for a dataset of an organization):
    note ``problems`` and say that the change is to be saved private instead
    of refused (the metadata gate asks too)."""
    held = _HOLD_PRIVATE.get()
    if held is None or not data_dict.get("owner_org", (existing or {}).get("owner_org")):
        return False
    held.extend(problems)
    return True


def _decide(data_dict: dict[str, Any], existing: dict[str, Any] | None,
            verdicts: Verdicts) -> tuple[dict[str, Any], bool, dict[int, dict[str, Any]]]:
    """The change as it may go ahead (maybe made private, maybe with files
    held back), whether to publish it once valid, and what was held back;
    raises the refusal when it may not."""
    if not verdicts.problems:
        return data_dict, False, {}
    if verdicts.strict:
        raise refusal(verdicts.problems)
    if not will_be_public(data_dict, existing):
        return data_dict, False, {}
    if verdicts.only_waiting and _may_wait(data_dict, existing):
        # large files: saved non-public, published by the job once they pass
        return {**data_dict, "private": True}, True, {}
    if verdicts.only_waiting and _can_hold_back(data_dict, existing, verdicts):
        # a published dataset keeps serving its valid files meanwhile
        return data_dict, False, _hold_back(data_dict, existing, verdicts)
    if hold_private(data_dict, existing, verdicts.problems):
        return {**data_dict, "private": True}, False, {}
    raise refusal(verdicts.problems)


def _guarded(action: str, original: Any, context: dict[str, Any],
             data_dict: dict[str, Any]) -> Any:
    if not enabled(context):
        return original(context, data_dict)
    # CKAN's own check first: nothing is read, fetched or validated for a
    # caller who may not make this change
    tk.check_access(action, context, data_dict)
    existing = changed_dataset(action, context, data_dict)
    try:
        own = _claim_resources(data_dict, existing)
        verdicts = _judge_all(context, data_dict, existing, own)
        data_dict, publish_later, held = _decide(data_dict, existing, verdicts)
    except tk.ValidationError:
        # as CKAN does on its own validation errors: a caller's flushed work
        # must not be committed with its error record (ckanext-dcat's RDF
        # harvester has flushed a harvest object naming the dataset about to
        # be created; committing it broke harvest_object_package_id_fkey)
        _rollback()
        raise
    pending = Pending(verdicts, publish_later, held)
    context[PENDING] = pending
    kept = previous.keep(_replaced_uploads(data_dict, existing))
    try:
        result = original(context, data_dict)
        if not pending.done and (verdicts.fresh or held):
            # CKAN saw no change, so it ran no hook: store now
            package = result if isinstance(result, dict) else tk.get_action("package_show")(
                {"ignore_auth": True}, {"id": context.get("id") or data_dict.get("id")})
            pending.record(package["id"], package.get("resources", []))
            display.refresh_index(package["id"])
    except BaseException:
        kept.restore()
        staging.discard(held.values())
        raise
    finally:
        context.pop(PENDING, None)
    kept.release()
    return result


def _rollback() -> None:
    import ckan.model as model

    model.Session.rollback()


def _replaced_uploads(data_dict: dict[str, Any], existing: dict[str, Any] | None,
                      ) -> list[dict[str, Any]]:
    """The stored uploads this change overwrites (a new upload for them)."""
    current = {r["id"]: r for r in (existing or {}).get("resources", [])}
    return [current[r["id"]] for r in data_dict.get("resources") or []
            if isinstance(r, dict) and r.get("id") in current and _upload_stream(r) is not None
            and current[r["id"]].get("url_type") == "upload"]


def _waiting(data_dict: dict[str, Any], existing: dict[str, Any] | None,
             verdicts: Verdicts) -> list[tuple[int, dict[str, Any]]]:
    resources = _resources(data_dict, existing)
    return [(index, resources[index]) for index, (outcome, _) in verdicts.fresh.items()
            if outcome.status == Status.CREATED]


def _can_hold_back(data_dict: dict[str, Any], existing: dict[str, Any] | None,
                   verdicts: Verdicts) -> bool:
    """Only files of resources already published can wait (a new resource
    cannot be added without its file)."""
    current = {r["id"] for r in (existing or {}).get("resources", [])}
    return all(r.get("id") in current and r["id"] in verdicts.stored
               for _, r in _waiting(data_dict, existing, verdicts))


def _hold_back(data_dict: dict[str, Any], existing: dict[str, Any] | None,
               verdicts: Verdicts) -> dict[int, dict[str, Any]]:
    current = {r["id"]: r for r in (existing or {}).get("resources", [])}
    held = {}
    for index, resource in _waiting(data_dict, existing, verdicts):
        held[index] = staging.hold_back(resource, current[resource["id"]],
                                        _upload_stream(resource))
    verdicts.fresh = {i: v for i, v in verdicts.fresh.items()
                      if v[0].status != Status.CREATED}
    return held


def _may_wait(data_dict: dict[str, Any], existing: dict[str, Any] | None) -> bool:
    """A dataset that is not public yet can wait, private, for its background
    validation. A public one cannot: it would stop serving its valid files."""
    was_public = existing is not None and will_be_public({}, existing)
    return not was_public and bool(data_dict.get("owner_org", (existing or {}).get("owner_org")))


def dataset_actions(guarded: Callable[..., Any]) -> dict[str, Any]:
    """``package_create``/``package_update`` chained through ``guarded(action,
    original, context, data_dict)``: the form every gate takes (this one and
    the metadata gate)."""
    def chain(action: str) -> Any:
        @tk.chained_action
        def chained(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
            return guarded(action, original, context, data_dict)
        chained.__name__ = action
        return chained
    return {action: chain(action) for action in ("package_create", "package_update")}


@tk.chained_action
def bulk_update_public(original: Any, context: dict[str, Any],
                       data_dict: dict[str, Any]) -> Any:
    """All refusals at once, before CKAN publishes dataset by dataset (each
    publication passes the gate again in package_update)."""
    if not enabled(context):
        return original(context, data_dict)
    tk.check_access("bulk_update_public", context, data_dict)
    problems = []
    for package in bulk_targets(data_dict):
        own = {r["id"] for r in package["resources"]}
        verdicts = _judge_all(context, {"resources": package["resources"]}, package, own)
        Pending(verdicts, False, {}).record(package["id"], package["resources"])
        if verdicts.fresh:
            display.refresh_index(package["id"])
        problems += [f"{package['name']}: {p}" for p in verdicts.problems]
    if problems:
        raise refusal(problems)
    return original(context, data_dict)


def bulk_targets(data_dict: dict[str, Any]) -> list[dict[str, Any]]:
    """The datasets CKAN's bulk_update_public changes: the named ones that
    belong to the organization the caller was authorized for."""
    import ckan.model as model

    ids = [str(i) for i in data_dict.get("datasets") or []]
    query = model.Session.query(model.Package.id).filter(
        model.Package.id.in_(ids), model.Package.owner_org == data_dict.get("org_id"))
    return [tk.get_action("package_show")({"ignore_auth": True}, {"id": row.id})
            for row in query]


def get_actions() -> dict[str, Any]:
    return {**dataset_actions(_guarded), "bulk_update_public": bulk_update_public}
