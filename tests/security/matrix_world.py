"""The world of the permission matrix (``test_permission_matrix``), built once.

Owns: the organisation "stadt" with a member, an editor and an admin, an
outsider, a sysadmin and anonymous; the targets — a public dataset (valid
upload, with a held-back replacement staged), a private, a draft and a
deleted dataset (each with an upload that fails validation), and a private
harvest source with a job, a job error and a harvest object — each carrying
unique marker strings in its name, title, tag, ids, resource name, file name
and file cells; who may read and write each target (CKAN 2.12's defaults,
narrowed for a harvest source's config, job errors and objects); and a
check that a write cell left its target as it was.

Must not touch: product code, or the database of other test modules (it
resets the database itself, once, and the next module's ``clean_db`` does
again).
"""
from __future__ import annotations

import io
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers
from ckanext.harvest.model import HarvestGatherError, HarvestJob, HarvestObject, HarvestSource
from werkzeug.datastructures import FileStorage

from ckanext.vernetztestadt.validation import gate, resource_check

ACTORS = ("anonymous", "outsider", "member", "editor", "admin", "sysadmin")
EVERYONE = frozenset(ACTORS)
ORG_READERS = frozenset({"member", "editor", "admin", "sysadmin"})
ORG_WRITERS = frozenset({"editor", "admin", "sysadmin"})
ORG_ADMINS = frozenset({"admin", "sysadmin"})
#: the dataset targets, in the order the report lists them
DATASETS = ("public", "private", "draft", "deleted")
HEADER = "id,name,street,postcode,district,latitude,longitude,operator,ssid,source,last_seen"
#: a held-back replacement must be larger than this (validated in the background)
STAGING_LIMIT = 2000


@dataclass
class Target:
    """One thing an actor may or may not read."""

    key: str
    markers: dict[str, str]
    readers: frozenset[str]
    writers: frozenset[str]
    dataset: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)
    #: further ids the surfaces address (views, activities, jobs, objects)
    ids: dict[str, str] = field(default_factory=dict)
    #: marker kinds with narrower readers than the target's
    narrower: dict[str, frozenset[str]] = field(default_factory=dict)

    def readers_of(self, kind: str) -> frozenset[str]:
        return self.narrower.get(kind, self.readers)

    @property
    def id(self) -> str:
        return self.dataset["id"]

    @property
    def rid(self) -> str:
        return self.resource["id"]

    @property
    def filename(self) -> str:
        return self.resource["url"].rsplit("/", 1)[-1]


@dataclass
class World:
    org: dict[str, Any]
    users: dict[str, dict[str, Any]]
    headers: dict[str, dict[str, str]]
    targets: dict[str, Target]
    notes: list[str] = field(default_factory=list)

    def may(self, actor: str, right: str, target: Target | None) -> bool:
        if right in ("all", "none"):
            return right == "all"
        if right == "logged_in":
            return actor != "anonymous"
        if right == "sysadmin":
            return actor == "sysadmin"
        assert target is not None, right
        return actor in {"read": target.readers, "write": target.writers,
                         "org_admin": ORG_ADMINS}[right]

    def secrets_for(self, actor: str) -> dict[str, str]:
        """Marker -> "target.kind" of everything this actor may not read."""
        return {marker: f"{t.key}.{kind}" for t in self.targets.values()
                for kind, marker in t.markers.items() if actor not in t.readers_of(kind)}

    def state(self, key: str) -> tuple[Any, ...]:
        """What a write cell must leave unchanged."""
        target = self.targets[key]
        if key == "harvest":
            package, source = model.Package.get(target.id), HarvestSource.get(target.id)
            return (package.private, package.state,
                    json.loads(source.config or "{}").get("allowed_hosts"))
        model.Session.remove()
        package = model.Package.get(target.id)
        resource = model.Resource.get(target.rid)
        return package.private, package.state, resource.url, resource.state, resource.url_type

    def restore(self, key: str, before: tuple[Any, ...]) -> None:
        """Put a target back as it was after a write cell changed it, so one
        finding does not turn every later cell red."""
        package = model.Package.get(self.targets[key].id)
        package.private, package.state = before[0], before[1]
        if key != "harvest":
            resource = model.Resource.get(self.targets[key].rid)
            resource.url, resource.state, resource.url_type = before[2:5]
        model.repo.commit()


