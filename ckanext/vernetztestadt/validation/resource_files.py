"""Getting the bytes of a resource to validate: uploads and URLs.

Owns: what counts as a file being uploaded with a change (``incoming_upload``),
the local path of an uploaded file, and temporary copies of an
incoming upload or of a URL's file (downloaded through ``fetching``, the
extension's one HTTP client with its host policy and limits).

Must not touch: validation (``engine``) or reports.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ..fetching import CHUNK, FetchError, Policy, copy_limited, fetch

__all__ = ["FetchError", "Policy", "incoming_upload", "temporary_copy", "upload_path",
           "url_copy"]


def incoming_upload(resource: Any) -> Any:
    """The file uploaded with this change of ``resource`` (a file object with
    a name, as werkzeug's FileStorage), or None."""
    upload = resource.get("upload") if isinstance(resource, dict) else None
    return upload if getattr(upload, "filename", None) else None


@contextmanager
def temporary_copy(stream: IO[bytes], suffix: str, limit: int) -> Iterator[Path]:
    """The stream saved to a temporary file (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="vts-validation-") as folder:
        path = Path(folder) / f"data{suffix}"
        with path.open("wb") as target:
            copy_limited(iter(lambda: stream.read(CHUNK), b""), target, limit)
        yield path


@contextmanager
def url_copy(url: str, suffix: str, policy: Policy) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="vts-validation-") as folder:
        path = Path(folder) / f"data{suffix}"
        with path.open("wb") as target:
            fetch(url, target, policy)
        yield path


def upload_path(resource: dict[str, Any]) -> Path | None:
    """Where CKAN keeps an uploaded resource's file, if it exists."""
    from ckan.lib.uploader import get_resource_uploader

    path = get_resource_uploader(dict(resource)).get_path(resource["id"])
    return Path(path) if path and Path(path).exists() else None
