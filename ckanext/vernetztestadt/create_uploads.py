"""Files uploaded with ``package_create``, stored as ``package_update`` stores them.

Owns: the chained ``package_create`` that stores the upload of each new
resource of the dataset being created with CKAN's resource uploader (so an
``IUploader`` plugin applies) under an id it gives the resource, before CKAN
saves the dataset, with the size and media type ``package_update`` records;
and removes those files again when the creation fails. CKAN 2.12's
``package_create`` stores no files (it fails on the file object), so a new
dataset with files took a create and an update (two activities, two
validations of the metadata). It runs inside the publication gates, which
have checked the caller and validated the incoming streams by then.

Must not touch: validation (the gates), files of resources that exist.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.common import _

from .validation import resource_files


def _is_uuid(value: Any) -> bool:
    try:
        return str(uuid.UUID(str(value))) == str(value).lower()
    except ValueError:
        return False


def _uploader(resource: dict[str, Any]) -> Any:
    """CKAN's uploader of the resource's file, under the resource's (new) id."""
    import ckan.model as model
    from ckan.lib import uploader

    wanted = resource.get("id")
    if wanted and not _is_uuid(wanted):
        # the id names the file's folder in the storage: no path of the caller's
        raise tk.ValidationError({"resources": [_(
            "Die ID einer neuen Ressource mit Datei muss eine UUID sein.")]})
    if wanted and model.Resource.get(str(wanted)) is not None:
        # never write over the file of a resource that exists
        raise tk.ValidationError({"resources": [_(
            "Die Ressource „{0}“ gibt es schon; neue Ressourcen werden ohne ID "
            "angelegt.").format(wanted)]})
    resource["id"] = str(wanted or uuid.uuid4())
    upload = uploader.get_resource_uploader(resource)  # takes the file out of the dict
    if "mimetype" not in resource and getattr(upload, "mimetype", None):
        resource["mimetype"] = upload.mimetype
    if hasattr(upload, "filesize"):
        resource["size"] = upload.filesize
    return upload


def _remove(stored: list[tuple[str, Any]]) -> None:
    """The files stored for a creation that failed (the default storage;
    another uploader keeps what it cannot be asked to remove)."""
    for resource_id, upload in stored:
        if hasattr(upload, "get_path"):
            with contextlib.suppress(OSError):
                os.remove(upload.get_path(resource_id))


@tk.chained_action
def package_create(original: Any, context: dict[str, Any], data_dict: dict[str, Any]) -> Any:
    with_files = [r for r in data_dict.get("resources") or []
                  if resource_files.incoming_upload(r) is not None]
    if not with_files:
        return original(context, data_dict)
    from ckan.lib import uploader

    tk.check_access("package_create", context, data_dict)  # no file for who may not create
    stored: list[tuple[str, Any]] = []
    try:
        for resource in with_files:
            upload = _uploader(resource)
            stored.append((resource["id"], upload))
            upload.upload(resource["id"], uploader.get_max_resource_size())
        return original(context, data_dict)
    except BaseException:
        _remove(stored)
        raise


def get_actions() -> dict[str, Any]:
    return {"package_create": package_create}
