"""Publishing harvested items as CKAN datasets, and withdrawing vanished ones.

Owns: the dataset name of an item (the source's ``name_pattern`` applied to
the item's guid), finding the dataset an item was published as (by the
source's current harvest object, else by name and provenance), which names a
source may use (its own datasets, and those of the source it ``replaces``
when that source and the dataset are in its organisation: it takes them over,
id and URL kept; a source replaced so skips them), the "not modified"
decision (the item's checksum and name against the dataset), writing the
item's tables as CSV (and JSON) uploads through ``package_create`` (its
files stored by ``create_uploads``) / ``package_update`` — and so through
the publication gate in strict mode: a
table that fails validation is refused and nothing changes —, the
provenance stored on the dataset (source, URLs, fetched at, checksum,
harvester version, change summary; the only writer of ``harvest_provenance``:
its writes carry ``validators.HARVEST_WRITE``, any other write keeps the stored
value), the chart and map views of the tables, and
withdrawing an item that vanished upstream (marked outdated, or deleted).

Must not touch: fetching or parsing sources, or how files are validated.
"""
from __future__ import annotations

import csv
import datetime
import functools
import io
import json
import secrets
import uuid
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from ckanext.harvest.model import HarvestObject

from .. import table_schemas
from ..validation import gate as validation_gate
from ..validators import HARVEST_WRITE
from . import config as source_config
from .items import Changes, Item, Table

PROVENANCE = "harvest_provenance"
OUTDATED = "outdated"
CHART_VIEW = "vernetztestadt_chart"
MAP_VIEW = "vernetztestadt_map"


@dataclass(frozen=True)
class Target:
    """Where and how a source publishes."""

    source_id: str
    source_title: str
    source_url: str
    harvester: str
    owner_org: str
    dataset_type: str
    private: bool
    defaults: dict[str, Any]
    #: appended to every title in parentheses (e.g. marking demo data)
    title_note: str | None = None
    #: what happens to a dataset that vanished upstream (``outdated``/``delete``)
    withdraw: str = "outdated"
    #: the source's name, ``{source}`` in ``name_pattern``
    source_name: str = ""
    name_pattern: str = source_config.DEFAULT_NAME_PATTERN
    #: the id of the source of the same organisation this one replaces
    replaces_id: str | None = None

    def dataset_name(self, guid: str) -> str:
        """ValueError (German) when the pattern makes no valid name of ``guid``."""
        return source_config.dataset_name(self.name_pattern, guid, self.source_name)


@functools.cache  # read from the installed metadata: once per process
def harvester_version() -> str:
    return f"ckanext-vernetztestadt {version('ckanext-vernetztestadt')}"


def harvest_user() -> str:
    """The sysadmin harvests act as: ckanext-harvest's ``ckanext.harvest.user_name``
    (default ``harvest``), created on first use. Not the site user: CKAN hides
    the site user's activities, and a dataset's activity must show each
    harvest's changes."""
    name = tk.config.get("ckanext.harvest.user_name") or "harvest"
    if model.User.get(name) is None:
        user = model.User(name=name, fullname="Harvester", sysadmin=True,
                          password=secrets.token_urlsafe(24), email=f"{name}@example.invalid")
        model.Session.add(user)
        model.Session.commit()
    return name


def site_context(**extra: Any) -> dict[str, Any]:
    return {"user": harvest_user(), "ignore_auth": True, **extra}


# -- finding ------------------------------------------------------------------
def current_object(source_id: str, guid: str) -> HarvestObject | None:
    """The object whose import made the published version of ``guid``."""
    return (model.Session.query(HarvestObject)
            .filter(HarvestObject.harvest_source_id == source_id,
                    HarvestObject.guid == guid, HarvestObject.current.is_(True))
            .order_by(HarvestObject.import_finished.desc().nullslast()).first())


def find_package(target: Target, guid: str) -> model.Package | None:
    """The dataset of ``guid``: via its current object (so also after the
    pattern changed), else by name — a run killed between publishing and
    bookkeeping must not publish twice, and the replaced source's dataset is
    taken over."""
    obj = current_object(target.source_id, guid)
    if obj is not None and obj.package_id:
        package = model.Package.get(obj.package_id)
        if package is not None:
            return package
    try:
        name = target.dataset_name(guid)
    except ValueError:  # a vanished guid under a new pattern: no dataset has that name
        return None
    package = model.Package.get(name)
    if package is not None and (_from_source(package, target.source_id)
                                or may_take_over(package, target)):
        return package
    return None


def _from_source(package: model.Package, source_id: str) -> bool:
    return provenance_of(package).get("source_id") == source_id


def may_take_over(package: model.Package, target: Target) -> bool:
    """A dataset of the source ``target`` replaces, in ``target``'s
    organisation: a source's editor may take nothing from another one."""
    return (target.replaces_id is not None and package.owner_org == target.owner_org
            and _from_source(package, target.replaces_id))