def markers(key: str, token: str) -> dict[str, str]:
    """Unique strings a response must not carry unless its reader may read ``key``."""
    secret = key != "public"
    word = "Geheim" if secret else "Offen"
    found = {"name": f"{word.lower()}name-{key}-{token}", "title": f"{word}Titel-{key}-{token}",
             "tag": f"{word.lower()}tag-{key}-{token}",
             "resource": f"{word}Ressource-{key}-{token}",
             "cell": f"{word.upper()}-{key}-{token}", "file": f"datei-{key}-{token}"}
    if secret:  # the value of the cell that fails validation
        found["error"] = f"FEHLWERT-{key}-{token}"
    return found


def table(cell: str, error: str | None = None, rows: int = 3) -> bytes:
    """A hotspot table (schemas/tables/hotspots.json) whose ``name`` column
    carries ``cell``; with ``error`` the last row's latitude is that text."""
    lines = [HEADER]
    for i in range(1, rows + 1):
        latitude = error if error and i == rows else f"51.{5078 + i}"
        lines.append(f"ge-{i:04d},{cell},Bahnhofstraße,45879,Altstadt,{latitude},"
                     f"7.{966 + i},Stadtwerke,FreeWiFi-GE,stadt,2025-06-30")
    return ("\n".join(lines) + "\n").encode("utf-8")


def upload(context: dict[str, Any], data: bytes, filename: str, **resource: Any) -> dict:
    return helpers.call_action(
        resource.pop("action", "resource_create"), context=dict(context),
        upload=FileStorage(io.BytesIO(data), filename=filename), url=filename,
        format="CSV", table_schema="hotspots", **resource)


def _site_user() -> str:
    return helpers.call_action("get_site_user", context={"ignore_auth": True})["name"]


def _dataset(org: dict, m: dict[str, str], editor: dict, data: bytes, **extra: Any) -> tuple:
    context = {"user": editor["name"]}
    dataset = helpers.call_action(
        "package_create", context=dict(context), name=m["name"], title=m["title"],
        notes=f"Beschreibung {m['title']}", owner_org=org["id"],
        tags=[{"name": m["tag"]}], **{"private": True, **extra})
    resource = upload(context, data, f"{m['file']}.csv", package_id=dataset["id"],
                      name=m["resource"])
    return dataset, resource


def _views(target: Target) -> None:
    """A chart and a map of the private table (series and labels: the cell marker)."""
    for view_type, key, config in (
            ("vernetztestadt_chart", "chart", {"x": "latitude", "y": "longitude",
                                               "series": "name"}),
            ("vernetztestadt_map", "map", {"label": "name"})):
        view = helpers.call_action("resource_view_create", context={"ignore_auth": True,
                                                                    "user": _site_user()},
                                   resource_id=target.rid, view_type=view_type,
                                   title=f"Ansicht {key}", **{key: json.dumps(config)})
        target.ids[f"{key}_view"] = view["id"]


def _stage(public: Target, editor: dict) -> Target:
    """A large replacement upload for the public resource: held back, staged."""
    m = {"cell": public.markers["cell"].replace("OFFEN-public", "GEHEIM-staged")}
    staged = Target("staged", m, ORG_READERS, ORG_WRITERS, public.dataset, public.resource)
    data = table(m["cell"], rows=40)
    assert len(data) > STAGING_LIMIT
    key = resource_check.PREFIX + "sync_max_bytes"
    before = tk.config.get(key)
    tk.config[key] = str(STAGING_LIMIT)
    try:
        upload({"user": editor["name"]}, data, "ersatz.csv", action="resource_update",
               id=public.rid, name=public.markers["resource"])
    finally:
        if before is None:
            tk.config.pop(key, None)
        else:
            tk.config[key] = before
    return staged


