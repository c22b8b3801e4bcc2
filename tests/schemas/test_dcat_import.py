"""DCAT-AP.de import round trip: the three reference examples of DCAT-AP.de
(``../shared/oracles/dcat-ap-de/examples/``), served by a local server, are
harvested by the portal's DCAT-AP.de harvester (a YAML source definition),
exported again, and the key fields of every dataset and distribution are
the same; the export passes the published shapes."""
from __future__ import annotations

import pytest
from ckan.tests import factories, helpers
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, Namespace
from shacl_shapes import ORACLES, check_all, conforms

from ckanext.vernetztestadt.harvest import runner, sources
from ckanext.vernetztestadt.profiles import DCATDE

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EXAMPLES = ORACLES / "dcat-ap-de" / "examples"
FILES = {"dcat_ap_de-RefImp_TTL_SIMPLE.ttl": "text/turtle",
         "dcat_ap_de-RefImp_TTL_ADVANCED.ttl": "text/turtle",
         "dcat_ap_de-RefImp_RDF_ADVANCED.rdf": "application/rdf+xml",
         "ex-23-dataservice.rdf": "application/rdf+xml"}
DATASET_KEYS = (DCTERMS.title, DCTERMS.description, DCAT.keyword, DCAT.theme,
                DCATDE.politicalGeocodingURI, DCATDE.politicalGeocodingLevelURI,
                DCTERMS.accrualPeriodicity)
DISTRIBUTION_KEYS = (DCAT.accessURL, DCAT.downloadURL, DCTERMS.license, DCTERMS.format,
                     DCATDE.licenseAttributionByText, DCTERMS.title)


def source_yaml(url: str) -> str:
    return f"""
name: dcat-beispiel
type: vernetztestadt_dcat
title: DCAT-AP.de-Referenzbeispiel
url: {url}
organization: stadt-gelsenkirchen
dataset_type: dataset
"""


def values(graph: Graph, node, predicate) -> set[str]:
    return {str(v) for v in graph.objects(node, predicate) if not isinstance(v, Graph)}


def emails(graph: Graph, dataset) -> set[str]:
    return {str(v).removeprefix("mailto:") for point in graph.objects(dataset, DCAT.contactPoint)
            for v in graph.objects(point, VCARD.hasEmail)}


def publisher_names(graph: Graph, dataset) -> set[str]:
    return {str(n) for p in graph.objects(dataset, DCTERMS.publisher)
            for n in graph.objects(p, FOAF.name)}


def distributions(graph: Graph, dataset) -> dict[str, dict[str, set[str]]]:
    """Each distribution's key fields, by its access URL."""
    return {str(graph.value(d, DCAT.accessURL)): {str(k): values(graph, d, k)
                                                  for k in DISTRIBUTION_KEYS}
            for d in graph.objects(dataset, DCAT.distribution)}


def key_fields(graph: Graph, dataset) -> dict[str, object]:
    fields: dict[str, object] = {str(k): values(graph, dataset, k) for k in DATASET_KEYS}
    fields.update(contact=emails(graph, dataset), publisher=publisher_names(graph, dataset),
                  distributions=distributions(graph, dataset))
    return fields


def stated(fields: dict, like: dict | None = None) -> dict:
    """The fields the example states (``like``: the ones ``like`` states),
    so that what the export adds (a file type guessed from the URL, say)
    does not count, and what it drops or changes does."""
    like = fields if like is None else like
    return {key: stated(value, like[key]) if isinstance(value, dict) else value
            for key, value in fields.items() if like.get(key)}


def by_title(graph: Graph) -> dict[str, object]:
    return {str(graph.value(d, DCTERMS.title)): d for d in graph.subjects(RDF.type, DCAT.Dataset)}


@pytest.fixture
def imported(httpserver, city_org):
    """Harvest one example file; returns (source graph, {title: package})."""
    if not EXAMPLES.is_dir():
        pytest.skip(f"{EXAMPLES} fehlt / missing: the DCAT-AP.de reference examples")

    def harvest(file: str) -> tuple[Graph, dict[str, dict]]:
        data = (EXAMPLES / file).read_bytes()
        httpserver.expect_request(f"/katalog/{file}").respond_with_data(
            data, content_type=FILES[file])
        definition = sources.parse(source_yaml(httpserver.url_for(f"/katalog/{file}")),
                                   "dcat-beispiel.yaml")
        runner.sync([definition])
        result = runner.run(definition.name)
        assert not result.errors, result.errors
        packages = helpers.call_action(
            "package_search", context={"user": sysadmin["name"]}, include_private=True,
            q="*:*", rows=100)["results"]
        return (Graph().parse(data=data, format="xml" if file.endswith(".rdf") else "turtle"),
                {p["title"]: p for p in packages})

    sysadmin = factories.Sysadmin()
    return harvest


@pytest.mark.usefixtures("clean_db", "clean_index")
@pytest.mark.parametrize("file", sorted(FILES))
def test_reference_examples_round_trip(app, imported, file):
    original, packages = imported(file)
    token = helpers.call_action("api_token_create", context={"ignore_auth": True},
                                user=factories.Sysadmin()["name"], name="t")["token"]
    originals = by_title(original)
    assert set(packages) == set(originals)
    for title, package in packages.items():
        assert package["type"] == "dataset"
        assert package["organization"]["name"] == "stadt-gelsenkirchen"
        response = app.get(f"/dataset/{package['name']}.ttl", headers={"Authorization": token})
        assert response.status_code == 200
        exported = Graph().parse(data=response.body, format="turtle")
        node = by_title(exported)[title]
        wanted, got = key_fields(original, originals[title]), key_fields(exported, node)
        assert stated(wanted) == stated(got, like=wanted), title
        source_ids = values(original, originals[title], DCATDE.contributorID)
        assert source_ids <= values(exported, node, DCATDE.contributorID)
        conforms(check_all(exported), package["name"])


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_a_table_that_cannot_be_validated_is_kept_private_not_published(imported):
    """The advanced example's CSV lies on a server the portal may not fetch:
    that dataset is imported private with the reason; the GML one is public."""
    _, packages = imported("dcat_ap_de-RefImp_TTL_ADVANCED.ttl")
    assert packages["Badegewässer in Hamburg"]["private"] is True
    assert packages["Gebietsgrenzen Polizeikommissariate"]["private"] is False
    log = helpers.call_action("harvest_log_list", context={"ignore_auth": True}, limit=50)
    assert any("nicht veröffentlicht" in entry["content"] for entry in log)


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_a_second_run_changes_nothing_and_keeps_the_datasets(imported):
    _, first = imported("dcat_ap_de-RefImp_TTL_SIMPLE.ttl")
    _, second = imported("dcat_ap_de-RefImp_TTL_SIMPLE.ttl")
    assert {p["id"] for p in first.values()} == {p["id"] for p in second.values()}


def test_the_examples_state_what_the_round_trip_compares():
    """The comparison is not empty: the examples carry these fields."""
    if not EXAMPLES.is_dir():
        pytest.skip(f"{EXAMPLES} fehlt / missing: the DCAT-AP.de reference examples")
    graph = Graph().parse(EXAMPLES / "dcat_ap_de-RefImp_TTL_ADVANCED.ttl", format="turtle")
    dataset = URIRef("https://example.com/dataset/d4ce4e6e-ab89-44cb-bf5c-33a162c234de#dataset")
    fields = key_fields(graph, dataset)
    assert Literal("wasser") in {Literal(k) for k in fields[str(DCAT.keyword)]}
    assert fields["contact"] == {"thomas.meister@example.com"}
    assert len(fields["distributions"]) == 2