def packages_named(names: list[str]) -> dict[str, model.Package]:
    """The datasets of these names, in one query (a source's whole list)."""
    found: dict[str, model.Package] = {}
    for start in range(0, len(names), 1000):  # bounded statements
        chunk = names[start:start + 1000]
        found.update((p.name, p) for p in model.Session.query(model.Package)
                     .filter(model.Package.name.in_(chunk)))
    return found


def name_taken(package: model.Package | None, target: Target) -> bool:
    """``package`` (of the name an item would get) is a dataset ``target``
    may neither update nor take over."""
    return (package is not None and not _from_source(package, target.source_id)
            and not may_take_over(package, target))


def taken_over(package: model.Package | None, source_id: str) -> bool:
    """``package`` is the dataset of a source that replaces ``source_id`` (only
    written after the organisation check): the replaced source leaves it alone."""
    return package is not None and provenance_of(package).get("replaces") == source_id


def provenance_of(package: model.Package) -> dict[str, Any]:
    try:
        return json.loads(package.extras.get(PROVENANCE) or "{}")
    except ValueError:
        return {}


def is_current(package: model.Package | None, item: Item, target: Target) -> bool:
    """Published exactly as ``item`` by ``target``'s source under the name its
    pattern gives, active and not marked outdated."""
    if package is None or package.state != "active":
        return False
    provenance = provenance_of(package)
    return (provenance.get("checksum") == item.checksum()
            and provenance.get("status") != OUTDATED
            and provenance.get("source_id") == target.source_id
            and package.name == target.dataset_name(item.guid))


def is_withdrawn(package: model.Package | None) -> bool:
    return (package is None or package.state == "deleted"
            or provenance_of(package).get("status") == OUTDATED)


def published_item(package: model.Package) -> Item | None:
    """The item as last published (the content of the dataset's current
    object, also when the replaced source published it)."""
    obj = (model.Session.query(HarvestObject)
           .filter(HarvestObject.package_id == package.id, HarvestObject.current.is_(True))
           .order_by(HarvestObject.import_finished.desc().nullslast()).first())
    if obj is None or not obj.content:
        return None
    return Item.from_data(json.loads(obj.content))


# -- files ------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if not value.is_integer() else f"{value:.1f}"
    return str(value)


def _fields(table: Table) -> list[str]:
    return [f["name"] for f in table_schemas.bundled()[table.schema]["fields"]]


def csv_bytes(table: Table) -> bytes:
    """UTF-8, comma, decimal point: the schema's fields in its order."""
    fields = _fields(table)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(fields)
    for row in table.rows:
        writer.writerow([_cell(row.get(name)) for name in fields])
    return out.getvalue().encode("utf-8")


def json_bytes(table: Table) -> bytes:
    """An array of objects, keys in the schema's order (what a table reader
    takes as the header)."""
    fields = _fields(table)
    rows = [{name: row.get(name) for name in fields} for row in table.rows]
    return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")


def geojson_bytes(table: Table) -> bytes:
    """The rows as a FeatureCollection of points (WGS84, lon/lat)."""
    fields = [name for name in _fields(table) if name not in ("latitude", "longitude")]
    features = [{"type": "Feature",
                 "geometry": {"type": "Point",
                              "coordinates": [row["longitude"], row["latitude"]]},
                 "properties": {name: row.get(name) for name in fields}}
                for row in table.rows]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False).encode("utf-8")


def _file_name(resource: dict[str, Any]) -> str:
    return (resource.get("url") or "").rsplit("/", 1)[-1]


