"""The metadata gate: no public dataset that breaks a MUST criterion.

With ``ckanext.vernetztestadt.metadata_gate`` on (off by default),
``package_create`` and ``package_update`` (so ``package_patch``, the
resource actions and every form, which end there) refuse a change after
which the dataset would be public (not private, active) with a MUST
finding of ``assess`` (harvest sources, datasets of type ``harvest``, are
not judged); ``bulk_update_public`` refuses to publish such
datasets. Private datasets and drafts may be saved with findings.

Order of work: CKAN's own ``check_access`` for the action first (a caller
who may not make the change learns nothing), then CKAN's validation of the
change as the action itself runs it (its defaults applied; a change CKAN
refuses anyway goes on to be refused by CKAN with its own errors), then the
assessment of the dataset as it would be. The refusal is a ValidationError
(HTTP 409) keyed by form field, with the German messages of the findings:
``{"license_id": [...]}``, a repeating field's as scheming keys them
(``{"publisher": [{"name": [...]}]}``), a resource's under ``resources`` at
its position (``[{}, {"format": [...]}]``), as CKAN's own errors are.

Owns: the chained actions and the refusal. Must not touch: the criteria
(``assess``) or the validation gate (which runs inside this one).
"""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import _

from ..validation import resource_files
from ..validation.gate import (
    bulk_targets,
    changed_dataset,
    dataset_actions,
    hold_private,
    will_be_public,
)
from .assess import Finding, assess, filled

OPTION = "ckanext.vernetztestadt.metadata_gate"
#: ckanext-harvest's sources are datasets of this type, not DCAT datasets
HARVEST = "harvest"


def enabled() -> bool:
    return tk.asbool(tk.config.get(OPTION))


# -- the dataset as the change would leave it ------------------------------------
def _type(data_dict: dict[str, Any], existing: dict[str, Any] | None) -> str:
    """The dataset's type as the action settles it (an update keeps it)."""
    import ckan.lib.plugins as lib_plugins

    if existing is not None:
        return existing["type"]
    if "type" in data_dict:
        return data_dict["type"]
    try:
        return lib_plugins.lookup_package_plugin().package_types()[0]
    except (AttributeError, IndexError):
        return "dataset"


def _validated(action: str, context: dict[str, Any], data_dict: dict[str, Any],
               existing: dict[str, Any] | None) -> dict[str, Any] | None:
    """The change as CKAN's validation turns it into the dataset (defaults
    applied, tag strings split); None where CKAN refuses its dataset fields
    itself. Resources CKAN may not validate again (an update validates only
    the changed ones) are taken as given where they do not validate."""
    import ckan.lib.plugins as lib_plugins
    import ckan.model as model

    given = {**data_dict, "type": _type(data_dict, existing)}
    plugin = lib_plugins.lookup_package_plugin(given["type"])
    checking = dict(context)
    if existing is None:
        schema = context.get("schema") or plugin.create_package_schema()
    else:
        schema = context.get("schema") or plugin.update_package_schema()
        given["id"] = existing["id"]
        checking["package"] = model.Package.get(existing["id"])
    data, errors = lib_plugins.plugin_validate(plugin, checking, given, schema, action)
    if set(errors) - {"resources"}:
        return None
    if errors and "resources" in given:
        data = {**data, "resources": given["resources"]}
    return data


def _decoded(value: Any) -> Any:
    """Validation stores lists (themes, repeating fields) as JSON text."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _resource(resource: Any) -> Any:
    """A file being uploaded with the change is the resource's URL."""
    if not isinstance(resource, dict) or filled(resource.get("url")):
        return resource
    upload = resource_files.incoming_upload(resource)
    return {**resource, "url": upload.filename} if upload is not None else resource


def as_shown(data: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    """Validated data in ``package_show``'s form, as ``assess`` reads it."""
    import ckan.model as model

    shown = {key: _decoded(value) for key, value in data.items() if key != "extras"}
    for extra in data.get("extras") or []:
        shown.setdefault(extra.get("key"), _decoded(extra.get("value")))
    resources = data["resources"] if "resources" in data else (existing or {}).get(
        "resources", [])
    shown["resources"] = [_resource(r) for r in resources or []]
    licence = model.Package.get_license_register().get(shown.get("license_id") or "")
    shown["license_url"] = getattr(licence, "url", "") or ""
    organization = model.Group.get(shown.get("owner_org") or "") if shown.get(
        "owner_org") else None
    shown["organization"] = {"name": organization.name, "title": organization.title} \
        if organization is not None else None
    return shown


# -- refusing --------------------------------------------------------------------
def _add(errors: dict[str, Any], finding: Finding) -> None:
    message = _(finding.message)
    if finding.subfield:
        entries = errors.setdefault(finding.field, [{}])
        entries[0].setdefault(finding.subfield, []).append(message)
    else:
        errors.setdefault(finding.field, []).append(message)


def refusal(must: tuple[Finding, ...], resources: int) -> tk.ValidationError:
    """The MUST findings as CKAN keys errors (see the module docstring)."""
    errors: dict[str, Any] = {}
    per_resource: list[dict[str, Any]] = [{} for _ in range(resources)]
    for finding in must:
        if finding.position is None or finding.position >= resources:
            _add(errors, finding)
        else:
            _add(per_resource[finding.position], finding)
    if any(per_resource):
        errors["resources"] = per_resource
    return tk.ValidationError(errors)


def _refuse(must: tuple[Finding, ...], dataset: dict[str, Any]) -> None:
    import ckan.model as model

    model.Session.rollback()  # as CKAN does on its own validation errors
    raise refusal(must, len(dataset.get("resources") or []))


def _guarded(action: str, original: Any, context: dict[str, Any],
             data_dict: dict[str, Any]) -> Any:
    if not enabled():
        return original(context, data_dict)
    tk.check_access(action, context, data_dict)
    existing = changed_dataset(action, context, data_dict)
    judged = will_be_public(data_dict, existing) and _type(data_dict, existing) != HARVEST
    data = _validated(action, context, data_dict, existing) if judged else None
    if data is not None:
        dataset = as_shown(data, existing)
        must = assess(dataset).must
        if must and hold_private(data_dict, existing, [_(f.message) for f in must]):
            # a catalog import keeps another portal's dataset, private
            data_dict = {**data_dict, "private": True}
        elif must:
            _refuse(must, dataset)
    return original(context, data_dict)


@tk.chained_action
def bulk_update_public(original: Any, context: dict[str, Any],
                       data_dict: dict[str, Any]) -> Any:
    """CKAN publishes these without package_update: all refusals at once."""
    if not enabled():
        return original(context, data_dict)
    tk.check_access("bulk_update_public", context, data_dict)
    problems = [f"{dataset['name']}: {_(finding.message)}"
                for dataset in bulk_targets(data_dict) if dataset.get("state") == "active"
                for finding in assess(dataset).must]
    if problems:
        raise tk.ValidationError({"datasets": problems})
    return original(context, data_dict)


def get_actions() -> dict[str, Any]:
    return {**dataset_actions(_guarded), "bulk_update_public": bulk_update_public}
