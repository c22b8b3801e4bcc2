"""CKAN on a SolrCloud collection of 2 shards x 2 replicas on 2 nodes
(``SEARCH=solrcloud``), and one node going away.

One of the nodes is stopped and started again, so the file runs as a pytest
process of its own with a runtime home of its own (skipped otherwise,
saying why): ``make test-solrcloud`` (home ``.portal/solrcloud-faults``), or::

    SEARCH=solrcloud VERNETZTESTADT_HOME=/tmp/solrcloud-home \\
    VERNETZTESTADT_TEST_DATABASE=ckan_cloud VERNETZTESTADT_TEST_REDIS_DB=8 \\
      .venv/bin/python -m pytest tests/search/test_solrcloud.py -p no:randomly -q

The node stopped is the one leading ``shard1`` (Solr has to elect a new
leader); for that test CKAN's ``solr_url`` names the other node. Also
checked: the collection's ``_version_`` is a ``plong`` (CKAN's string one
failed the replicas' updates; ``runtime.solr.cloud_configset_files``). CKAN's
own search tests against the collection: ``make conformance-cloud``
(``tests/conformance/cloud.txt``).
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ckan.model as model
import pytest
import requests
import solr_nodes
from ckan.common import config
from ckan.tests import factories, helpers

from ckanext.vernetztestadt.runtime import solr

SKIP = solr_nodes.skip_reason("solrcloud")
pytestmark = [
    pytest.mark.skipif(SKIP is not None, reason=SKIP or ""),
    pytest.mark.usefixtures("clean_db", "clean_index"),
]
DATASETS = 24
#: Seconds for a restarted node's replicas to recover and become active.
RECOVERY_SECONDS = 180


class Cluster:
    """This home's SolrCloud: its collection, shards, replicas and nodes."""

    def __init__(self) -> None:
        self.runtime = solr_nodes.runtime()
        self.url = solr_nodes.solr_url()
        self.collection = self.url.rsplit("/", 1)[1]

    def base(self) -> str:
        """A running node's ``/solr`` (whichever one is up)."""
        for index in range(len(self.runtime.cloud)):
            if self.running(index):
                return f"http://127.0.0.1:{self.runtime.cloud[index].port}/solr"
        raise AssertionError("no SolrCloud node is running")

    def active(self) -> bool:
        return solr.collection_active(self.base(), self.collection)

    def admin(self, action: str, **params: Any) -> dict[str, Any]:
        response = requests.get(f"{self.base()}/admin/collections",
                                params={"action": action, "wt": "json", **params}, timeout=120)
        assert response.status_code == 200, response.text[:500]
        return dict(response.json())

    def state(self) -> dict[str, Any]:
        cluster = self.admin("CLUSTERSTATUS", collection=self.collection)["cluster"]
        return {"live": set(cluster.get("live_nodes", [])),
                "shards": cluster["collections"][self.collection]["shards"]}

    def node_name(self, index: int) -> str:
        return f"127.0.0.1:{self.runtime.cloud[index].port}_solr"

    def replica_counts(self) -> dict[str, dict[str, int]]:
        """Datasets of this site per shard, as each active replica holds
        them (``distrib=false``: the core alone)."""
        state = self.state()
        counts: dict[str, dict[str, int]] = {}
        for shard, info in state["shards"].items():
            for replica in info["replicas"].values():
                if replica["state"] == "active" and replica["node_name"] in state["live"]:
                    core = f"{replica['base_url']}/{replica['core']}"
                    counts.setdefault(shard, {})[replica["core"]] = solr_nodes.num_found(
                        core, site_id(), distrib="false")
        return counts

    def leaders(self) -> dict[str, int]:
        """The node (0-based) leading each shard."""
        names = {self.node_name(i): i for i in range(len(self.runtime.cloud))}
        return {shard: names[replica["node_name"]]
                for shard, info in self.state()["shards"].items()
                for replica in info["replicas"].values() if replica.get("leader") == "true"}

    def schema_field(self, name: str) -> dict[str, Any]:
        response = requests.get(f"{self.url}/schema/fields/{name}", params={"wt": "json"},
                                timeout=30)
        assert response.status_code == 200, response.text[:500]
        return dict(response.json()["field"])

    def collection_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.runtime.cloud[index].port}/solr/{self.collection}"

    def stop(self, index: int) -> None:
        assert solr.stop_cloud_node(self.runtime, index), f"node {index + 1} was not running"
        solr_nodes.wait_for(lambda: self.node_name(index) not in self.state()["live"], 60,
                            f"node {index + 1} leaves live_nodes")

    def start(self, index: int) -> None:
        solr.start_cloud_node(self.runtime, index)
        solr_nodes.wait_for(self.active, RECOVERY_SECONDS,
                            f"collection {self.collection} active again")

    def running(self, index: int) -> bool:
        return bool(solr.status(self.runtime)[f"solrcloud{index + 1}"]["running"])


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    cluster = Cluster()
    assert cluster.active()
    yield cluster
    for index in range(len(cluster.runtime.cloud)):
        if not cluster.running(index):
            cluster.start(index)


