"""Held-back replacements: a published resource keeps serving its valid file
while a new, large one is validated in the background.

Owns: taking a new URL or upload out of a change to a public dataset (the
resource keeps its current file), keeping the upload in a staging folder
under CKAN's storage path (removed again if the change fails), what the API
shows of it (not its path), and — in the job — applying the replacement
once it passed, or recording why it was rejected.

Must not touch: the decision whether a change may be published (``gate``).
"""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any

import ckan.plugins.toolkit as tk

from . import gate, reports, resource_check  # gate: its flag, read at call time
from .status import CREATED, FAILURE, RUNNING

REJECTED = FAILURE  # a held-back file that failed


def _folder() -> Path:
    from ckan.lib.uploader import get_storage_path

    folder = Path(get_storage_path()) / "vernetztestadt" / "staging"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def hold_back(resource: dict[str, Any], current: dict[str, Any],
              stream: IO[bytes] | None) -> dict[str, Any]:
    """Put the resource's current file back into ``resource`` and return what
    was held back (the new URL, or the upload saved in the staging folder)."""
    staged: dict[str, Any] = {"state": CREATED, "url": resource.get("url"), "path": None,
                              "filename": None}
    if stream is not None:
        target = _folder() / f"{current['id']}-{uuid.uuid4().hex}"
        stream.seek(0)
        with target.open("wb") as handle:
            shutil.copyfileobj(stream, handle)
        staged.update(path=str(target), filename=resource["upload"].filename)
        resource.pop("upload", None)
    resource["url"] = current.get("url")
    resource["url_type"] = current.get("url_type")
    return staged


def discard(held: Iterable[dict[str, Any]]) -> None:
    """Remove the staged files of a change that failed (no job will read them)."""
    for staged in held:
        if staged.get("path"):
            Path(staged["path"]).unlink(missing_ok=True)


def public(staged: dict[str, Any] | None, may_update: bool) -> dict[str, Any] | None:
    """What the API shows of a held-back file: never where the server keeps
    it; its name, URL and report (cell values of a file that is not
    published) only to those who may update the resource."""
    if not staged:
        return staged
    if not may_update:
        return {"state": staged.get("state")}
    return {key: value for key, value in staged.items() if key != "path"}


def candidate(resource: dict[str, Any], staged: dict[str, Any]) -> dict[str, Any]:
    """The resource as it would be with the held-back file."""
    if staged.get("path"):  # validated from the staged file's stream
        return {**resource, "url": staged["filename"]}
    return {**resource, "url": staged["url"], "url_type": ""}


def validate_and_apply(resource: dict[str, Any], package: dict[str, Any],
                       staged: dict[str, Any]) -> str:
    """The job's work for a held-back file; returns the outcome's status."""
    reports.set_staged(resource["id"], {**staged, "state": RUNNING})
    path = Path(staged["path"]) if staged.get("path") else None
    try:
        with path.open("rb") if path else nullcontext() as stream:
            outcome, digest = resource_check.validate_resource(candidate(resource, staged), package,
                                                        stream=stream)
            if outcome.valid:
                _apply(resource, staged, stream)
        if outcome.valid:
            updated = tk.get_action("resource_show")({"ignore_auth": True},
                                                     {"id": resource["id"]})
            resource_check.record(updated, package["id"], outcome, digest)
            reports.set_staged(resource["id"], None)
        else:
            reports.set_staged(resource["id"], {**staged, "state": outcome.status,
                                                "report": outcome.report})
    finally:
        if path is not None:
            path.unlink(missing_ok=True)
    return outcome.status


def _apply(resource: dict[str, Any], staged: dict[str, Any], stream: IO[bytes] | None) -> None:
    from werkzeug.datastructures import FileStorage

    site_user = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
    change: dict[str, Any] = {"id": resource["id"]}
    if stream is not None:
        stream.seek(0)
        change.update(url=staged["filename"],
                      upload=FileStorage(stream, filename=staged["filename"]))
    else:
        change.update(url=staged["url"], url_type="")
    # validated just now: the gate need not fetch it again
    tk.get_action("resource_patch")(
        {"user": site_user, "ignore_auth": True, gate.SKIP_GATE: True}, change)
