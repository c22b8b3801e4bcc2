"""A dataset as a Frictionless Data Package (v2): descriptor and zip.

Owns: the routes ``/dataset/<id>/datapackage.json`` (the descriptor, each
stored file's ``path`` its download URL) and ``/dataset/<id>/datapackage.zip``
(``datapackage.json`` with relative paths and the stored files under
``data/``), and what the descriptor says of each resource: name, format,
media type, encoding, bytes and SHA-256 of the stored file, a flat CSV
dialect and the Table Schema with the file's decimal mark. Everything is
read as the caller: access is checked before any file is opened, and only
resources ``package_show`` gives the caller appear.

Must not touch: the stored files or the datasets (read only), how a file's
dialect or Table Schema is found (``tabular``, ``validation.resource_check``:
the export says what the validation reads), the DCAT-AP.de export
(``profiles``).
"""
from __future__ import annotations

import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ckan.plugins.toolkit as tk
import flask
from flask import Blueprint

from . import vocabularies
from .tabular import Dialect, DialectError, sniff
from .validation import reports, resource_check, resource_files
from .validation.engine import EXCEL_FORMATS, TEXT_FORMATS, localise_schema

PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
DESCRIPTOR = "datapackage.json"
FOLDER = "data"
#: what a Data Package resource name may hold (the v1 pattern, lowercase):
#: also the file's name inside the zip, so never a path
_NOT_IN_NAME = re.compile(r"[^a-z0-9._-]+")
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")
#: IANA names of the encodings ``tabular`` works with (a BOM is found by
#: frictionless itself under "utf-8")
_IANA_ENCODINGS = {"cp1252": "windows-1252", "utf-8-sig": "utf-8"}


@dataclass
class Package:
    """The descriptor (paths relative, as in the zip) and the stored files."""

    descriptor: dict[str, Any]
    #: name inside the zip -> stored file
    files: dict[str, Path] = field(default_factory=dict)
    #: name inside the zip -> download URL (the JSON variant's path)
    urls: dict[str, str] = field(default_factory=dict)

    def with_urls(self) -> dict[str, Any]:
        """The descriptor of the JSON variant: stored files by their URLs."""
        resources = [{**r, "path": self.urls.get(r["path"], r["path"])}
                     for r in self.descriptor["resources"]]
        return {**self.descriptor, "resources": resources}


# -- who may read what -----------------------------------------------------------

def _context() -> dict[str, Any]:
    user = tk.current_user.name if tk.current_user.is_authenticated else ""
    return {"user": user, "auth_user_obj": tk.current_user}


def readable_dataset(id: str) -> dict[str, Any]:
    """The dataset as the caller may see it, or the dataset page's refusal
    (404, also for a private dataset, unless the site reveals them)."""
    context, data_dict = _context(), {"id": id}
    try:
        # before anything is read: a refusal opens no file
        tk.check_access("package_show", dict(context), data_dict)
        return tk.get_action("package_show")(dict(context), data_dict)
    except tk.ObjectNotFound:
        pass
    except tk.NotAuthorized:
        if tk.asbool(tk.config.get("ckan.auth.reveal_private_datasets")) \
                and tk.current_user.is_authenticated:
            tk.abort(403, tk._("Keine Berechtigung für diesen Datensatz."))
    return tk.abort(404, tk._("Datensatz nicht gefunden oder keine Berechtigung, "
                              "ihn zu sehen."))


def _may_read(resource: dict[str, Any]) -> bool:
    """A second look per resource: a plugin may hide single resources."""
    try:
        tk.check_access("resource_show", _context(), {"id": resource["id"]})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return False
    return True


# -- names -----------------------------------------------------------------------

def resource_name(resource: dict[str, Any], taken: set[str]) -> str:
    """A valid, unique Data Package name from the resource's name (or id)."""
    text = str(resource.get("name") or "").lower()
    base = _NOT_IN_NAME.sub("-", text).strip("._-")[:80] or f"resource-{resource['id'][:8]}"
    name, number = base, 2
    while name in taken:
        name, number = f"{base}-{number}", number + 1
    taken.add(name)
    return name


def _extension(resource: dict[str, Any], fmt: str) -> str:
    """The file's extension inside the zip: the table format, else the stored
    name's, if it looks like one."""
    suffix = Path(str(resource.get("url") or "").split("?")[0]).suffix.lower().lstrip(".")
    for candidate in (fmt, suffix):
        if _EXTENSION.fullmatch(candidate):
            return candidate
    return "bin"


# -- one resource ----------------------------------------------------------------

def _format(resource: dict[str, Any]) -> str:
    return resource_check.resource_format(resource) or str(resource.get("format") or "").lower()


def _media_type(resource: dict[str, Any]) -> str | None:
    uri = vocabularies.media_type_uri(resource.get("format"))
    return resource.get("mimetype") or (uri.removeprefix(vocabularies.IANA) if uri else None)


def _reported_dialect(resource: dict[str, Any]) -> Dialect | None:
    """What the last validation detected (for a URL: no file is fetched here)."""
    found = (reports.get(resource["id"]) or {}).get("report") or {}
    detected = (found.get("vernetztestadt") or {}).get("dialect") if isinstance(found, dict) \
        else None
    return Dialect(**detected) if isinstance(detected, dict) else None


