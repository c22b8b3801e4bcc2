"""The previous stored file of a resource, kept until its replacement commits.

Owns: a second name (a hard link beside it) for each stored upload that a
change is about to overwrite, put back if the change fails after CKAN wrote
the new file (CKAN writes uploads before it commits, so a later failure
would otherwise serve the new bytes under the old report and badge), and
dropped once the change went through.

Must not touch: deciding whether a change may be made (``gate``), reports.
"""
from __future__ import annotations

import contextlib
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import resource_files

log = logging.getLogger(__name__)


@dataclass
class Kept:
    """Stored files and their kept copies (path -> copy)."""

    copies: dict[Path, Path] = field(default_factory=dict)

    def restore(self) -> None:
        """Put every previous file back (the change failed)."""
        for path, copy in self.copies.items():
            try:
                os.replace(copy, path)
            except OSError:
                log.exception("could not restore the previous file %s", path)
        self.copies.clear()

    def release(self) -> None:
        """Drop the kept copies (the change went through)."""
        for copy in self.copies.values():
            with contextlib.suppress(FileNotFoundError):
                copy.unlink()
        self.copies.clear()


def keep(resources: list[dict[str, Any]]) -> Kept:
    """Keep the stored files of ``resources`` (those that have one)."""
    kept = Kept()
    for resource in resources:
        path = resource_files.upload_path(resource)
        if path is None:
            continue
        copy = path.with_name(f"{path.name}.vts-previous-{uuid.uuid4().hex}")
        # a hard link: CKAN replaces the file by renaming a new one over it,
        # so the link keeps the old bytes without copying them
        os.link(path, copy)
        kept.copies[path] = copy
    return kept
