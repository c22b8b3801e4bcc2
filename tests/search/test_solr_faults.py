"""A standalone Solr node that goes away under CKAN (``SEARCH=solr``).

The node is stopped and started again, so the file runs as a pytest process
of its own with a runtime home of its own (skipped otherwise, saying why):
``make test-solrcloud`` (home ``.portal/solr-faults``), or::

    SEARCH=solr VERNETZTESTADT_HOME=/tmp/solr-faults-home \\
    VERNETZTESTADT_TEST_DATABASE=ckan_faults VERNETZTESTADT_TEST_REDIS_DB=9 \\
      .venv/bin/python -m pytest tests/search/test_solr_faults.py -p no:randomly -q

Covers: ``ckan search-index rebuild`` losing Solr half-way (one line naming
Solr and its URL, exit status 1, no traceback; a re-run after the restart
indexes every active dataset), and the portal while Solr is down (search
page: CKAN's error page; API: a JSON error; writes refused before anything
reaches PostgreSQL; what was stored stays as it was).
"""
from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckan.model as model
import pytest
import solr_nodes
from ckan.common import config
from ckan.tests import factories, helpers

from ckanext.vernetztestadt.runtime import solr

SKIP = solr_nodes.skip_reason("solr")
pytestmark = [
    pytest.mark.skipif(SKIP is not None, reason=SKIP or ""),
    pytest.mark.usefixtures("clean_db", "clean_index"),
]
#: Datasets for the interrupted rebuild: enough that it runs for seconds.
REBUILD_DATASETS = 300
#: Progress at which the node is stopped ("Indexing dataset N/M").
STOP_AT = 40


class Node:
    """This home's standalone node: stopped at will, always started again."""

    def __init__(self) -> None:
        self.runtime = solr_nodes.runtime()
        self.url = solr_nodes.solr_url()
        self.core = self.url.rsplit("/", 1)[1]

    def stop(self) -> None:
        assert solr.stop_standalone(self.runtime), "the standalone Solr node was not running"

    def start(self) -> None:
        solr.start_standalone(self.runtime, (self.core,))
        solr_nodes.wait_for(lambda: solr_nodes.num_found(self.url, site_id()) >= 0, 60,
                            "core answers after the restart")

    def running(self) -> bool:
        return bool(solr.status(self.runtime)["solr"]["running"])


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    node = Node()
    yield node
    if not node.running():
        node.start()


@pytest.fixture
def restart(node: Node) -> Iterator[Node]:
    """The node, started again after the test whatever happened."""
    yield node
    if not node.running():
        node.start()


@pytest.fixture
def ini(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.getoption("ckan_ini")).resolve()


def site_id() -> str:
    return str(config.get("ckan.site_id"))


def active_datasets() -> int:
    return int(model.Session.query(model.Package).filter_by(state="active").count())


def traceback_free(output: str) -> None:
    assert "Traceback" not in output, output[-3000:]


# -- rebuild interrupted ------------------------------------------------------------
def _create_unindexed(count: int) -> None:
    """``count`` datasets through package_create, committed together without
    indexing them (CKAN's ``defer_commit``): the rebuild has them all to do."""
    org = factories.Organization()
    user = factories.Sysadmin()
    for i in range(count):
        helpers.call_action("package_create", context={"user": user["name"],
                                                       "defer_commit": True},
                            name=f"umbau-{i:04d}", title=f"Umbau {i}", notes="Baustellen",
                            owner_org=org["id"])
    model.repo.commit()


def _read_until(proc: subprocess.Popen[str], marker: str, seconds: float) -> str:
    """Output of ``proc`` up to ``marker`` (killed if it takes longer)."""
    seen = ""
    watchdog = threading.Timer(seconds, proc.kill)
    watchdog.start()
    try:
        assert proc.stdout is not None
        while marker not in seen:
            chunk = proc.stdout.read(1)
            if not chunk:
                raise AssertionError(f"rebuild ended before '{marker}': {seen[-2000:]}")
            seen += chunk
    finally:
        watchdog.cancel()
    return seen


