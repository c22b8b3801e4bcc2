"""The catalog imports (``harvest/catalogs.py``): another CKAN's Action API
replayed from a fixture on 127.0.0.1, DCAT-AP.de catalogs through the one URL
policy, and why ckanext-dcat's RDF harvester broke
``harvest_object_package_id_fkey`` (the round trip of the DCAT-AP.de
reference examples is in ``tests/schemas/test_dcat_import.py``)."""
from __future__ import annotations

import json
import uuid

import pytest
from ckan.tests import helpers
from ckanext.dcat.harvesters.rdf import DCATRDFHarvester
from ckanext.harvest.model import HarvestJob, HarvestObject, HarvestSource
from conftest import FIXTURES, site_user
from werkzeug.wrappers import Response

from ckanext.vernetztestadt import resources
from ckanext.vernetztestadt.harvest import runner, sources

CSV = b"Stadtteil;Einwohner\nAltstadt;17.012\nBuer;30.208\n"
HTML = b"<!DOCTYPE html><html><body>Anmeldung erforderlich</body></html>"


def _search_answer(server: str):
    recorded = (FIXTURES / "ckan" / "package_search.json").read_text("utf-8")
    page = json.loads(recorded.replace("{server}", server))
    empty = {**page, "result": {**page["result"], "results": []}}

    def answer(request):
        body = page if request.args.get("start", "0") == "0" else empty
        return Response(json.dumps(body), content_type="application/json")
    return answer


def _ckan_source(server: str) -> sources.SourceDefinition:
    """The shipped definition of the regional CKAN, pointed at the replay."""
    shipped = {d.name: d for d in sources.shipped()}["ruhr-ckan"]
    return sources.parse(
        (resources.harvesters_dir() / shipped.file).read_text("utf-8")
        .replace(shipped.url, server), shipped.file)


def _dcat_source(name: str, title: str, url: str) -> sources.SourceDefinition:
    """A DCAT-AP.de source of the city, as its YAML file declares it."""
    return sources.parse(f"""
name: {name}
type: vernetztestadt_dcat
title: {title}
url: {url}
organization: stadt-gelsenkirchen
""", f"{name}.yaml")


def _packages() -> dict[str, dict]:
    found = helpers.call_action("package_search", context={"user": site_user()},
                                include_private=True, q="*:*", rows=50)["results"]
    return {p["name"]: p for p in found}


@pytest.mark.usefixtures("city")
def test_the_regional_ckan_is_harvested_from_its_api(httpserver):
    server = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/api/3/action/package_search").respond_with_handler(
        _search_answer(server))
    httpserver.expect_request("/dataset/einwohner/einwohner_2025.csv").respond_with_data(
        CSV, content_type="text/csv")
    httpserver.expect_request("/dataset/luft/messwerte.csv").respond_with_data(
        HTML, content_type="text/html")
    definition = _ckan_source(server)
    runner.sync([definition])
    result = runner.run(definition.name)
    assert not result.errors, result.errors
    packages = _packages()
    residents = packages["einwohner-nach-stadtteilen-gelsenkirchen"]
    assert residents["type"] == "dataset"
    assert residents["organization"]["name"] == "stadt-gelsenkirchen"
    assert residents["license_id"] == "dl-de-by-2.0"  # GovData's id -> the portal's
    assert {t["name"] for t in residents["tags"]} == {"Bevölkerung", "Stadtteile"}
    assert residents["private"] is False
    assert residents["resources"][0]["validation_status"] == "success"
    # the CSV answered with a login page: kept, but not published
    air = packages["luftmessstationen-gelsenkirchen"]
    assert air["private"] is True
    assert air["resources"][0]["validation_status"] != "success"
    # a second run finds nothing new and changes nothing
    again = runner.run(definition.name)
    assert not again.errors
    assert {p["metadata_modified"] for p in _packages().values()} == {
        p["metadata_modified"] for p in packages.values()}


@pytest.mark.usefixtures("city")
@pytest.mark.ckan_config("ckanext.vernetztestadt.harvest.allowed_hosts", "")
def test_loopback_is_refused_unless_the_site_allows_it(httpserver):
    """Only the site configuration opens internal addresses: a source on
    127.0.0.1 is refused before any request, for both catalog harvesters."""
    server = httpserver.url_for("").rstrip("/")
    definition = _ckan_source(server)
    dcat = _dcat_source("dcat-intern", "Interner Katalog", f"{server}/catalog.ttl")
    runner.sync([definition, dcat])
    for name in (definition.name, dcat.name):
        result = runner.run(name)
        assert result.errors, name
        assert "127.0.0.1" in " ".join(result.errors)
    assert httpserver.log == []
    assert _packages() == {}


