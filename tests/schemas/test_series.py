"""Dataset series (series.py): the editions of a ranking in order, in the
DCAT-AP.de export (dcat:DatasetSeries, inSeries, prev/next, first/last) and
on the portal (the series page, the neighbours on each dataset page)."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from ckan.tests import factories, helpers
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from shacl_shapes import check_all

from ckanext.vernetztestadt import series

pytestmark = [
    pytest.mark.usefixtures("clean_db", "clean_index"),
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]
SERIES_PATH = "/reihe/smart_city_ranking/bitkom-smart-city-index"


def ranking(org: dict, edition: int | None, name: str, **extra) -> dict:
    return helpers.call_action(
        "package_create", context={"user": org["steward"]}, type="smart_city_ranking",
        name=name, owner_org=org["id"],
        title=f"Bitkom Smart City Index {edition or '(Zeitreihe)'}", notes="Platz je Stadt.",
        ranking="bitkom-smart-city-index", tag_string="Smart City",
        **({"edition": edition} if edition else {}),
        resources=[{"url": "http://example.invalid/ranking.csv", "format": "CSV"}], **extra)


@pytest.fixture
def editions(city_org):
    city_org["steward"] = factories.Sysadmin()["name"]
    # created out of order: the series orders by edition, not by creation
    made = {year: ranking(city_org, year, f"bitkom-{year}") for year in (2023, 2021, 2022)}
    ranking(city_org, None, "bitkom-zeitreihe")  # all editions: no member
    helpers.call_action("package_create", context={"user": city_org["steward"]},
                        type="smart_city_ranking", name="haselhorst-2022",
                        owner_org=city_org["id"], title="Haselhorst 2022", notes="Andere Reihe.",
                        ranking="haselhorst", edition=2022)
    return made


def test_members_are_the_editions_in_order(editions):
    found = series.series_of(editions[2022])
    assert [m["name"] for m in found.members] == ["bitkom-2021", "bitkom-2022", "bitkom-2023"]
    previous, following = found.neighbours("bitkom-2022")
    assert (previous["name"], following["name"]) == ("bitkom-2021", "bitkom-2023")
    assert found.title["de"] == "Bitkom Smart City Index: alle Ausgaben"
    assert series.series_of(helpers.call_action("package_show", id="bitkom-zeitreihe")) is None


def test_the_export_names_the_series_and_the_neighbours(app, editions):
    graph = Graph().parse(data=app.get("/dataset/bitkom-2022.ttl").body, format="turtle")
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    uri = {year: URIRef(f"http://test.ckan.net/dataset/{d['id']}") for year, d in editions.items()}
    in_series = graph.value(dataset, DCAT.inSeries)
    assert str(in_series) == "http://test.ckan.net" + SERIES_PATH
    assert (graph.value(dataset, DCAT.prev), graph.value(dataset, DCAT.next)) == (
        uri[2021], uri[2023])
    assert (in_series, RDF.type, DCAT.DatasetSeries) in graph
    assert (graph.value(in_series, DCAT.first), graph.value(in_series, DCAT.last)) == (
        uri[2021], uri[2023])
    assert graph.value(in_series, DCTERMS.publisher) is not None
    for report in check_all(graph):
        assert not report.violations, report.explain()


def test_the_series_page_lists_the_members_and_each_links_its_neighbours(app, editions):
    page = BeautifulSoup(app.get(SERIES_PATH).body, "html.parser")
    assert [a.get_text() for a in page.select(".vts-series-members a")] == [
        "Bitkom Smart City Index 2021", "Bitkom Smart City Index 2022",
        "Bitkom Smart City Index 2023"]
    dataset = BeautifulSoup(app.get("/smart_city_ranking/bitkom-2021").body, "html.parser")
    nav = dataset.select_one(".vts-series-nav")
    assert nav.select_one("h3 a")["href"] == SERIES_PATH
    assert nav.select_one("a[rel=prev]") is None  # the first edition
    assert nav.select_one("a[rel=next]")["href"].endswith("/bitkom-2022")


def test_a_private_member_stays_hidden_from_visitors(app, editions, city_org):
    ranking(city_org, 2024, "bitkom-2024", private=True)
    body = app.get(SERIES_PATH).body
    assert "bitkom-2024" not in body and "bitkom-2023" in body
    admin = factories.Sysadmin()
    found = series.series_by_key("smart_city_ranking", "bitkom-smart-city-index",
                                 {"user": admin["name"]})
    assert found.members[-1]["name"] == "bitkom-2024"


def test_an_unknown_or_hostile_series_is_not_found(app, editions):
    assert app.get("/reihe/smart_city_ranking/nichts", status=404)
    assert app.get("/reihe/dataset/irgendwas", status=404)
    # the key never reaches the search as a query: no other dataset answers
    for hostile in ('x" OR *:*', "*", 'bitkom-smart-city-index") OR (ranking:haselhorst'):
        assert app.get("/reihe/smart_city_ranking/" + quote(hostile, safe=""), status=404)