def test_rebuild_stopped_midway_then_rerun(restart: Node, ini: Path) -> None:
    _create_unindexed(REBUILD_DATASETS)
    assert solr_nodes.num_found(restart.url, site_id()) == 0

    proc = solr_nodes.ckan_popen(ini, "search-index", "rebuild")
    started = time.monotonic()
    try:
        head = _read_until(proc, f"Indexing dataset {STOP_AT}/{REBUILD_DATASETS}", 120)
        restart.stop()
        tail, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = head + tail
    print(f"rebuild ran {time.monotonic() - started:.1f} s until it stopped")
    assert proc.returncode == 1, output[-3000:]
    traceback_free(output)
    # CKAN's own line names Solr; the portal's (upstream.search_index) comes
    # last and names its URL (refused, or a 503 while the node shuts down)
    assert "Solr returned an error" in output, output[-3000:]
    last = output.strip().splitlines()[-1]
    assert last.startswith(f"Fehler / error: Solr {restart.url}: "), last
    assert last.endswith("('ckan search-index rebuild' abgebrochen / aborted)"), last
    assert f"Indexing dataset {REBUILD_DATASETS}/{REBUILD_DATASETS}" not in output

    restart.start()
    again = solr_nodes.ckan_cli(ini, "search-index", "rebuild", "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
    assert solr_nodes.num_found(restart.url, site_id()) == active_datasets() == \
        REBUILD_DATASETS


# -- the portal while Solr is down ----------------------------------------------------
def _stored(name: str) -> dict[str, Any]:
    """What PostgreSQL holds of a dataset (package_show reads the database)."""
    shown = helpers.call_action("package_show", id=name)
    return {k: shown[k] for k in ("id", "name", "title", "notes", "state",
                                  "metadata_modified", "owner_org")}


def _json_error(response: Any) -> dict[str, Any]:
    assert response.headers["Content-Type"].startswith("application/json"), response.body[:500]
    body = response.json
    assert body["success"] is False, body
    assert set(body["error"]) >= {"__type", "message"}, body
    traceback_free(response.body)
    return body["error"]


def _error_page(response: Any) -> None:
    assert response.headers["Content-Type"].startswith("text/html"), response.body[:500]
    traceback_free(response.body)
    # CKAN's own error page (error_document_template.html) in the portal's layout
    assert "Open Data Gelsenkirchen" in response.body
    assert 'id="error-content"' in response.body, response.body[-3000:]
    print(response.status, re.sub(r"\s+", " ", response.body.split('id="error-content"')[1]
                                  .split("</div>")[0]))


def test_portal_while_solr_is_down(app: Any, restart: Node) -> None:
    org = factories.Organization()
    steward = factories.SysadminWithToken()
    headers = {"Authorization": steward["token"]}
    names = [factories.Dataset(name=f"bestand-{i}", title=f"Bestand {i}", owner_org=org["id"],
                               notes="Vor dem Ausfall")["name"] for i in range(3)]
    before = {name: _stored(name) for name in names}
    assert helpers.call_action("package_search", q="*:*")["count"] == 3
    total = model.Session.query(model.Package).count()

    restart.stop()
    # search page: CKAN's error page, no traceback
    page = app.get("/dataset/", status=500)
    _error_page(page)
    # search API: a JSON error
    found = app.get("/api/3/action/package_search", params={"q": "Bestand"}, status=500)
    assert _json_error(found)["__type"] == "Search Connection Error"
    # a dataset's page: its sidebar counts the organization's datasets with
    # package_search, which CKAN leaves unhandled; the portal answers 503
    # with CKAN's error page (search_guard)
    read = app.get("/dataset/bestand-1", status=503)
    _error_page(read)
    assert "Die Suche ist gerade nicht erreichbar" in read.body
    # create and update through the API: refused before PostgreSQL commits
    created = app.post("/api/3/action/package_create", headers=headers, status=500,
                       json={"name": "im-ausfall", "title": "Im Ausfall", "notes": "neu",
                             "owner_org": org["id"]})
    assert _json_error(created)["__type"] == "Search Index Error"
    updated = app.post("/api/3/action/package_patch", headers=headers, status=500,
                       json={"id": "bestand-0", "title": "Geändert im Ausfall"})
    assert _json_error(updated)["__type"] == "Search Index Error"
    # the dataset form: CKAN's error page
    form = app.post("/dataset/edit/bestand-2", headers=headers, status=500,
                    data={"name": "bestand-2", "title": "Geändert im Formular",
                          "notes": "Vor dem Ausfall", "owner_org": org["id"], "save": ""})
    _error_page(form)
    model.Session.remove()
    assert model.Session.query(model.Package).count() == total
    assert model.Package.get("im-ausfall") is None

    restart.start()
    assert {name: _stored(name) for name in names} == before
    result = helpers.call_action("package_search", q="*:*")
    assert result["count"] == 3
    assert sorted(d["name"] for d in result["results"]) == names
    assert solr_nodes.num_found(restart.url, site_id()) == active_datasets() == 3
    # the refused create works now and is found
    created = app.post("/api/3/action/package_create", headers=headers, status=200,
                       json={"name": "im-ausfall", "title": "Im Ausfall", "notes": "neu",
                             "owner_org": org["id"]})
    assert created.json["success"] is True
    assert helpers.call_action("package_search", q="name:im-ausfall")["count"] == 1
