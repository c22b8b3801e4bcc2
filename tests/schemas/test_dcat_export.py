"""DCAT-AP output of a complete dataset, parsed back as RDF."""
from __future__ import annotations

import pytest
from ckan.tests import factories, helpers
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from schema_examples import example

pytestmark = [
    pytest.mark.usefixtures("clean_db", "clean_index"),
    # their CSV resources point at made-up URLs; the gate has tests/validation
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")


@pytest.fixture
def turtle(app, city_org):
    admin = factories.Sysadmin()
    sent = example("wifi_hotspots")
    sent["owner_org"] = city_org["id"]
    helpers.call_action("package_create", context={"user": admin["name"]}, **sent)
    res = app.get(f"/dataset/{sent['name']}.ttl")
    assert res.status_code == 200
    graph = Graph().parse(data=res.body, format="turtle")
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    return graph, dataset, sent


def test_core_properties(turtle):
    graph, dataset, sent = turtle
    assert str(graph.value(dataset, DCTERMS.title)) == sent["title"]
    assert str(graph.value(dataset, DCTERMS.description)) == sent["notes"]
    themes = {str(t) for t in graph.objects(dataset, DCAT.theme)}
    assert themes == set(sent["theme"])
    assert str(graph.value(dataset, DCTERMS.accrualPeriodicity)) == sent["frequency"]


def test_publisher_and_contact(turtle):
    graph, dataset, _ = turtle
    publisher = graph.value(dataset, DCTERMS.publisher)
    assert str(graph.value(publisher, FOAF.name)) == "Stadt Gelsenkirchen"
    contact = graph.value(dataset, DCAT.contactPoint)
    assert str(graph.value(contact, VCARD.fn)) == "Open-Data-Team"
    assert str(graph.value(contact, VCARD.hasEmail)).endswith("opendata@example.invalid")


def test_licence_temporal_and_spatial(turtle):
    graph, dataset, _ = turtle
    distribution = graph.value(dataset, DCAT.distribution)
    assert graph.value(distribution, DCTERMS.license) == URIRef(
        "http://dcat-ap.de/def/licenses/dl-by-de/2.0")
    period = graph.value(dataset, DCTERMS.temporal)
    assert str(graph.value(period, DCAT.startDate)).startswith("2017-01-01")
    assert str(graph.value(period, DCAT.endDate)).startswith("2025-12-31")
    location = graph.value(dataset, DCTERMS.spatial)
    geometries = [str(o) for o in graph.objects(location, DCAT.bbox)]
    assert geometries and "7.16" in geometries[0]