def _dialect(resource: dict[str, Any], path: Path | None) -> Dialect | None:
    """The stored file's dialect as the validation reads it (declared values
    win, the rest detected); None where the bytes contradict the declaration."""
    try:
        if path is not None:
            return sniff(path, resource_check.declared(resource))
    except DialectError:
        return None
    return _reported_dialect(resource)


def _flat_dialect(dialect: Dialect) -> dict[str, Any]:
    return {"header": True, "delimiter": dialect.delimiter, "quoteChar": '"',
            "doubleQuote": True}


def _schema(resource: dict[str, Any], dataset_type: str) -> dict[str, Any] | None:
    try:
        return resource_check.table_schema(resource, dataset_type)
    except resource_check.SchemaUnavailable:
        return None  # frictionless then infers one


def _table_parts(resource: dict[str, Any], fmt: str, path: Path | None,
                 dataset_type: str) -> dict[str, Any]:
    """For tables: type, dialect, encoding and the schema with the file's
    decimal and group marks (a German file writes 51,5 and 1.234)."""
    if fmt not in (*TEXT_FORMATS, *EXCEL_FORMATS):
        return {}
    parts: dict[str, Any] = {"type": "table"}
    schema = _schema(resource, dataset_type)
    dialect = _dialect(resource, path) if fmt in TEXT_FORMATS else None
    if dialect is not None:
        parts["encoding"] = _IANA_ENCODINGS.get(dialect.encoding, dialect.encoding)
        parts["dialect"] = _flat_dialect(dialect)
        schema = localise_schema(schema, dialect) if schema else None
    if schema:
        parts["schema"] = schema
    return parts


def _file_parts(path: Path) -> dict[str, Any]:
    return {"bytes": path.stat().st_size, "hash": "sha256:" + resource_check.sha256(path)}


def _described(resource: dict[str, Any], name: str, path: Path | None,
               dataset_type: str) -> dict[str, Any]:
    fmt = _format(resource)
    described: dict[str, Any] = {"name": name, "path": resource.get("url")}
    for key, value in (("title", resource.get("name")),
                       ("description", resource.get("description")),
                       ("format", fmt), ("mediatype", _media_type(resource))):
        if value:
            described[key] = value
    if path is not None:
        described.update(_file_parts(path))
    described.update(_table_parts(resource, fmt, path, dataset_type))
    return described


# -- the package -----------------------------------------------------------------

def _licenses(dataset: dict[str, Any]) -> list[dict[str, str]]:
    license_id = dataset.get("license_id")
    if not license_id or license_id == "notspecified":
        return []
    found = {"name": license_id, "path": dataset.get("license_url"),
             "title": dataset.get("license_title")}
    return [{key: value for key, value in found.items() if value}]


def _head(dataset: dict[str, Any]) -> dict[str, Any]:
    homepage = tk.h.url_for(f"{dataset.get('type') or 'dataset'}.read", id=dataset["name"],
                            qualified=True)
    head: dict[str, Any] = {"$schema": PROFILE, "name": dataset["name"]}
    for key, value in (("title", dataset.get("title")), ("description", dataset.get("notes")),
                       ("licenses", _licenses(dataset)), ("homepage", homepage)):
        if value:
            head[key] = value
    return head


def build(dataset: dict[str, Any]) -> Package:
    """The package of a dataset the caller may read (``readable_dataset``)."""
    package = Package({**_head(dataset), "resources": []})
    taken: set[str] = set()
    for resource in dataset.get("resources") or []:
        upload = resource.get("url_type") == "upload"
        path = resource_files.upload_path(resource) if upload else None
        if (upload and path is None) or not resource.get("url") or not _may_read(resource):
            continue  # a file missing in the storage cannot be described
        name = resource_name(resource, taken)
        described = _described(resource, name, path, dataset.get("type") or "dataset")
        if path is not None:
            inside = f"{FOLDER}/{name}.{_extension(resource, _format(resource))}"
            package.files[inside], package.urls[inside] = path, described["path"]
            described["path"] = inside
        package.descriptor["resources"].append(described)
    return package


# -- the answers -----------------------------------------------------------------

def _json(descriptor: dict[str, Any]) -> str:
    """Escaped for any context it may be pasted into: no raw <, >, &."""
    text = json.dumps(descriptor, ensure_ascii=False, indent=2)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def descriptor_view(id: str) -> Any:
    package = build(readable_dataset(id))
    response = flask.Response(_json(package.with_urls()), mimetype="application/json")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _write_zip(handle: IO[bytes], package: Package) -> None:
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DESCRIPTOR, _json(package.descriptor))
        for inside, path in package.files.items():
            archive.write(path, inside)  # in chunks, not read whole
    handle.seek(0)


def zip_view(id: str) -> Any:
    dataset = readable_dataset(id)
    package = build(dataset)
    # on disk, not in memory: the files may be large; send_file closes it
    # after the answer (an unnamed temporary file is then gone)
    handle = tempfile.TemporaryFile(prefix="vts-datapackage-")  # noqa: SIM115
    try:
        _write_zip(handle, package)
    except BaseException:
        handle.close()
        raise
    return flask.send_file(handle, mimetype="application/zip", as_attachment=True,
                           download_name=f"{dataset['name']}.zip")


def get_blueprints() -> list[Blueprint]:
    blueprint = Blueprint("vernetztestadt_datapackage", __name__)
    blueprint.add_url_rule("/dataset/<id>/datapackage.json", "descriptor", descriptor_view)
    blueprint.add_url_rule("/dataset/<id>/datapackage.zip", "zip", zip_view)
    return [blueprint]
