"""The DCAT-AP.de export checked by the published shapes: the SEMIC DCAT-AP
3.0.0 shapes, GovData's DCAT-AP.de 3.0 shapes and its metadata-quality
dashboard (``../shared/oracles``, pyshacl). A complete and a minimal dataset
of every type, each dataset of the demo portal and the whole catalog: no
violation; warnings are printed (``-s`` or the captured output)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ckan.tests import factories, helpers
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from schema_examples import TYPE_FIELDS, example
from shacl_shapes import check_all, conforms

from ckanext.vernetztestadt.profiles import CONTRIBUTOR_OPTION, DCATDE, GEODCATAP

TYPES = sorted(TYPE_FIELDS)
CKAN = Path(sys.executable).with_name("ckan")
TEST_INI = Path(__file__).resolve().parents[2] / "test.ini"


def turtle(app, path: str) -> Graph:
    response = app.get(path)
    assert response.status_code == 200, path
    return Graph().parse(data=response.body, format="turtle")


def minimal(dataset_type: str, org: dict) -> dict:
    """Only what the form requires: everything else comes from defaults."""
    return {"type": dataset_type, "name": f"{dataset_type.replace('_', '-')}-minimal",
            "title": "Minimal", "notes": "Nur die Pflichtfelder.", "owner_org": org["id"],
            **{k: v for k, v in TYPE_FIELDS[dataset_type].items()
               if k in ("reference_date", "broadband_source", "ranking", "edition")},
            "resources": [{"url": "http://example.invalid/daten.csv", "format": "CSV"}]}


@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false")
@pytest.mark.parametrize("dataset_type", TYPES)
def test_complete_and_minimal_datasets_of_every_type_conform(app, city_org, dataset_type):
    admin = factories.Sysadmin()
    complete = example(dataset_type)
    complete["owner_org"] = city_org["id"]
    for sent in (complete, minimal(dataset_type, city_org)):
        helpers.call_action("package_create", context={"user": admin["name"]}, **sent)
        graph = turtle(app, f"/dataset/{sent['name']}.ttl")
        conforms(check_all(graph), sent["name"])


@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false")
def test_the_german_terms_are_there(app, city_org):
    admin = factories.Sysadmin()
    sent = example("wifi_hotspots")
    sent["owner_org"] = city_org["id"]
    helpers.call_action("package_create", context={"user": admin["name"]}, **sent)
    graph = turtle(app, f"/dataset/{sent['name']}.ttl")
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    # the portal's official ID; the example's own, unofficial one beside it
    assert set(graph.objects(dataset, DCATDE.contributorID)) == {
        URIRef("http://dcat-ap.de/def/contributors/openNRW"), URIRef(sent["contributor_id"])}
    key = URIRef("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05513000")
    assert graph.value(dataset, DCATDE.politicalGeocodingURI) == key
    assert key in set(graph.objects(dataset, DCTERMS.spatial))
    assert graph.value(dataset, DCATDE.politicalGeocodingLevelURI) == URIRef(
        "http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
    distribution = graph.value(dataset, DCAT.distribution)
    assert str(graph.value(distribution, DCATDE.licenseAttributionByText)) == \
        "Datenquelle: Stadt Gelsenkirchen"
    assert graph.value(distribution, DCTERMS["format"]) == URIRef(
        "http://publications.europa.eu/resource/authority/file-type/CSV")
    assert graph.value(distribution, DCAT.mediaType) == URIRef(
        "https://www.iana.org/assignments/media-types/text/csv")
    publishers = list(graph.objects(dataset, DCTERMS.publisher))
    assert len(publishers) == 1
    assert graph.value(dataset, GEODCATAP.originator) == publishers[0]
    custodian = graph.value(dataset, GEODCATAP.custodian)
    assert str(custodian).endswith("/organization/stadt-gelsenkirchen")
    assert graph.value(dataset, DCATDE.maintainer) == custodian
    assert len(list(graph.objects(dataset, DCAT.contactPoint))) == 1
    # the Musterdatenkatalog entry the dataset names
    assert graph.value(dataset, DCTERMS.references) == URIRef(sent["musterdatensatz"])


@pytest.mark.usefixtures("demo_content")
def test_every_demo_dataset_and_the_whole_catalog_conform(app):
    # the catalog's datasets: harvest sources are CKAN datasets too, not DCAT ones
    found = helpers.call_action("package_search", fq="-dataset_type:harvest", rows=1000)
    names = [dataset["name"] for dataset in found["results"]]
    assert len(names) >= 10 and len({d["type"] for d in found["results"]}) >= 3
    for name in names:
        conforms(check_all(turtle(app, f"/dataset/{name}.ttl")), name)
    catalog = turtle(app, "/catalog.ttl?page=1")
    datasets = set(catalog.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) == min(len(names), 100)
    # the Action API, as a data service of the catalog
    service = next(catalog.subjects(RDF.type, DCAT.DataService))
    assert str(catalog.value(service, DCAT.endpointURL)).endswith("/api/3/action")
    assert catalog.value(service, DCTERMS.publisher) is not None
    conforms(check_all(catalog), "/catalog.ttl")


def test_an_unofficial_contributor_id_stops_the_start(tmp_path):
    """``ckan`` refuses to start and names the option (the test database and
    Redis come from the environment the session set)."""
    ini = tmp_path / "falsch.ini"
    ini.write_text(f"[app:main]\nuse = config:{TEST_INI}\n"
                   f"{CONTRIBUTOR_OPTION} = http://dcat-ap.de/def/contributors/stadtGelsenkirchen\n")
    result = subprocess.run([str(CKAN), "-c", str(ini), "user", "list"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert CONTRIBUTOR_OPTION in result.stderr and "offiziellen" in result.stderr


@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false")
def test_private_datasets_stay_out_of_the_catalog(app, city_org):
    admin = factories.Sysadmin()
    hidden = {**minimal("dataset", city_org), "name": "intern", "private": True}
    helpers.call_action("package_create", context={"user": admin["name"]}, **hidden)
    catalog = app.get("/catalog.ttl")
    assert "intern" not in catalog.body
    assert app.get("/dataset/intern.ttl").status_code in (403, 404)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_browsers_are_shown_the_metadata_harvesters_get_rdf(app):
    """A browser opening ``.rdf``/``.jsonld`` as a page sees it as text (it
    would download ``application/rdf+xml``); harvesters get the RDF types."""
    for path, media_type in (("/catalog.rdf", "application/rdf+xml"),
                             ("/catalog.jsonld", "application/ld+json")):
        harvester = app.get(path)
        assert harvester.headers["Content-Type"].startswith(media_type)
        browser = app.get(path, headers={"Sec-Fetch-Dest": "document"})
        assert browser.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert browser.headers["X-Content-Type-Options"] == "nosniff"
        assert browser.body == harvester.body
    assert app.get("/favicon.ico", follow_redirects=False).status_code in (301, 302)
