"""Validating CKAN resources: which ones, against what, with which limits.

Owns: deciding which resources are tabular, resolving the Table Schema that
applies (the resource's own, else its dataset type's default), reading the
validation options from CKAN's config, running ``engine.validate_file`` on an
upload, a URL or an incoming file, and storing the outcome as the resource's
report.

Must not touch: refusing publication (``gate``), the API (``actions``).
"""
from __future__ import annotations

import hashlib
import json
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import ckan.plugins.toolkit as tk

from .. import table_schemas
from ..tabular import DELIMITERS, Declared, DialectError, sniff
from . import content, reports, resource_files
from .engine import (
    ERROR,
    TEXT_FORMATS,
    Limits,
    Outcome,
    TimeUp,
    file_format,
    rejected,
    validate_file,
)
from .status import FAILURE, Status

PREFIX = "ckanext.vernetztestadt.validation."


@dataclass(frozen=True)
class Settings:
    limits: Limits
    policy: resource_files.Policy
    #: the request-time bound: bigger tables, or slower runs, go to a job
    sync_max_bytes: int
    sync_max_rows: int
    sync_max_columns: int
    sync_max_cells: int
    sync_max_seconds: float
    max_seconds: int


def settings() -> Settings:
    def number(name: str) -> int:
        return int(tk.config.get(PREFIX + name))

    max_bytes = number("max_bytes")
    hosts = tuple(str(tk.config.get(PREFIX + "allowed_hosts")).lower().split())
    return Settings(
        limits=Limits(max_bytes=max_bytes, max_rows=number("max_rows"),
                      max_errors=number("max_errors"),
                      formulas=str(tk.config.get(PREFIX + "formula_cells"))),
        policy=resource_files.Policy(allowed_hosts=hosts or ("*",), max_bytes=max_bytes,
                            timeout=float(number("url_timeout"))),
        sync_max_bytes=number("sync_max_bytes"), sync_max_rows=number("sync_max_rows"),
        sync_max_columns=number("sync_max_columns"), sync_max_cells=number("sync_max_cells"),
        sync_max_seconds=float(number("sync_max_seconds")),
        max_seconds=number("max_seconds"))


def _normal_format(declared: str | None) -> str:
    """The format as CKAN stores it ("text/csv" becomes "CSV")."""
    from ckan.lib.helpers import unified_resource_format

    text = (declared or "").strip()
    return unified_resource_format(text) if text else ""


def resource_format(resource: dict[str, Any]) -> str | None:
    """The tabular format of a resource, or None if it is not a table: from
    its format after CKAN's normalisation, or its file name (what an upload's
    bytes show is the gate's to add)."""
    upload = resource_files.incoming_upload(resource)
    name = upload.filename if upload is not None else resource.get("url") or ""
    return file_format(name, _normal_format(resource.get("format")))


def is_tabular(resource: dict[str, Any]) -> bool:
    return resource_format(resource) is not None


def declared(resource: dict[str, Any]) -> Declared:
    """What the resource declares of its dialect. The gate runs before CKAN's
    schema checks the choices: a value outside them is not used here (CKAN
    then refuses it with its own message)."""
    delimiter = resource.get("csv_delimiter")
    decimal = resource.get("csv_decimal_char")
    return Declared(encoding=str(resource.get("encoding") or "") or None,
                    delimiter=delimiter if delimiter in DELIMITERS else None,
                    decimal_char=decimal if decimal in (",", ".") else None)


class SchemaUnavailable(Exception):
    pass


