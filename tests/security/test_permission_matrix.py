"""Permission matrix (issue 12): every action, page and API field the portal
adds or changes, and the upstream ones it deploys, called by six actors
(anonymous, outsider, member, editor, admin, sysadmin) on public, private,
draft and deleted datasets, a held-back replacement and a private harvest
source. No response or error may carry a marker of something its caller may
not read, nor a server path; whoever may read a target does find its markers
there (so the matrix can see a leak at all); writes are refused to those who
may not write before any work is done, and leave their target as it was.

One table, ``SURFACES``, in sections: a test per section runs every cell
(actor by target) of its surfaces and lists each failing cell with the start
of its answer. The world (``matrix_world``) is built once for the module.
"""
from __future__ import annotations

import contextlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ckan.plugins as plugins
import ckan.plugins.toolkit as tk
import matrix_world as mw
import pytest
from ckan.tests import helpers

SECRET_DATASETS = ("private", "draft", "deleted")
DENIED = (403, 404)
#: anonymous callers of some pages are sent to the login form instead
LOGIN = re.compile(r"/user/(_/)?login")
#: an inline Table Schema whose one field (every line, with delimiter ¤) matches nothing
NOTHING = json.dumps({"fields": [{"name": mw.HEADER, "type": "string",
                                  "constraints": {"enum": ["nichts"]}}]})


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Surface:
    """One action or page.

    ``who``: which actors get ``ok`` (``all``, ``none``, ``logged_in``, ``read``,
    ``write``, ``org_admin``, ``sysadmin``; ``read``/``write`` of the target);
    the others must get 403/404 (or the login form). ``shows``: marker kinds
    that a permitted actor who may read the target must find (any of them).
    ``reveals``: for a surface without targets, which targets' markers.
    ``only_denied``: writes that would change the world run only for those
    who may not make them. ``denied``: the answers a refused actor may get.
    ``exempt``: targets whose markers may show here by design.
    """

    name: str
    call: Call
    targets: tuple[str, ...] = mw.DATASETS
    who: str = "read"
    shows: tuple[str, ...] = ("title",)
    ok: tuple[int, ...] = (200,)
    reveals: tuple[str, ...] = ()
    only_denied: bool = False
    denied: tuple[int, ...] = DENIED
    exempt: tuple[str, ...] = ()

    @property
    def writes(self) -> bool:
        return self.call.method == "POST" and self.who not in ("all", "read")


def page(path: str) -> Call:
    return Call("GET", path)


def action(name: str, /, **body: Any) -> Call:
    return Call("POST", f"/api/3/action/{name}", body)


write = action  # an action that changes something


