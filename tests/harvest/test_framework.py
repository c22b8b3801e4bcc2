"""The framework's paths through ckanext-harvest: declarative sources synced
by the CLI, config checks, ``ckan harvester run-test``, the queue path on
Redis (gather and fetch consumers), a job killed midway, and the /harvest
pages. Ranking documents are the shipped offline snapshots or fixtures."""
from __future__ import annotations

import json

import ckan.model as model
import pytest
from ckan.cli.cli import ckan
from ckan.logic import ValidationError
from ckan.tests import factories, helpers
from ckanext.harvest import queue
from ckanext.harvest.model import HarvestJob, HarvestObject
from conftest import site_user

from ckanext.vernetztestadt.harvest import sources

SHIPPED = {d.name: d for d in sources.shipped()}
HASELHORST = "haselhorst-smart-city-ranking"
#: what the Haselhorst snapshot publishes: two editions and the series
HASELHORST_DATASETS = {"haselhorst-smart-city-ranking-2021",
                       "haselhorst-smart-city-ranking-2023",
                       "haselhorst-smart-city-ranking-gelsenkirchen-zeitreihe"}


def harvested() -> list[str]:
    return sorted(n for n in helpers.call_action("package_list") if n not in SHIPPED)


def invoke(cli, *args: str):
    result = cli.invoke(ckan, list(args))
    assert result.exit_code == 0, result.output
    return result


class TestDeclarativeSources:
    @pytest.mark.search  # sources are datasets in the index
    def test_sync_creates_then_changes_nothing(self, city, cli):
        first = invoke(cli, "vernetztestadt", "sources", "sync").output
        assert f"{HASELHORST}: angelegt / created" in first
        modified = helpers.call_action("package_show", id=HASELHORST)["metadata_modified"]
        second = invoke(cli, "vernetztestadt", "sources", "sync").output
        assert f"{HASELHORST}: unverändert / unchanged" in second
        assert helpers.call_action("package_show", id=HASELHORST)["metadata_modified"] \
            == modified
        source = helpers.call_action("harvest_source_show", context={"use_cache": False},
                                     id=HASELHORST)
        assert source["source_type"] == "vernetztestadt_ranking"
        assert json.loads(source["config"])["ranking"] == "haselhorst"

    @pytest.mark.search  # sources are datasets in the index
    def test_sync_restores_an_edited_source(self, city, cli):
        invoke(cli, "vernetztestadt", "sources", "sync")
        source = helpers.call_action("harvest_source_show", context={"use_cache": False},
                                     id=HASELHORST)
        helpers.call_action("harvest_source_patch", context={"user": site_user()},
                            id=source["id"], title="Anders")
        assert f"{HASELHORST}: aktualisiert / updated" in invoke(
            cli, "vernetztestadt", "sources", "sync").output
        assert helpers.call_action("harvest_source_show", context={"use_cache": False},
                                   id=HASELHORST)["title"] == SHIPPED[HASELHORST].title

    def test_every_shipped_source_has_a_valid_config(self):
        for definition in SHIPPED.values():
            harvester = queue.get_harvester(definition.type)
            assert harvester is not None, definition.type
            data = definition.action_data("org-id")
            assert harvester.validate_config(data["config"]) == data["config"]

    def test_a_bad_config_is_refused_with_every_problem(self, make_source):
        with pytest.raises(ValidationError) as refused:
            make_source("kaputt", "http://127.0.0.1/x.csv",
                        {"ranking": "irgendwas", "fromat": "csv", "bbox": [7, 51, 6, 52],
                         "withdraw": "vielleicht"})
        message = json.dumps(refused.value.error_dict, ensure_ascii=False)
        for problem in ("„ranking“ muss einer von bitkom, haselhorst sein",
                        "unbekannte Angabe „fromat“", "„bbox“", "„withdraw“ muss einer von "
                        "outdated, delete sein"):
            assert problem in message


@pytest.mark.search
def test_the_cli_harvests_with_a_progress_bar(city, cli):
    invoke(cli, "vernetztestadt", "sources", "sync")
    first = invoke(cli, "vernetztestadt", "harvest", HASELHORST)
    assert f"{HASELHORST}: 3 added" in first.output
    assert "Harvest haselhorst-smart-city-ranking" in first.stderr
    assert set(harvested()) == HASELHORST_DATASETS
    again = invoke(cli, "vernetztestadt", "harvest", HASELHORST)
    assert f"{HASELHORST}: 3 not modified" in again.output