def table_schema(resource: dict[str, Any], dataset_type: str) -> dict[str, Any] | None:
    """The Table Schema descriptor that applies, None for a structural check."""
    reference = table_schemas.for_resource(resource, dataset_type)
    if not reference:
        return None
    if reference in table_schemas.bundled():
        return table_schemas.bundled()[reference]
    if reference.lstrip().startswith("{"):
        return json.loads(reference)
    try:
        with resource_files.url_copy(reference, ".json", settings().policy) as path:
            return json.loads(path.read_text(encoding="utf-8"))
    except (resource_files.FetchError, ValueError) as exc:
        raise SchemaUnavailable(f"Das Table Schema unter {reference} ist nicht nutzbar: "
                                f"{exc}") from None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fits_request(path: Path, resource: dict[str, Any], config: Settings) -> bool:
    """Small enough to validate within the request (else a background job):
    by bytes, and by the table's real rows and cells (an XLSX is zipped)."""
    if path.stat().st_size > config.sync_max_bytes:
        return False
    fmt = resource_format(resource) or "csv"
    try:
        dialect = sniff(path, declared(resource), fmt in TEXT_FORMATS) \
            if fmt in TEXT_FORMATS else None
    except DialectError:
        return True  # refused at once by the validation
    size = content.table_size(path, fmt, dialect, config.sync_max_rows)
    return size.rows <= config.sync_max_rows and size.columns <= config.sync_max_columns \
        and size.cells <= config.sync_max_cells


def run_on_path(path: Path, resource: dict[str, Any], dataset_type: str,
                config: Settings | None = None, deadline: float | None = None) -> Outcome:
    """Validate a local file as the content of ``resource``."""
    config = config or settings()
    try:
        schema = table_schema(resource, dataset_type)
    except SchemaUnavailable as exc:
        return rejected("schema-error", str(exc), path.name, status=ERROR)
    return validate_file(path, schema, fmt=resource_format(resource),
                         declared=declared(resource), limits=config.limits, deadline=deadline)


def open_source(resource: dict[str, Any], config: Settings,
                stream: IO[bytes] | None = None,
                stored: bool = True) -> AbstractContextManager[Path]:
    """A context manager giving a local path of the resource's file: the
    incoming upload ``stream``, the stored upload (only with ``stored``: the
    caller vouched that the resource is one the requester may update), or a
    download of its URL."""
    suffix = "." + (resource_format(resource) or "csv")
    if stream is not None:
        return resource_files.temporary_copy(stream, suffix, config.limits.max_bytes)
    if resource.get("url_type") == "upload":
        path = resource_files.upload_path(resource) if stored else None
        if path is None:
            raise resource_files.FetchError("fetch-error",
                                            "Die hochgeladene Datei fehlt im Speicher.")
        return resource_files.temporary_copy(path.open("rb"), suffix, config.limits.max_bytes)
    return resource_files.url_copy(resource.get("url") or "", suffix, config.policy)


def record(resource: dict[str, Any], package_id: str, outcome: Outcome,
           digest: str | None = None, publish_when_valid: bool = False) -> None:
    """Store the outcome as the resource's report (in CKAN's transaction)."""
    error = None
    if outcome.status == ERROR:
        error = {"message": "; ".join(e.get("message", "") for e in outcome.errors[:3])}
    report = dict(outcome.report)
    report["vernetztestadt"] = {
        "dialect": outcome.dialect.__dict__ if outcome.dialect else None,
        "inferred_schema": outcome.inferred_schema, "rows": outcome.rows}
    reports.save(resource["id"], package_id, outcome.status, report=report, error=error,
                 url=resource.get("url"), sha256=digest,
                 publish_when_valid=publish_when_valid)


def validate_resource(resource: dict[str, Any], package: dict[str, Any],
                      stream: IO[bytes] | None = None, background_if_large: bool = False,
                      stored: bool = True) -> tuple[Outcome, str | None]:
    """Fetch and validate a resource now; returns the outcome and the file's
    SHA-256 (None when it could not be fetched). Does not store anything.

    With ``background_if_large`` a table beyond the request's bound (bytes,
    rows, cells, or a run longer than ``sync_max_seconds``) is left for a
    background job: the outcome's status is then ``created``."""
    config = settings()
    later = Outcome(Status.CREATED, {}), None
    try:
        with open_source(resource, config, stream, stored) as path:
            if background_if_large and not fits_request(path, resource, config):
                return later
            deadline = time.monotonic() + config.sync_max_seconds \
                if background_if_large else None
            outcome = run_on_path(path, resource, package.get("type") or "dataset", config,
                                  deadline)
            return outcome, sha256(path)
    except TimeUp:
        return later
    except resource_files.FetchError as exc:
        status = FAILURE if exc.kind == "file-too-large" else ERROR
        return rejected(exc.kind, str(exc), resource.get("url") or "", status=status), None
