"""Smoke: CKAN creates organizations and datasets and finds them, no Solr."""
import pytest

from ckan.tests import factories, helpers


@pytest.mark.usefixtures("clean_db", "clean_index")
def test_create_and_find():
    org = factories.Organization(name="stadt-gelsenkirchen", title="Stadt Gelsenkirchen")
    factories.Dataset(name="wlan-hotspots", title="WLAN-Hotspots in Gelsenkirchen",
                      owner_org=org["id"], tags=[{"name": "WLAN"}, {"name": "Internet"}],
                      notes="Standorte der FreeWiFi-Hotspots an der Straße",
                      resources=[{"url": "http://x/a.csv", "format": "CSV"}])
    factories.Dataset(name="breitband", title="Breitbandversorgung", owner_org=org["id"],
                      tags=[{"name": "Internet"}])
    res = helpers.call_action("package_search", q="Hotspot")
    assert [d["name"] for d in res["results"]] == ["wlan-hotspots"]
    res = helpers.call_action("package_search", q="strasse")
    assert res["count"] == 1
    res = helpers.call_action("package_search", q="", **{"facet.field": ["tags", "organization", "res_format"]})
    assert res["count"] == 2
    assert res["facets"]["tags"] == {"Internet": 2, "WLAN": 1}
    assert res["facets"]["res_format"] == {"CSV": 1}
    res = helpers.call_action("package_search", fq='tags:"WLAN"')
    assert res["count"] == 1
    res = helpers.call_action("package_search", sort="name asc")
    assert [d["name"] for d in res["results"]] == ["breitband", "wlan-hotspots"]
    org_shown = helpers.call_action("organization_show", id=org["id"])
    assert org_shown["package_count"] == 2
