"""ckanext-harvest 1.6.3's actions and auth functions, tightened.

Owns: the chained actions and auth functions that decide what ckanext-harvest
shows and to whom — only sources the caller may read are listed; a source's
``config`` (and the keys it spreads into the dataset dict), job error summaries,
harvest objects and the harvest log only go to those who may update the
source (the log: sysadmins) — and the real auth functions for the actions
that ckanext-harvest registers as their own auth function (its
``_get_logic_functions`` shares one default dict between actions and auth,
so ``check_access("harvest_log_list")`` ran the action again: a
RecursionError, HTTP 500).

Must not touch: ckanext-harvest's code or data, the portal's harvesters,
the routes (``harvest_views``).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.common import _

from . import permissions

Context = dict[str, Any]
DataDict = dict[str, Any]
Action = Callable[[Context, DataDict], Any]

#: the dataset type of harvest sources (ckanext.harvest.utils.DATASET_TYPE_NAME)
SOURCE_TYPE = "harvest"
#: job report parts that may quote what a source sent (job pages need update)
_JOB_ERRORS = ("object_error_summary", "gather_error_summary")


# -- what a caller may see of a source ---------------------------------------
def may_update_source(context: Context, source_id: str) -> bool:
    return permissions.may(context, "harvest_source_update", {"id": source_id})


def hide_source_config(context: Context, result: Any) -> None:
    """Take a harvest source's configuration out of a dataset dict unless the
    caller may update the source (``ignore_auth``, as in CKAN's own reads for
    the index, may)."""
    hide_in_documents(context, [result])


def hide_in_documents(context: Context, documents: list[Any]) -> None:
    """The same for dataset dicts or search documents (any ``fl``), looking
    the sources up at once; a document without ``type`` may be a source."""
    candidates = [doc for doc in documents if isinstance(doc, dict)
                  and doc.get("type", SOURCE_TYPE) == SOURCE_TYPE and doc.get("id")]
    sources = _sources([doc["id"] for doc in candidates])
    for doc in candidates:
        source = sources.get(doc["id"])
        if source is not None and not may_update_source(context, source.id):
            strip_config(doc, source.config)


def strip_config(result: dict[str, Any], config: Any) -> None:
    """Remove ``config``, the keys ckanext-harvest's show schema copies from it
    to the top level (not the schema's own fields: ``private`` stays), their
    ``extras`` and index copies, also inside the index's JSON documents."""
    own_fields = _show_schema_fields()
    secret = {"config", *(key for key in _config_keys(config) if key not in own_fields)}
    for key in secret:
        result.pop(key, None)
        result.pop(f"extras_{key}", None)
    if isinstance(result.get("extras"), list):
        result["extras"] = [extra for extra in result["extras"]
                            if not (isinstance(extra, dict) and extra.get("key") in secret)]
    for key in ("data_dict", "validated_data_dict"):
        if isinstance(result.get(key), str):
            result[key] = _stripped_json(result[key], config)


def _stripped_json(text: str, config: Any) -> str:
    try:
        inner = json.loads(text)
    except ValueError:
        return "{}"
    if isinstance(inner, dict):
        strip_config(inner, config)
    return json.dumps(inner)


def _sources(ids: list[Any]) -> dict[str, Any]:
    from ckanext.harvest.model import HarvestSource

    wanted = [i for i in ids if isinstance(i, str)]
    if not wanted:
        return {}
    found = model.Session.query(HarvestSource).filter(HarvestSource.id.in_(wanted))
    return {source.id: source for source in found}


def _config_keys(config: Any) -> list[str]:
    try:
        parsed = json.loads(config) if isinstance(config, str) else config
    except ValueError:
        return []
    return list(parsed) if isinstance(parsed, dict) else []


def _show_schema_fields() -> set[str]:
    from ckanext.harvest.logic.schema import harvest_source_show_package_schema

    return set(harvest_source_show_package_schema())


# -- chained actions ---------------------------------------------------------
@tk.side_effect_free
@tk.chained_action
def harvest_source_list(original: Action, context: Context, data_dict: DataDict) -> Any:
    """Upstream lists every source (private ones too) to anonymous callers and
    none to signed-in non-sysadmins: list as the site, keep what this caller
    may read, and answer ``last_job_status`` as this caller."""
    tk.check_access("harvest_source_list", context, data_dict)
    with_status = tk.asbool(data_dict.get("return_last_job_status", False))
    sources = original(permissions.site_context(),
                       {**data_dict, "return_last_job_status": False})
    shown = []
    for source in sources:
        if not permissions.may(context, "harvest_source_show", {"id": source["id"]}):
            continue
        if not may_update_source(context, source["id"]):
            source.pop("config", None)
        if with_status:
            status = tk.get_action("harvest_source_show_status")(
                permissions.fresh(context), {"id": source["id"]})
            source["last_job_status"] = status.get("last_job", {})
        shown.append(source)
    return shown


@tk.side_effect_free
@tk.chained_action
def harvest_source_show_status(original: Action, context: Context, data_dict: DataDict) -> Any:
    """The last job's error summaries are its report, which upstream shows
    only to who may update the source (``harvest_job_show``)."""
    status = original(context, data_dict)
    job = status.get("last_job")
    if isinstance(job, dict) and not may_update_source(context, data_dict.get("id", "")):
        for key in _JOB_ERRORS:
            job.pop(key, None)
    return status


@tk.chained_action
def harvest_abort_failed_jobs(original: Action, context: Context, data_dict: DataDict) -> Any:
    """Upstream asks no permission at all (its auth function was the action)."""
    tk.check_access("harvest_abort_failed_jobs", context, data_dict)
    return original(context, data_dict)


@tk.side_effect_free
@tk.chained_action
def package_show(original: Action, context: Context, data_dict: DataDict) -> Any:
    result = original(context, data_dict)
    hide_source_config(context, result)
    return result


@tk.side_effect_free
@tk.chained_action
def package_search(original: Action, context: Context, data_dict: DataDict) -> Any:
    """Search documents of sources lose their config as in ``package_show``;
    with ``fl`` the id is fetched too, to know which documents are sources."""
    fields = data_dict.get("fl")
    add_id = bool(fields) and "id" not in _field_names(fields)
    if add_id:
        listed = fields if isinstance(fields, list) else [fields]
        data_dict = {**data_dict, "fl": [*listed, "id"]}
    result = original(context, data_dict)
    hide_in_documents(context, result.get("results", []))
    if add_id:
        for document in result.get("results", []):
            if isinstance(document, dict):
                document.pop("id", None)
    return result


def _field_names(fields: Any) -> set[str]:
    listed = fields if isinstance(fields, list) else [fields]
    return {name for part in listed for name in str(part).replace(",", " ").split()}


@tk.chained_action
def activity_create(original: Action, context: Context, data_dict: DataDict) -> Any:
    """Activities keep the dataset dict as the site read it and show it to
    every reader of the dataset: a source's is recorded without its config."""
    data = data_dict.get("data")
    package = data.get("package") if isinstance(data, dict) else None
    if isinstance(package, dict) and package.get("type") == SOURCE_TYPE:
        source = _sources([package.get("id")]).get(package.get("id"))
        strip_config(package, source.config if source else package.get("config"))
    return original(context, data_dict)


def get_actions() -> dict[str, Any]:
    if not p.plugin_loaded("harvest"):
        return {}
    actions: dict[str, Any] = {
        "harvest_source_list": harvest_source_list,
        "harvest_source_show_status": harvest_source_show_status,
        "harvest_abort_failed_jobs": harvest_abort_failed_jobs,
        "package_show": package_show,
        "package_search": package_search,
    }
    if p.plugin_loaded("activity"):
        actions["activity_create"] = activity_create
    return actions


# -- auth functions ----------------------------------------------------------
def _sysadmins_only(message: Callable[[], str]) -> Callable[..., dict[str, Any]]:
    """Sysadmins pass ``check_access`` before any auth function runs, so this
    refuses everyone who gets here (``message`` translates at request time)."""
    @tk.chained_auth_function
    def auth(next_auth: Any, context: Context, data_dict: DataDict) -> dict[str, Any]:
        return {"success": False, "msg": message()}
    return auth


def _as(action: str, source_key: str = "id") -> Callable[..., dict[str, Any]]:
    """Decided by another auth function, on the source named by ``source_key``."""
    @tk.chained_auth_function
    def auth(next_auth: Any, context: Context, data_dict: DataDict) -> dict[str, Any]:
        source_id = (data_dict or {}).get(source_key)
        if not source_id:
            return {"success": False, "msg": _("Nur für Systemadministratoren.")}
        return permissions.decide(context, action, {"id": source_id})
    return auth


@tk.chained_auth_function
def _harvest_object_show(next_auth: Any, context: Context, data_dict: DataDict,
                         ) -> dict[str, Any]:
    """Harvest objects (the fetched document, its errors) belong to the job
    record: who may update the source. Upstream let everybody read them."""
    obj = _harvest_object(data_dict or {})
    if obj is None:
        raise tk.ObjectNotFound(_("Harvest-Objekt nicht gefunden."))
    return permissions.decide(context, "harvest_source_update", {"id": obj.harvest_source_id})


def _harvest_object(data_dict: DataDict) -> Any:
    from ckanext.harvest.model import HarvestObject

    if data_dict.get("id"):
        return HarvestObject.get(data_dict["id"])
    package = model.Package.get(data_dict.get("dataset_id") or "")
    if package is None:
        return None
    return (model.Session.query(HarvestObject)
            .filter(HarvestObject.package_id == package.id,
                    HarvestObject.current.is_(True))
            .order_by(HarvestObject.import_finished.desc()).first())


@tk.chained_auth_function
def _harvest_job_report(next_auth: Any, context: Context, data_dict: DataDict,
                        ) -> dict[str, Any]:
    return permissions.decide(context, "harvest_job_show", data_dict or {})


def get_auth_functions() -> dict[str, Any]:
    if not p.plugin_loaded("harvest"):
        return {}
    return {
        # ckanext-harvest registered these actions as their own auth functions
        "harvest_log_list": _sysadmins_only(
            lambda: _("Nur Systemadministratoren dürfen das Harvest-Protokoll lesen.")),
        "harvest_abort_failed_jobs": _sysadmins_only(
            lambda: _("Nur Systemadministratoren dürfen hängende Harvest-Jobs abbrechen.")),
        "harvest_sources_job_history_clear": _sysadmins_only(
            lambda: _("Nur Systemadministratoren dürfen den Verlauf aller Harvest-Quellen "
                      "löschen.")),
        "harvest_source_job_history_clear": _as("harvest_source_clear"),
        "harvest_source_index_clear": _as("harvest_source_clear"),
        "harvest_source_patch": _as("harvest_source_update"),
        "harvest_job_report": _harvest_job_report,
        # upstream: everybody, or a KeyError (500) without source_id
        "harvest_object_show": _harvest_object_show,
        "harvest_job_list": _as("harvest_source_update", "source_id"),
        "harvest_object_list": _as("harvest_source_update", "source_id"),
    }
