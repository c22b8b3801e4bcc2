"""The publication gate: no public dataset with an unvalidated or invalid table.

Owns: the chained actions through which datasets and resources change
(package_create/update — package_patch, resource_create/update/patch/delete
and the forms all end there — and bulk_update_public), the decision whether
a change would leave a public dataset with a tabular resource whose current
file has not passed, and the German refusal (a ValidationError: HTTP 409
through the API).

CKAN stores an incoming upload inside package_update; the gate validates its
stream before that, so a refused upload for a published dataset replaces
nothing and the previous file keeps being served byte for byte.

Must not touch: how a file is validated (``service``/``engine``).
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import _

from . import display, jobs, messages, reports, service, staging
from .engine import Outcome


# -- deciding --------------------------------------------------------------
def _existing(context: dict[str, Any], data_dict: dict[str, Any]) -> dict[str, Any] | None:
    ident = data_dict.get("id") or data_dict.get("name")
    if not ident:
        return None
    try:
        return tk.get_action("package_show")(
            {"ignore_auth": True, "for_update": True, "user": context.get("user")},
            {"id": ident})
    except tk.ObjectNotFound:
        return None


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

    def judge(self, index: int, resource: dict[str, Any], package: dict[str, Any]) -> None:
        stream = _upload_stream(resource)
        report = self.current_report(resource) if stream is None else None
        if report is not None:
            self._note(resource, report["status"], (report.get("report") or {}))
            return
        self.fresh[index] = service.validate_resource(resource, package, stream=stream,
                                                      background_if_large=not self.strict)
        if stream is not None:
            stream.seek(0)  # CKAN stores the same stream afterwards
        outcome = self.fresh[index][0]
        self._note(resource, outcome.status, {"tasks": [{"errors": outcome.errors}]})

    def _note(self, resource: dict[str, Any], status: str, report: dict[str, Any]) -> None:
        if status == "success":
            return
        if status in (reports.CREATED, reports.RUNNING):
            self.waiting += 1
        errors = [e for task in report.get("tasks", []) for e in task.get("errors", [])]
        name = resource.get("name") or resource.get("url") or resource.get("id") or "?"
        if errors:
            detail = messages.summary(errors)
        elif status == reports.CREATED:
            detail = _("zu groß für eine Prüfung während der Anfrage; sie läuft im "
                       "Hintergrund, solange der Datensatz nicht öffentlich ist")
        else:
            detail = _("die Prüfung läuft noch")
        self.problems.append(_("Ressource „{0}“: {1}").format(name, detail))


def _upload_stream(resource: dict[str, Any]) -> Any:
    """The stream of a file being uploaded with this change, if any."""
    upload = resource.get("upload")
    return getattr(upload, "stream", None) if getattr(upload, "filename", None) else None


def refusal(problems: list[str]) -> tk.ValidationError:
    message = _("Der Datensatz kann nicht veröffentlicht werden, solange Tabellen die "
                "Prüfung nicht bestanden haben. {0}").format(" | ".join(problems))
    return tk.ValidationError({"private": [message]})


def _resources(data_dict: dict[str, Any], existing: dict[str, Any] | None,
               ) -> list[dict[str, Any]]:
    if "resources" in data_dict and data_dict["resources"] is not None:
        return list(data_dict["resources"])
    return list((existing or {}).get("resources", []))


def _judge_all(context: dict[str, Any], data_dict: dict[str, Any],
               existing: dict[str, Any] | None) -> Verdicts:
    verdicts = Verdicts(reports.for_package(existing["id"]) if existing else {},
                        strict=bool(context.get(service.STRICT)))
    package = {**(existing or {}), **data_dict}
    for index, resource in enumerate(_resources(data_dict, existing)):
        if service.is_tabular(resource):
            verdicts.judge(index, resource, package)
    return verdicts


def _record(result: dict[str, Any], verdicts: Verdicts, publish: bool = False) -> None:
    """Store what this request validated, now that resources have ids; queue
    the large files for a background job."""
    resources = result.get("resources", [])
    for index, (outcome, digest) in verdicts.fresh.items():
        if index >= len(resources):
            continue
        resource = resources[index]
        if outcome.status == reports.CREATED:
            reports.save(resource["id"], result["id"], reports.CREATED,
                         url=resource.get("url"), publish_when_valid=publish)
            jobs.enqueue_after_commit(resource["id"])
        else:
            service.record(resource, result["id"], outcome, digest, publish_when_valid=publish)


# -- chained actions ----------------------------------------------------------
def enabled(context: dict[str, Any]) -> bool:
    """The gate can be switched off for a site (``validation.gate``) and is
    skipped by callers that validated everything themselves (``SKIP_GATE``).
    Harvesters (``STRICT``) pass it even where the site switched it off."""
    if context.get(service.SKIP_GATE):
        return False
    return bool(context.get(service.STRICT)) or tk.asbool(
        tk.config.get("ckanext.vernetztestadt.validation.gate", True))


def _guarded(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    if not enabled(context):
        return original(context, data_dict)
    existing = _existing(context, data_dict)
    verdicts = _judge_all(context, data_dict, existing)
    publish_later, held = False, {}
    if verdicts.problems and verdicts.strict:
        raise refusal(verdicts.problems)
    if verdicts.problems and will_be_public(data_dict, existing):
        if verdicts.only_waiting and _may_wait(data_dict, existing):
            # large files: saved non-public, published by the job once they pass
            data_dict, publish_later = {**data_dict, "private": True}, True
        elif verdicts.only_waiting and _can_hold_back(data_dict, existing, verdicts):
            # a published dataset keeps serving its valid files meanwhile
            held = _hold_back(data_dict, existing, verdicts)
        else:
            raise refusal(verdicts.problems)
    result = original(context, data_dict)
    package = result if isinstance(result, dict) else tk.get_action("package_show")(
        {"ignore_auth": True}, {"id": context.get("id") or data_dict.get("id")})
    _record(package, verdicts, publish_later)
    for resource_id, staged in held.items():
        reports.set_staged(resource_id, staged)
        jobs.enqueue_after_commit(resource_id)
    if verdicts.fresh or held:
        display.refresh_index(package["id"])
    return result


def _waiting(data_dict: dict[str, Any], existing: dict[str, Any] | None,
             verdicts: Verdicts) -> list[dict[str, Any]]:
    resources = _resources(data_dict, existing)
    return [resources[index] for index, (outcome, _) in verdicts.fresh.items()
            if outcome.status == reports.CREATED]


def _can_hold_back(data_dict: dict[str, Any], existing: dict[str, Any] | None,
                   verdicts: Verdicts) -> bool:
    """Only files of resources already published can wait (a new resource
    cannot be added without its file)."""
    current = {r["id"] for r in (existing or {}).get("resources", [])}
    return all(r.get("id") in current and r["id"] in verdicts.stored
               for r in _waiting(data_dict, existing, verdicts))


def _hold_back(data_dict: dict[str, Any], existing: dict[str, Any] | None,
               verdicts: Verdicts) -> dict[str, dict[str, Any]]:
    current = {r["id"]: r for r in (existing or {}).get("resources", [])}
    held = {}
    for resource in _waiting(data_dict, existing, verdicts):
        held[resource["id"]] = staging.hold_back(resource, current[resource["id"]],
                                                 _upload_stream(resource))
    verdicts.fresh = {i: v for i, v in verdicts.fresh.items()
                      if v[0].status != reports.CREATED}
    return held


def _may_wait(data_dict: dict[str, Any], existing: dict[str, Any] | None) -> bool:
    """A dataset that is not public yet can wait, private, for its background
    validation. A public one cannot: it would stop serving its valid files."""
    was_public = existing is not None and will_be_public({}, existing)
    return not was_public and bool(data_dict.get("owner_org", (existing or {}).get("owner_org")))


@tk.chained_action
def package_create(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    return _guarded(original, context, data_dict)


@tk.chained_action
def package_update(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    return _guarded(original, context, data_dict)


@tk.chained_action
def bulk_update_public(original: Any, context: dict[str, Any],
                       data_dict: dict[str, Any]) -> Any:
    if not enabled(context):
        return original(context, data_dict)
    problems = []
    for ident in data_dict.get("datasets", []):
        package = tk.get_action("package_show")({"ignore_auth": True}, {"id": ident})
        verdicts = _judge_all(context, {"resources": package["resources"]}, package)
        _record(package, verdicts)
        if verdicts.fresh:
            display.refresh_index(package["id"])
        problems += [f"{package['name']}: {p}" for p in verdicts.problems]
    if problems:
        raise refusal(problems)
    return original(context, data_dict)


def get_actions() -> dict[str, Any]:
    return {"package_create": package_create, "package_update": package_update,
            "bulk_update_public": bulk_update_public}