def _harvest(org: dict, token: str, job_error: str) -> Target:
    m = {"name": f"geheimquelle-{token}", "title": f"GeheimQuelle-{token}",
         "config": f"GeheimKonfig-{token}", "object": f"GeheimObjekt-{token}",
         "job_error": job_error}
    config = {"dataset_type": "smart_city_ranking", "ranking": "haselhorst",
              "title_note": m["config"]}
    source = helpers.call_action(
        "harvest_source_create", context={"ignore_auth": True, "user": _site_user()},
        name=m["name"], title=m["title"], url="http://127.0.0.1:9/geheim/ranking.csv",
        source_type="vernetztestadt_ranking", owner_org=org["id"], frequency="MANUAL",
        private=True, config=json.dumps(config))
    # a source's config, its jobs' errors and harvested objects: for those who
    # may update the source (upstream/harvest.py), its title for all members
    target = Target("harvest", m, ORG_READERS, ORG_WRITERS, source, narrower=dict.fromkeys(
        ("config", "object", "job_error"), ORG_WRITERS))
    m["id"] = source["id"]
    job_id = helpers.call_action("harvest_job_create", context={"user": _site_user()},
                                 source_id=source["id"], run=False)["id"]
    job = HarvestJob.get(job_id)
    job.status = "Finished"
    job.save()
    HarvestGatherError(job=job, message=f"Spalten der Quelle: {job_error}").save()
    obj = HarvestObject(guid=f"guid-{token}", job=job, source=job.source, current=True,
                        content=json.dumps({"title": m["object"]}))
    obj.save()
    target.ids.update(job_id=job_id, object_id=obj.id)
    return target


def _activities(targets: dict[str, Target], sysadmin: dict) -> None:
    """The newest activity of each dataset (a sysadmin sees private ones)."""
    for target in targets.values():
        if target.key in DATASETS:
            found = helpers.call_action("package_activity_list",
                                        context={"user": sysadmin["name"]}, id=target.id,
                                        activity_types=["new package", "changed package",
                                                        "deleted package"])
            target.ids["activity_id"] = found[0]["id"]


def build(token: str | None = None) -> World:
    token = token or uuid.uuid4().hex[:10]
    users = {"outsider": factories.User(), "member": factories.User(),
             "editor": factories.User(), "admin": factories.User(),
             "sysadmin": factories.Sysadmin()}
    org = factories.Organization(name="stadt", title="Stadt", users=[
        {"name": users[role]["name"], "capacity": role} for role in ("member", "editor", "admin")])
    editor = users["editor"]
    targets: dict[str, Target] = {}
    for key in DATASETS:
        m = markers(key, token)
        target = Target(key, m, EVERYONE if key == "public" else ORG_READERS, ORG_WRITERS)
        if key == "public":
            target.dataset, target.resource = _dataset(org, m, editor, table(m["cell"]),
                                                       private=False)
        elif key == "draft":
            target.dataset, target.resource = _dataset(org, m, editor,
                                                       table(m["cell"], m["error"]),
                                                       private=False, state="draft")
        else:
            target.dataset, target.resource = _dataset(org, m, editor,
                                                       table(m["cell"], m["error"]))
        # ids are markers too: a listing must not name what it may not show
        target.markers.update(id=target.id, rid=target.rid)
        targets[key] = target
    # deleted: was public (the gate skipped, as harvesters may), then deleted
    skip = {"user": editor["name"], gate.SKIP_GATE: True}
    helpers.call_action("package_patch", context=skip, id=targets["deleted"].id, private=False)
    helpers.call_action("package_delete", context={"user": editor["name"]},
                        id=targets["deleted"].id)
    _views(targets["private"])
    world = World(org, users, {}, targets)
    try:
        targets["staged"] = _stage(targets["public"], editor)
    except Exception as error:  # reported by the staged cells
        world.notes.append(f"no staged replacement: {error!r}")
    targets["harvest"] = _harvest(org, token, f"GeheimJobfehler-{token}")
    _activities(targets, users["sysadmin"])
    for key, target in targets.items():
        if key in DATASETS:
            target.dataset = helpers.call_action("package_show", context={"ignore_auth": True},
                                                 id=target.id)
            target.resource = next(r for r in target.dataset["resources"]
                                   if r["id"] == target.rid)
    world.headers = {"anonymous": {}, **{
        actor: {"Authorization": factories.APIToken(user=user["name"])["token"]}
        for actor, user in users.items()}}
    return world