def _resources(item: Item, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The item's files as uploads; a file keeps its resource (and views)."""
    ids = {_file_name(r): r["id"] for r in existing}
    resources = []
    for table in item.tables:
        files = [(f"{table.key}.csv", "CSV", csv_bytes(table), table.name)]
        if table.with_json:
            files.append((f"{table.key}.json", "JSON", json_bytes(table),
                          f"{table.name} (JSON)"))
        if table.with_geojson:
            files.append((f"{table.key}.geojson", "GeoJSON", geojson_bytes(table),
                          f"{table.name} (GeoJSON)"))
        for filename, fmt, data, name in files:
            resource = {"name": name, "description": table.description, "format": fmt,
                        "url": filename, "url_type": "upload",
                        "upload": FileStorage(io.BytesIO(data), filename=filename)}
            if fmt == "CSV":
                resource.update(table_schema=table.schema, encoding="utf-8",
                                csv_delimiter=",", csv_decimal_char=".")
            if filename in ids:
                resource["id"] = ids[filename]
            resources.append(resource)
    return resources


# -- writing --------------------------------------------------------------------
def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def provenance(item: Item, target: Target, changes: Changes, job_id: str) -> dict[str, Any]:
    return {"source_id": target.source_id, "source_title": target.source_title,
            "source_url": target.source_url, "documents": item.documents,
            "guid": item.guid, "harvester": target.harvester,
            "harvester_version": harvester_version(), "job_id": job_id,
            "fetched_at": _now(), "checksum": item.checksum(), "status": "current",
            "changes": changes.as_dict(),
            **({"replaces": target.replaces_id} if target.replaces_id else {})}


def _link(obj: HarvestObject, package_id: str) -> None:
    """Make ``obj`` the current object of the dataset, in the transaction that
    publishes it (committed by CKAN's action, rolled back with it)."""
    (model.Session.query(HarvestObject)
     .filter(HarvestObject.package_id == package_id, HarvestObject.id != obj.id)
     .update({"current": False}, synchronize_session=False))
    obj.package_id = package_id
    obj.current = True
    model.Session.add(obj)


def publish(item: Item, target: Target, obj: HarvestObject, changes: Changes,
            package: model.Package | None) -> dict[str, Any]:
    """Create or update the dataset of ``item`` in one transaction; raises
    tk.ValidationError (the gate's German refusal) when a table fails
    validation, and then nothing of it is kept."""
    context = site_context(**{validation_gate.STRICT: True, HARVEST_WRITE: True})
    data = {**target.defaults, **item.dataset, "name": target.dataset_name(item.guid),
            "type": target.dataset_type,
            "owner_org": target.owner_org, "private": target.private,
            PROVENANCE: json.dumps(provenance(item, target, changes, obj.harvest_job_id),
                                   ensure_ascii=False)}
    if target.title_note:
        data["title"] = f"{data.get('title') or item.guid} ({target.title_note})"
    if package is None:
        package_id = str(uuid.uuid4())
        _link(obj, package_id)
        # the dataset row comes later in this transaction, with its files
        # (``create_uploads``); CKAN's commit takes both
        model.Session.execute(sa.text("SET CONSTRAINTS harvest_object_package_id_fkey "
                                      "DEFERRED"))
        model.Session.flush()
        result = tk.get_action("package_create")(context, {
            **data, "id": package_id, "resources": _resources(item, [])})
    else:
        # read once, locked, for both package_update and the gate
        # (``original_package``: neither reads the dataset again)
        original = tk.get_action("package_show")(site_context(for_update=True),
                                                 {"id": package.id})
        context["original_package"] = original
        _link(obj, package.id)
        result = tk.get_action("package_update")(context, {
            **data, "id": package.id, "state": "active",
            "resources": _resources(item, original["resources"])})
    ensure_views(item, result)
    return result


def _views(table: Table) -> list[tuple[str, dict[str, Any]]]:
    found = []
    if table.chart:
        found.append((CHART_VIEW, {"title": table.chart.get("title") or table.name,
                                   "chart": json.dumps(table.chart, ensure_ascii=False,
                                                       sort_keys=True)}))
    if table.map:
        found.append((MAP_VIEW, {"title": table.map.get("title") or table.name,
                                 "map": json.dumps(table.map, ensure_ascii=False,
                                                   sort_keys=True)}))
    return found


def ensure_views(item: Item, dataset: dict[str, Any]) -> None:
    """The chart and map views the item's tables declare (created once, kept
    up to date); they belong to the CSV resource of the table."""
    by_file = {_file_name(r): r for r in dataset.get("resources", [])}
    for table in item.tables:
        resource = by_file.get(f"{table.key}.csv")
        wanted = _views(table)
        if resource is None or not wanted:
            continue
        context = site_context()
        views = tk.get_action("resource_view_list")(dict(context), {"id": resource["id"]})
        for view_type, config in wanted:
            mine = [v for v in views if v["view_type"] == view_type]
            key = "chart" if view_type == CHART_VIEW else "map"
            if not mine:
                tk.get_action("resource_view_create")(dict(context), {
                    "resource_id": resource["id"], "view_type": view_type, **config})
            elif mine[0].get(key) != config[key]:
                tk.get_action("resource_view_update")(dict(context), {**mine[0], **config})


def withdraw(package: model.Package, mode: str, job_id: str) -> None:
    """Mark ``package`` outdated (files stay) or delete it."""
    # no file changes; the outdated mark is provenance
    context = site_context(**{validation_gate.SKIP_GATE: True, HARVEST_WRITE: True})
    if mode == "delete":
        tk.get_action("package_delete")(context, {"id": package.id})
        (model.Session.query(HarvestObject).filter(HarvestObject.package_id == package.id)
         .update({"current": False}, synchronize_session=False))
        model.Session.commit()
        return
    stamp = {**provenance_of(package), "status": OUTDATED, "withdrawn_at": _now(),
             "job_id": job_id}
    tk.get_action("package_patch")(context, {
        "id": package.id, PROVENANCE: json.dumps(stamp, ensure_ascii=False)})