@pytest.mark.usefixtures("city")
def test_a_next_page_on_an_internal_address_is_not_fetched(httpserver):
    """A catalog's paging link is fetched under the same policy: a page that
    points to a link-local address ends the gather with an error."""
    page = f"""
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix hydra: <http://www.w3.org/ns/hydra/core#> .
<{httpserver.url_for('/catalog.ttl')}> a hydra:PagedCollection ;
  hydra:nextPage "http://169.254.169.254/latest/meta-data/" ;
  hydra:totalItems 2 ; hydra:itemsPerPage 1 .
<https://example.org/dataset/eins> a dcat:Dataset ; dct:title "Eins" ;
  dct:description "Erster Datensatz." .
"""
    httpserver.expect_request("/catalog.ttl").respond_with_data(page,
                                                                content_type="text/turtle")
    definition = _dcat_source("dcat-paged", "Katalog mit Seiten",
                              httpserver.url_for("/catalog.ttl"))
    runner.sync([definition])
    result = runner.run(definition.name)
    assert any("169.254.169.254" in error for error in result.errors), result.errors
    assert _packages() == {}


@pytest.mark.usefixtures("city")
def test_a_refused_table_no_longer_breaks_the_harvest_object_reference(httpserver):
    """ckanext-dcat's own import stage (the stock harvester) flushes a harvest
    object naming the dataset it is about to create, under a deferred
    foreign key. The gate refused the dataset (a public table that fails)
    without the rollback CKAN does on its own validation errors, so saving
    the error committed a dangling reference: every object failed with
    ``harvest_object_package_id_fkey`` instead of the gate's reason."""
    httpserver.expect_request("/kaputt.csv").respond_with_data(HTML,
                                                               content_type="text/html")
    definition = _dcat_source("dcat-fk", "Katalog", httpserver.url_for("/catalog.ttl"))
    runner.sync([definition])
    source = helpers.call_action("harvest_source_show", context={"ignore_auth": True},
                                 id="dcat-fk")
    job = helpers.call_action("harvest_job_create", context={"ignore_auth": True,
                                                             "user": site_user()},
                              source_id=source["id"], run=False)
    dataset = {"title": "Kaputt", "notes": "Eine Tabelle, die keine ist.", "name": "kaputt",
               "owner_org": source["owner_org"], "extras": [],
               "resources": [{"url": httpserver.url_for("/kaputt.csv"), "format": "CSV"}]}
    obj = HarvestObject(guid=str(uuid.uuid4()), job=HarvestJob.get(job["id"]),
                        source=HarvestSource.get(source["id"]), content=json.dumps(dataset))
    obj.save()
    assert DCATRDFHarvester().import_stage(obj) is False
    errors = [e.message for e in HarvestObject.get(obj.id).errors]
    assert len(errors) == 1 and "Create validation Error" in errors[0]
    assert "Prüfung nicht bestanden" in errors[0]
    assert "package_id_fkey" not in errors[0]
    assert HarvestObject.get(obj.id).package_id is None


@pytest.mark.usefixtures("city")
@pytest.mark.ckan_config("ckanext.vernetztestadt.metadata_gate", "true")
def test_with_the_metadata_gate_an_import_breaking_a_must_is_kept_private(httpserver):
    """A contact without e-mail or web page breaks a MUST convention: the
    metadata gate would refuse it; in an import it is saved private, with the
    gate's German message in the job log."""
    catalog = """
@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix vcard: <http://www.w3.org/2006/vcard/ns#> .
<https://example.org/dataset/ohne-kontakt> a dcat:Dataset ;
  dct:title "Ohne erreichbaren Kontakt" ; dct:description "Nur ein Name." ;
  dct:license <http://dcat-ap.de/def/licenses/dl-zero-de/2.0> ;
  dcat:contactPoint [ a vcard:Organization ; vcard:fn "Nur ein Name" ] .
"""
    httpserver.expect_request("/catalog.ttl").respond_with_data(catalog,
                                                                content_type="text/turtle")
    definition = _dcat_source("dcat-gate", "Katalog", httpserver.url_for("/catalog.ttl"))
    runner.sync([definition])
    result = runner.run(definition.name)
    assert not result.errors, result.errors
    assert _packages()["ohne-erreichbaren-kontakt"]["private"] is True
    log = helpers.call_action("harvest_log_list", context={"ignore_auth": True}, limit=50)
    assert any("weder E-Mail noch Webseite" in entry["content"] for entry in log)