S = Surface
GLOBAL: tuple[str, ...] = ("",)
SURFACES: dict[str, list[Surface]] = {"datasets through the API": [
    S("package_show", action("package_show", id="{id}")),
    S("resource_show", action("resource_show", id="{rid}"), shows=("resource",)),
    S("resource_validation_show", action("resource_validation_show", resource_id="{rid}"),
      shows=("error",)),
    S("resource_validation_show (staged)", action("resource_validation_show",
                                                   resource_id="{rid}"),
      targets=("staged",), who="all", shows=()),
    S("package_activity_list", action("package_activity_list", id="{id}")),
    # CKAN's activity auth reads data_dict["include_data"] before defaulting it
    S("activity_show", action("activity_show", id="{activity_id}")),
    S("resource_view_list", action("resource_view_list", id="{rid}"), targets=("private",),
      shows=()),
    S("resource_view_show (chart)", action("resource_view_show", id="{chart_view}"),
      targets=("private",), shows=()),
    S("package_search q=title, private+drafts", action(
        "package_search", q="{title}", include_private=True, include_drafts=True),
      targets=("public", "private", "draft"), who="all"),
    S("package_search q=title, +deleted", action(
        "package_search", q="{title}", include_private=True, include_drafts=True,
        include_deleted=True), targets=("deleted",), who="all", shows=()),
    S("package_search fq=tags", action("package_search", fq="tags:{tag}",
                                       include_private=True, include_drafts=True),
      targets=("public", "private", "draft"), who="all"),
    # metadata quality: the dataset's editors only
    S("metadata_quality_show", action("metadata_quality_show", id="{id}"), who="write",
      shows=("id",)),
], "dataset pages": [
    S("dataset page", page("/dataset/{id}")),
    S("dataset page draws chart and map", page("/dataset/{id}"), targets=("private",),
      shows=("cell",)),
    S("resource page", page("/dataset/{id}/resource/{rid}"), shows=("resource",)),
    S("download", page("/dataset/{id}/resource/{rid}/download/{file}"), shows=("cell",)),
    S("download (staged replacement held back)",
      page("/dataset/{id}/resource/{rid}/download/{file}"), targets=("staged",), who="all",
      shows=()),
    S("validation report page", page("/dataset/{id}/resource/{rid}/validation"),
      shows=("error", "resource")),
    S("validation report page (staged)", page("/dataset/{id}/resource/{rid}/validation"),
      targets=("staged",), who="all", shows=()),
    S("chart view page", page("/dataset/{id}/resource/{rid}/view/{chart_view}"),
      targets=("private",), shows=("cell",)),
    S("map view page", page("/dataset/{id}/resource/{rid}/view/{map_view}"),
      targets=("private",), shows=("cell",)),
    S("DCAT dataset .ttl", page("/dataset/{id}.ttl")),
    S("DCAT dataset .rdf", page("/dataset/{id}.rdf")),
    S("DCAT dataset .jsonld", page("/dataset/{id}.jsonld")),
    S("activity page", page("/dataset/activity/{id}")),
    # past versions: editors only (ckan.auth.public_activity_stream_detail = false)
    S("changes page", page("/dataset/changes/{activity_id}"), who="write"),
    S("history page", page("/dataset/{id}/history/{activity_id}"), who="write"),
    S("edit page", page("/dataset/edit/{id}"), who="write"),
    S("resource edit page", page("/dataset/{id}/resource/{rid}/edit"), who="write",
      shows=("resource",)),
    S("resources page", page("/dataset/resources/{id}"), who="write", shows=("resource",)),
    S("tag feed", page("/feeds/tag/{tag}.atom"), who="all", shows=()),
    S("HTML search by title", page("/dataset/?q={title}"), targets=("public", "private"),
      who="all"),
    S("HTML search by tag", page("/dataset/?tags={tag}"), who="all", shows=()),
    # another dataset's resource under a dataset the caller may read
    S("download via the public dataset's URL",
      page("/dataset/{public}/resource/{rid}/download/{file}"), targets=SECRET_DATASETS,
      shows=(), ok=(200, 404)),
    S("report page via the public dataset's URL",
      page("/dataset/{public}/resource/{rid}/validation"), targets=SECRET_DATASETS,
      shows=(), ok=(200, 404)),
    S("view page via the public dataset's URL",
      page("/dataset/{public}/resource/{rid}/view/{map_view}"), targets=("private",),
      shows=(), ok=(200, 404)),
], "writes": [
    # finding 1: permission before validation; finding 2: no foreign files
    # package_update itself (package_patch checks its own auth before calling it)
    S("package_update private=false", write("package_update", id="{id}", private=False),
      targets=("private",), who="write", only_denied=True),
    S("package_update state=active", write("package_update", id="{id}", state="active"),
      targets=("draft", "deleted"), who="write", only_denied=True),
    S("package_revise private=false", write("package_revise", match={"id": "{id}"},
                                            update={"private": False}),
      targets=("private",), who="write", only_denied=True),
    S("package_patch private=false", write("package_patch", id="{id}", private=False),
      targets=("private",), who="write", ok=(409,), shows=("error",)),
    S("package_patch state=active", write("package_patch", id="{id}", state="active"),
      targets=("draft", "deleted"), who="write", ok=(409,), shows=("error",)),
    S("bulk_update_public", write("bulk_update_public", datasets=["{id}"], org_id="{org}"),
      targets=SECRET_DATASETS, who="org_admin", ok=(409,), shows=("error",)),
    S("resource_patch", write("resource_patch", id="{rid}", description="geändert"),
      targets=SECRET_DATASETS, who="write", shows=()),
    S("resource_create (URL)", write("resource_create", package_id="{id}", name="neu",
                                     url="http://127.0.0.1:9/neu.csv", format="CSV"),
      who="write", only_denied=True),
    S("package_create naming the target's resource id", write(
        "package_create", name="fremd", owner_org="{org}", resources=[{
            "id": "{rid}", "url_type": "upload", "url": "f.csv", "csv_delimiter": "¤",
            "format": "CSV", "table_schema": NOTHING}]),
      targets=SECRET_DATASETS, who="write", only_denied=True),
    S("package_create with a URL to fetch", write(
        "package_create", name="neu", owner_org="{org}", resources=[{
            "url": "http://127.0.0.1:9/neu.csv", "format": "CSV", "name": "neu"}]),
      ("public",), "write", only_denied=True),
    S("resource_validation_run", write("resource_validation_run", resource_id="{rid}",
                                       **{"async": False}),
      targets=SECRET_DATASETS, who="write", shows=()),
    S("resource_validation_delete", write("resource_validation_delete", resource_id="{rid}"),
      who="write", only_denied=True),
], "listings": [
    # no targets: nothing unreadable may show
    S("package_search", action("package_search"), GLOBAL, "all", reveals=("public",)),
    S("package_search private+drafts+deleted, facets", action(
        "package_search", include_private=True, include_drafts=True, include_deleted=True,
        rows=1000, **{"facet.field": json.dumps(["tags", "validation_status", "res_format",
                                                 "organization", "res_name",
                                                 "vernetztestadt_quality"])}),
      GLOBAL, "all", shows=("title", "tag"), reveals=("public", "private", "draft")),
    S("package_search fq=validation_status:failure", action(
        "package_search", fq="validation_status:failure", include_private=True,
        include_drafts=True), GLOBAL, "all", reveals=("private", "draft")),
    S("HTML search", page("/dataset/"), GLOBAL, "all", reveals=("public", "private")),
    S("HTML search, facet validation_status", page("/dataset/?validation_status=failure"),
      GLOBAL, "all", reveals=("private",)),
    S("organization page", page("/organization/stadt"), GLOBAL, "all",
      reveals=("public", "private")),
    # the organization's stewards (the private dataset's writers) only
    S("organization metadata quality page", page("/organization/stadt/metadatenqualitaet"),
      ("private",), "write", reveals=("public", "private")),
    S("metadata_quality_organization_list", action("metadata_quality_organization_list",
                                                   id="stadt"),
      ("private",), "write", reveals=("public", "private")),
    # CKAN lists a *group's* datasets here (fq groups:…): an organization's
    # are none, so the cell asserts only that nothing leaks and nothing breaks
    S("group_package_show", action("group_package_show", id="stadt"), GLOBAL, "all",
      reveals=()),
    S("member_list of datasets", action("member_list", id="stadt", object_type="package"),
      GLOBAL, "all", shows=("id",), reveals=("public",)),
    S("organization_show include_datasets", action(
        "organization_show", id="stadt", include_datasets=True), GLOBAL, "all",
      reveals=("public", "private")),
    # CKAN lists no activity of private datasets here; the deleted dataset's
    # history from when it was public stays public (its labels of that time)
    S("organization activity page", page("/organization/activity/stadt"), GLOBAL, "all",
      reveals=("public",), exempt=("deleted",)),
    S("organization_activity_list", action("organization_activity_list", id="stadt"),
      GLOBAL, "all", reveals=("public",), exempt=("deleted",)),
    S("recently_changed_packages_activity_list",
      action("recently_changed_packages_activity_list"), GLOBAL, "all", reveals=("public",),
      exempt=("deleted",)),
    S("dashboard", page("/dashboard/"), GLOBAL, "logged_in", shows=()),
    S("package_list", action("package_list"), GLOBAL, "all", shows=("name",),
      reveals=("public",)),
    S("current_package_list_with_resources", action("current_package_list_with_resources"),
      GLOBAL, "all", reveals=("public",)),
    S("package_autocomplete", action("package_autocomplete", q="{token}"), GLOBAL, "all",
      shows=("name",), reveals=("public",)),
    S("dataset autocomplete (util)", page("/api/2/util/dataset/autocomplete?incomplete={token}"),
      GLOBAL, "all", shows=("name",), reveals=("public",)),
    S("tag_list", action("tag_list"), GLOBAL, "all", shows=("tag",), reveals=("public",)),
    S("tag_autocomplete", action("tag_autocomplete", q="{token}"), GLOBAL, "all",
      shows=("tag",), reveals=("public",)),
    S("tag autocomplete (util)", page("/api/2/util/tag/autocomplete?incomplete={token}"),
      GLOBAL, "all", shows=("tag",), reveals=("public",)),
    S("format_autocomplete", action("format_autocomplete", q="csv"), GLOBAL, "all", shows=()),
    S("DCAT catalog .ttl", page("/catalog.ttl"), GLOBAL, "all", reveals=("public",)),
    S("DCAT catalog .jsonld", page("/catalog.jsonld"), GLOBAL, "all", reveals=("public",)),
    S("dataset feed", page("/feeds/dataset.atom"), GLOBAL, "all", reveals=("public",)),
    S("custom feed", page("/feeds/custom.atom?q={token}"), GLOBAL, "all",
      reveals=("public",)),
    S("organization feed", page("/feeds/organization/stadt.atom"), GLOBAL, "all",
      reveals=("public",)),
], "the private harvest source": [
    # findings 4, 16, 17
    S("harvest_source_list", action("harvest_source_list"), GLOBAL, "all", shows=()),
    S("harvest_log_list", action("harvest_log_list"), GLOBAL, "sysadmin", shows=()),
    S("harvest source search page", page("/harvest/"), GLOBAL, "all", reveals=("harvest",)),
    S("harvest_source_show", action("harvest_source_show", id="{id}"), ("harvest",),
      shows=("config",)),
    S("harvest_source_show_status", action("harvest_source_show_status", id="{id}"),
      ("harvest",), shows=()),
    S("package_show (harvest source)", action("package_show", id="{id}"), ("harvest",)),
    S("harvest source page", page("/harvest/{id}"), ("harvest",)),
    S("harvest about page", page("/harvest/about/{id}"), ("harvest",)),
    S("harvest admin page", page("/harvest/admin/{id}"), ("harvest",), "write"),
    S("harvest job list page", page("/harvest/{id}/job"), ("harvest",), "write", shows=()),
    S("harvest job page", page("/harvest/{id}/job/{job_id}"), ("harvest",), "write",
      shows=("job_error",)),
    S("harvest last job page", page("/harvest/{id}/job/last"), ("harvest",), "write",
      shows=("job_error",)),
    S("harvest_job_list", action("harvest_job_list", source_id="{id}"), ("harvest",),
      "write", shows=()),
    S("harvest_job_show", action("harvest_job_show", id="{job_id}"), ("harvest",), "write",
      shows=()),
    S("harvest object page", page("/harvest/object/{object_id}"), ("harvest",), "write",
      shows=("object",)),
    S("harvest_object_show", action("harvest_object_show", id="{object_id}"), ("harvest",),
      "write", shows=("object",)),
    # state changes answer POST only (finding 17); a GET changes nothing for anyone
    S("harvest refresh (GET)", page("/harvest/refresh/{id}"), ("harvest",), "none",
      denied=(403, 404, 405)),
    S("harvest clear (GET)", page("/harvest/clear/{id}"), ("harvest",), "none",
      denied=(403, 404, 405)),
    S("harvest refresh (POST)", Call("POST", "/harvest/refresh/{id}"), ("harvest",), "write",
      only_denied=True),
    S("harvest clear (POST)", Call("POST", "/harvest/clear/{id}"), ("harvest",), "write",
      only_denied=True),
    S("harvest_source_patch allowed_hosts", write(
        "harvest_source_patch", id="{id}", config=json.dumps({
            "dataset_type": "smart_city_ranking", "ranking": "haselhorst",
            "allowed_hosts": ["127.0.0.1", "169.254.169.254"]})),
      ("harvest",), "sysadmin", only_denied=True, denied=(403, 404, 409)),
]}