@pytest.mark.search
def test_ckan_harvester_run_test(city, cli):
    invoke(cli, "vernetztestadt", "sources", "sync")
    invoke(cli, "harvester", "run-test", HASELHORST)
    assert set(harvested()) == HASELHORST_DATASETS
    job = helpers.call_action("harvest_job_list", context={"user": site_user()},
                              source_id=helpers.call_action(
                                  "harvest_source_show", context={"use_cache": False},
                                  id=HASELHORST)["id"])[0]
    assert job["status"] == "Finished" and job["stats"]["added"] == 3


@pytest.mark.search
def test_the_queue_path_on_redis(city, cli):
    """``harvester run`` queues the job; the gather and fetch consumers
    (here one message at a time, as ckanext-harvest's own tests do) do the rest."""
    invoke(cli, "vernetztestadt", "sources", "sync")
    queue.purge_queues()
    source = helpers.call_action("harvest_source_show", context={"use_cache": False},
                                 id=HASELHORST)
    helpers.call_action("harvest_job_create", context={"user": site_user()},
                        source_id=source["id"], run=True)
    gather = queue.get_gather_consumer()
    queue.gather_callback(gather, *gather.basic_get(queue="ckan.harvest.gather"))
    fetch = queue.get_fetch_consumer()
    for _ in range(3):
        queue.fetch_callback(fetch, *fetch.basic_get(queue="ckan.harvest.fetch"))
    invoke(cli, "harvester", "run")  # closes finished jobs
    jobs = helpers.call_action("harvest_job_list", context={"user": site_user()},
                               source_id=source["id"])
    assert [j["status"] for j in jobs] == ["Finished"]
    assert set(harvested()) == HASELHORST_DATASETS


@pytest.mark.search
def test_a_job_killed_midway_leaves_no_duplicates(city, cli, harvest):
    """The process dies after importing one of three objects; the job is
    aborted and the next run completes without a second copy of anything."""
    invoke(cli, "vernetztestadt", "sources", "sync")
    source = helpers.call_action("harvest_source_show", context={"use_cache": False},
                                 id=HASELHORST)
    job = helpers.call_action("harvest_job_create", context={"user": site_user()},
                              source_id=source["id"], run=False)
    harvester = queue.get_harvester("vernetztestadt_ranking")
    harvest_job = HarvestJob.get(job["id"])
    harvest_job.status = "Running"
    harvest_job.save()
    object_ids = queue.gather_stage(harvester, harvest_job)
    queue.fetch_and_import_stages(harvester, HarvestObject.get(object_ids[0]))
    model.Session.remove()  # the process is gone; two objects stay WAITING
    assert len(harvested()) == 1
    invoke(cli, "harvester", "job-abort", HASELHORST)

    result = harvest(HASELHORST)
    assert result.errors == [] and result.counts == {"added": 2, "not modified": 1}
    assert set(harvested()) == HASELHORST_DATASETS
    names = [p.name for p in model.Session.query(model.Package)
             .filter(model.Package.type == "smart_city_ranking")]
    assert len(names) == len(set(names)) == 3


@pytest.mark.search
def test_a_source_keeps_its_type_and_config_after_a_job(city, cli):
    """ckanext-harvest re-indexes a source after each job; showing it (from
    the index, as the /harvest pages and the API do) still gives its fields."""
    invoke(cli, "vernetztestadt", "sources", "sync")
    invoke(cli, "vernetztestadt", "harvest", HASELHORST)
    shown = helpers.call_action("harvest_source_show", id=HASELHORST)
    assert shown["source_type"] == "vernetztestadt_ranking"
    assert json.loads(shown["config"])["ranking"] == "haselhorst"
    assert shown["status"]["last_job"]["status"] == "Finished"


@pytest.mark.search
def test_the_harvest_pages_list_sources_and_finished_jobs(city, cli, app):
    invoke(cli, "vernetztestadt", "sources", "sync")
    # the sources with offline snapshots (a live one needs its server)
    invoke(cli, "vernetztestadt", "harvest",
           *[name for name, d in SHIPPED.items() if d.url.startswith("package:")])
    listing = app.get("/harvest/").body
    for name in SHIPPED:
        assert f'href="/harvest/{name}"' in listing
    sysadmin = factories.SysadminWithToken()
    jobs = app.get(f"/harvest/{HASELHORST}/job",
                   headers={"Authorization": sysadmin["token"]}).body
    assert "Finished" in jobs or "Beendet" in jobs or "Abgeschlossen" in jobs