@pytest.fixture
def ini(request: pytest.FixtureRequest) -> Path:
    return Path(request.config.getoption("ckan_ini")).resolve()


def site_id() -> str:
    return str(config.get("ckan.site_id"))


def active_datasets() -> int:
    model.Session.remove()
    return int(model.Session.query(model.Package).filter_by(state="active").count())


def names(result: dict[str, Any]) -> list[str]:
    return sorted(d["name"] for d in result["results"])


@pytest.fixture
def city() -> dict[str, Any]:
    """``DATASETS`` datasets of two organizations, tagged in two ways."""
    orgs = [factories.Organization(name="stadt-ge"), factories.Organization(name="gelsendienste")]
    datasets = [factories.Dataset(
        name=f"verteilt-{i:02d}", title=f"Verteilt {i}", notes="Verteilte Daten der Stadt",
        owner_org=orgs[i % 2]["id"], tags=[{"name": "gerade" if i % 2 == 0 else "ungerade"}])
        for i in range(DATASETS)]
    return {"orgs": orgs, "datasets": datasets}


def assert_full_counts(app: Any) -> None:
    """Every dataset found, whichever shard holds it: counts, paging, facets,
    the search page."""
    everything = helpers.call_action("package_search", q="*:*", rows=1000)
    assert everything["count"] == DATASETS
    expected = [f"verteilt-{i:02d}" for i in range(DATASETS)]
    assert names(everything) == expected
    paged: list[str] = []
    for start in range(0, DATASETS, 5):  # merged across shards, page by page
        page = helpers.call_action("package_search", q="*:*", sort="name asc", rows=5,
                                   start=start)
        assert page["count"] == DATASETS
        paged += [d["name"] for d in page["results"]]
    assert paged == expected
    facets = helpers.call_action("package_search", q="Verteilte",
                                 **{"facet.field": '["tags", "organization"]'})
    assert facets["count"] == DATASETS
    assert facets["facets"]["tags"] == {"gerade": DATASETS // 2, "ungerade": DATASETS // 2}
    assert facets["facets"]["organization"] == {"stadt-ge": DATASETS // 2,
                                                "gelsendienste": DATASETS // 2}
    assert helpers.call_action("package_search", fq="tags:gerade")["count"] == DATASETS // 2
    body = app.get("/dataset/", status=200).body
    assert re.search(rf"{DATASETS}\s+Datensätze gefunden", body), body[:2000]


def test_datasets_spread_over_both_shards(app: Any, cluster: Cluster, city: dict) -> None:
    # the runtime's SolrCloud configset types _version_ as Solr requires
    # (CKAN's string _version_ failed forwarded updates on the replicas)
    field = cluster.schema_field("_version_")
    assert field["type"] == "plong" and field.get("docValues") is True, field
    per_shard = cluster.replica_counts()
    assert set(per_shard) == {"shard1", "shard2"}
    totals = {}
    for shard, replicas in per_shard.items():
        assert len(replicas) == 2, replicas  # both replicas active
        assert len(set(replicas.values())) == 1, replicas  # and in step
        totals[shard] = next(iter(replicas.values()))
    assert all(total > 0 for total in totals.values()), totals
    assert sum(totals.values()) == DATASETS
    assert_full_counts(app)


# -- one node down ---------------------------------------------------------------------------
def _write_outcomes(app: Any, headers: dict[str, str], city: dict[str, Any]
                    ) -> dict[str, bool]:
    """A create and an update through the API, and an update through the
    dataset form, each either done or refused cleanly (as Solr decides):
    the API with a JSON error, the form with CKAN's error page."""
    outcomes = {}
    created = app.post("/api/3/action/package_create", headers=headers, json={
        "name": "im-ausfall", "title": "Im Ausfall", "notes": "Verteilte Daten der Stadt",
        "owner_org": city["orgs"][0]["id"]})
    outcomes["api create"] = _api_outcome(created)
    patched = app.post("/api/3/action/package_patch", headers=headers,
                       json={"id": "verteilt-03", "title": "Geändert im Ausfall"})
    outcomes["api update"] = _api_outcome(patched)
    edited = city["datasets"][5]
    form = app.post("/dataset/edit/verteilt-05", headers=headers, follow_redirects=False,
                    data={"name": "verteilt-05", "title": "Geändert im Formular",
                          "notes": edited["notes"], "owner_org": edited["owner_org"],
                          "tag_string": "ungerade", "save": ""})
    assert "Traceback" not in form.body
    if form.status_code == 302:
        outcomes["form update"] = True
    else:  # CKAN's error page
        assert form.status_code == 500, form.body[:2000]
        assert 'id="error-content"' in form.body
        outcomes["form update"] = False
    return outcomes


def _api_outcome(response: Any) -> bool:
    assert response.headers["Content-Type"].startswith("application/json"), response.body[:500]
    assert "Traceback" not in response.body
    body = response.json
    if body["success"]:
        assert response.status_code == 200
        return True
    assert response.status_code >= 400 and set(body["error"]) >= {"__type", "message"}, body
    return False


def _search_until_served(app: Any, expected: int, seconds: float) -> tuple[float, int]:
    """Search through the API until Solr answers again: a shard whose leader
    went away has no active replica until its other replica took over (some
    seconds). Every answer meanwhile is a clean JSON error. Returns the
    seconds until the first full answer and the number of errors before it."""
    started, errors = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        response = app.get("/api/3/action/package_search", params={"q": "*:*", "rows": 0})
        if _api_outcome(response):
            assert response.json["result"]["count"] == expected
            return time.monotonic() - started, errors
        errors += 1
        page = app.get("/dataset/")  # CKAN shows its "search error" notice
        assert page.status_code in (200, 500) and "Traceback" not in page.body
        time.sleep(0.2)
    raise AssertionError(f"no search answered within {seconds:.0f} s")


def test_one_node_down_then_back(app: Any, cluster: Cluster, city: dict, ini: Path,
                                 ckan_config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    steward = factories.SysadminWithToken()
    headers = {"Authorization": steward["token"]}
    leaders = cluster.leaders()
    stopped = leaders["shard1"]  # takes a leader away: Solr elects another
    monkeypatch.setitem(ckan_config, "solr_url", cluster.collection_url(1 - stopped))
    cluster.stop(stopped)
    try:
        # searches right away: the other node's replicas answer
        served, errors = _search_until_served(app, DATASETS, 60)
        led = sorted(shard for shard, node in leaders.items() if node == stopped)
        print(f"node {stopped + 1} down (it led {led}): search served after {served:.1f} s "
              f"({errors} clean errors before)")
        # writes while the shards it led elect new leaders
        started = time.monotonic()
        outcomes = _write_outcomes(app, headers, city)
        print(f"writes ({time.monotonic() - started:.1f} s): {outcomes}")
        model.Session.remove()
        created = model.Package.get("im-ausfall") is not None
        assert created == outcomes["api create"]
        title = helpers.call_action("package_show", id="verteilt-03")["title"]
        assert (title == "Geändert im Ausfall") == outcomes["api update"]
        title = helpers.call_action("package_show", id="verteilt-05")["title"]
        assert (title == "Geändert im Formular") == outcomes["form update"]
        if created:  # found, then removed again for the counts below
            assert helpers.call_action("package_search", q="name:im-ausfall")["count"] == 1
            helpers.call_action("package_delete", context={"user": steward["name"]},
                                id="im-ausfall")
        assert_full_counts(app)
        assert solr_nodes.num_found(cluster.collection_url(1 - stopped), site_id()) == \
            active_datasets() == DATASETS
    finally:
        cluster.start(stopped)

    # the restarted replicas caught up: each shard's replicas hold the same
    per_shard = cluster.replica_counts()
    assert all(len(r) == 2 and len(set(r.values())) == 1 for r in per_shard.values()), per_shard
    total = active_datasets()
    assert sum(next(iter(r.values())) for r in per_shard.values()) == total
    assert solr_nodes.num_found(cluster.url, site_id()) == total
    check = solr_nodes.ckan_cli(ini, "search-index", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"Packages not indexed = 0 out of {total}" in check.stdout, check.stdout
    # and a write goes through
    helpers.call_action("package_patch", context={"user": steward["name"]}, id="verteilt-07",
                        title="Nach dem Ausfall")
    assert helpers.call_action("package_search", q='title:"Nach dem Ausfall"')["count"] == 1