# -- the world ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(reset_db, reset_index, migrate_db_for) -> Iterator[mw.World]:
    """Built once: CKAN's ``clean_db`` is per test and would wipe it."""
    plugins.load_all()
    reset_db()
    reset_index()
    for plugin in ("activity", "harvest", "vernetztestadt"):
        migrate_db_for(plugin)
    yield mw.build()
    plugins.unload_all()


@pytest.fixture(scope="module")
def portal(world: mw.World) -> Any:
    """One test client for the module (CKAN's ``app`` is built anew for each
    test, seconds each); ``with_plugins`` still reloads the plugins per test."""
    plugins.load_all()
    return helpers._get_test_app()


@dataclass(frozen=True)
class Answer:
    status: int
    #: the final body and every redirect target on the way
    text: str
    location: str
    #: what the caller sent: markers in it are no leak when echoed
    sent: str


def values(world: mw.World, target: mw.Target | None) -> dict[str, str]:
    found = {"org": world.org["id"], "public": world.targets["public"].id,
             "token": world.targets["public"].markers["name"].rsplit("-", 1)[-1],
             "map_view": world.targets["private"].ids["map_view"]}
    if target is not None:
        found.update(target.markers, **target.ids, id=target.id)
        if target.resource:
            found.update(rid=target.rid, file=target.filename)
    return found


def fill(value: Any, names: dict[str, str]) -> Any:
    """Put ids and markers into ``{name}`` places (JSON text stays as it is)."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: names.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    return value


def request(app: Any, world: mw.World, actor: str, call: Call, target: mw.Target | None,
            ) -> Answer:
    """Call as ``actor``; same-site redirects (id -> name URLs) are followed,
    the login form is not."""
    names = values(world, target)
    path, body = fill(call.path, names), fill(call.body, names)
    headers = world.headers[actor]
    if call.method == "POST":
        response = app.post(path, json=body, headers=headers, follow_redirects=False)
    else:
        response = app.get(path, headers=headers, follow_redirects=False)
    seen = []
    for _hop in range(5):
        location = response.headers.get("Location", "")
        if not 300 <= response.status_code < 400 or LOGIN.search(location):
            break
        seen.append(location)
        response = app.get(location, headers=headers, follow_redirects=False)
    return Answer(response.status_code, "\n".join([*seen, response.get_data(as_text=True)]),
                  response.headers.get("Location", ""), path + json.dumps(body))


def server_paths() -> tuple[str, ...]:
    storage = str(tk.config.get("ckan.storage_path") or "").rstrip("/")
    return tuple(p for p in (storage, ".portal/", "/storage/") if p)


# -- one cell ------------------------------------------------------------------------------
def judge(world: mw.World, surface: Surface, actor: str, target: mw.Target | None,
          answer: Answer) -> list[str]:
    problems = []
    status = answer.status
    permitted = world.may(actor, surface.who, target)
    if status >= 500:
        problems.append(f"HTTP {status}")
    elif permitted and status not in surface.ok:
        problems.append(f"HTTP {status}, expected {surface.ok}")
    elif not permitted and status not in surface.denied and not (
            300 <= status < 400 and LOGIN.search(answer.location)):
        problems.append(f"HTTP {status}, expected {surface.denied}")
    leaked = [kind for marker, kind in world.secrets_for(actor).items()
              if marker in answer.text and marker not in answer.sent
              and kind.split(".")[0] not in surface.exempt and not same_object(kind, target)]
    if leaked:
        problems.append("leaks " + ", ".join(sorted(leaked)))
    if actor != "sysadmin":
        paths = [p for p in server_paths() if p in answer.text]
        if paths:
            problems.append("shows server path " + ", ".join(paths))
    expected = surface.reveals or ((target.key,) if target else ())
    for seen in (world.targets[key] for key in expected):
        kinds = [k for k in surface.shows if k in seen.markers]
        kinds = [k for k in kinds if actor in seen.readers_of(k)]
        if permitted and kinds and 200 <= status < 300 and not any(
                seen.markers[k] in answer.text for k in kinds):
            problems.append(f"does not show {seen.key}.{'/'.join(kinds)} to a reader "
                            "(the matrix could not see a leak here)")
    return problems


def same_object(kind: str, target: mw.Target | None) -> bool:
    """An id of the very target the caller addressed (a refusal naming the
    resource of the view it asked for): no news to the caller."""
    key, _, name = kind.partition(".")
    return target is not None and key == target.key and name in ("id", "rid")


def cells(world: mw.World, surface: Surface) -> Iterator[tuple[str, mw.Target | None]]:
    for key in surface.targets:
        if key and key not in world.targets:
            continue  # reported by the test
        target = world.targets[key] if key else None
        for actor in mw.ACTORS:
            if surface.only_denied and world.may(actor, surface.who, target):
                continue
            yield actor, target


@pytest.mark.parametrize("section", SURFACES)
def test_matrix(portal: Any, world: mw.World, section: str) -> None:
    """One test per section (CKAN reloads all plugins for every test)."""
    failed = [problems for surface in SURFACES[section]
              if (problems := run(portal, world, surface))]
    assert not failed, "\n".join(failed)


def run(portal: Any, world: mw.World, surface: Surface) -> str:
    """Every cell of a surface; the failing ones, one line each."""
    failures = [f"{key}: not in the world ({'; '.join(world.notes)})"
                for key in surface.targets if key and key not in world.targets]
    for actor, target in cells(world, surface):
        before = world.state(target.key) if target and surface.writes else None
        answer = request(portal, world, actor, surface.call, target)
        problems = judge(world, surface, actor, target, answer)
        if before is not None and world.state(target.key) != before:
            problems.append(f"changed the target: {before} -> {world.state(target.key)}")
            world.restore(target.key, before)
        if problems:
            where = f"{actor} x {target.key if target else '-'}"
            failures.append(f"{where}: {'; '.join(problems)} | {excerpt(answer.text)}")
    return f"{surface.name}:\n  " + "\n  ".join(failures) if failures else ""


def excerpt(body: str) -> str:
    """The start of an error message, to tell one cause from another."""
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        error = None
    if error:
        return json.dumps(error, ensure_ascii=False)[:200]
    title = re.search(r"<title>(.*?)</title>", body, re.S)
    return re.sub(r"\s+", " ", title.group(1) if title else body).strip()[:200]


# -- what the table cannot express ---------------------------------------------------------
def as_actor(world: mw.World, actor: str, name: str, **data: Any) -> Any:
    user = world.users.get(actor, {}).get("name", "")
    return helpers.call_action(name, context={"user": user, "ignore_auth": False}, **data)


def test_facet_counts_count_only_readable_datasets(world: mw.World) -> None:
    """Facet counts are the visible results' counts: no private dataset is
    counted for someone who cannot see it (the index stores package_show's
    ``validation_status``)."""
    for actor in mw.ACTORS:
        result = as_actor(world, actor, "package_search", include_private=True,
                          include_drafts=True, rows=1000,
                          **{"facet.field": json.dumps(["validation_status", "tags"])})
        seen = {r["id"] for r in result["results"]}
        readable = {t.id for key, t in world.targets.items()
                    if key in ("public", "private", "draft") and actor in t.readers}
        hidden = {t.id for key, t in world.targets.items() if key in SECRET_DATASETS}
        assert not seen & (hidden - readable), actor
        assert readable <= seen, actor
        counts = Counter(r.get("validation_status") for r in result["results"]
                         if r.get("validation_status"))
        assert result["facets"]["validation_status"] == dict(counts), actor
        assert result["count"] == len(result["results"]), actor


def test_fields_only_the_portal_writes(world: mw.World) -> None:
    """An editor cannot set ``validation_status`` (a "Gültig" badge for a
    failing file) nor ``harvest_provenance`` (finding 12) through the API."""
    private = world.targets["private"]
    spoof = "GefaelschteHerkunft-" + private.markers["name"].rsplit("-", 1)[-1]
    with contextlib.suppress(tk.ValidationError):  # refusing it is as good as ignoring it
        as_actor(world, "editor", "package_patch", id=private.id, validation_status="success",
                 harvest_provenance={"status": "current", "source_title": spoof,
                                     "documents": ["https://example.org/"]})
    as_actor(world, "editor", "resource_patch", id=private.rid, validation_status="success")
    shown = as_actor(world, "editor", "package_show", id=private.id)
    assert shown["validation_status"] == "failure"
    assert shown["resources"][0]["validation_status"] == "failure"
    assert spoof not in json.dumps(shown)
