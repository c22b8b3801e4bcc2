"""The WiFi harvester on the shared framework: sources merged into one
hotspot dataset with CSV, GeoJSON, spatial extent and a map that renders
without network; nothing private in any published output. Documents
(synthetic, fixtures/wifi/README.md) are served by pytest-httpserver."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from ckan.lib.uploader import get_resource_uploader
from ckan.tests import helpers
from fixture_addresses import leaked

from ckanext.vernetztestadt.harvest.formats import hotspot_rows
from ckanext.vernetztestadt.harvest.formats.privacy import find_private

FIXTURES = Path(__file__).parent / "fixtures" / "wifi"
NAME = "wlan-hotspots-05513000"

#: every job indexes what it publishes and re-indexes its source
pytestmark = pytest.mark.search


def serve(httpserver, name: str, data: bytes | None = None) -> str:
    httpserver.expect_request(f"/{name}").respond_with_data(
        data if data is not None else (FIXTURES / name).read_bytes())
    return httpserver.url_for(f"/{name}")


def make(make_source, urls: list[str], **config) -> dict:
    return make_source("wlan", urls[0], {"documents": [{"url": u} for u in urls],
                                         "dataset_type": "wifi_hotspots", **config},
                       source_type="vernetztestadt_wifi")


def files_of(dataset: dict) -> dict[str, str]:
    texts = {}
    for resource in dataset["resources"]:
        path = get_resource_uploader(resource).get_path(resource["id"])
        texts[resource["format"]] = Path(path).read_text(encoding="utf-8")
    return texts


def test_sources_merge_into_one_dataset_with_a_map(make_source, harvest, httpserver, app):
    make(make_source, [serve(httpserver, "stadt_hotspots_epsg25832.csv"),
                       serve(httpserver, "overpass.json"),
                       serve(httpserver, "meshviewer.json")])
    result = harvest("wlan")
    assert result.errors == [] and result.counts == {"added": 1}

    dataset = helpers.call_action("package_show", id=NAME)
    assert dataset["type"] == "wifi_hotspots" and dataset["validation_status"] == "success"
    files = files_of(dataset)
    assert set(files) == {"CSV", "GeoJSON"}
    rows = list(csv.DictReader(files["CSV"].splitlines()))
    assert dataset["hotspot_count"] == len(rows) > 0
    assert {tag for r in rows for tag in r["source"].split("|")} >= {"stadt", "osm"}
    features = json.loads(files["GeoJSON"])["features"]
    assert len(features) == len(rows)
    lon, lat = features[0]["geometry"]["coordinates"]
    assert 6.97 <= lon <= 7.17 and 51.47 <= lat <= 51.64
    assert json.loads(dataset["spatial_coverage"][0]["geom"])["type"] == "Polygon"

    page = app.get(f"/dataset/{NAME}").body
    assert 'data-view-type="vernetztestadt_map"' in page
    assert page.count('<circle cx=') >= len(rows)  # the SVG map, drawn without network
    points = page.split('data-module-points="')[1].split('"')[0]
    assert points.count("[") - 1 == len(rows)


def test_nothing_private_is_published(make_source, harvest, httpserver, app):
    """Freifunk fixtures carry (fake) MACs, owner e-mails and IPs: none of them
    reaches a file, an API field or the drawn views. (The provenance names
    the source's own URLs, here 127.0.0.1: configured, not harvested data.)"""
    make(make_source, [serve(httpserver, "meshviewer.json"),
                       serve(httpserver, "ffmap_nodes.json")])
    assert harvest("wlan").errors == []
    raw = (FIXTURES / "meshviewer.json").read_text(encoding="utf-8")
    assert find_private(raw)  # the fixture does hold such data
    dataset = helpers.call_action("package_show", id=NAME)
    api = {k: v for k, v in dataset.items() if k != "harvest_provenance"}
    pages = [app.get(f"/dataset/{NAME}").body,
             app.get(f"/dataset/{NAME}/resource/{dataset['resources'][0]['id']}").body]
    views = [page.split('class="vts-point-map"')[1].split("</svg>")[0] for page in pages]
    for text in [*files_of(dataset).values(), json.dumps(api, ensure_ascii=False), *views]:
        assert find_private(text) == []


def test_hopglass_and_olsr_documents_merge_without_addresses(make_source, harvest,
                                                            httpserver):
    """Two Freifunk maps of one source: a hopglass nodes.json and an OLSR node
    map. Both communities' nodes are in the one dataset, the node both list
    (ge-musterstrasse-01, 4 m apart) once; no MAC, IP address, node id or
    e-mail of either document reaches the CSV or the GeoJSON."""
    names = ("hopglass_nodes.json", "olsr_map.json")
    make(make_source, [serve(httpserver, name) for name in names])
    result = harvest("wlan")
    assert result.errors == [] and result.counts == {"added": 1}

    dataset = helpers.call_action("package_show", id=NAME)
    files = files_of(dataset)
    rows = list(csv.DictReader(files["CSV"].splitlines()))
    hotspot_names = [row["name"] for row in rows]
    assert {"ge-beispielweg-02", "ge-marktplatz-05"} <= set(hotspot_names)  # hopglass
    assert "ge-rathausplatz-02" in hotspot_names  # OLSR
    assert hotspot_names.count("ge-musterstrasse-01") == 1  # in both
    # hopglass 4 rows, OLSR 3, one hotspot in both
    assert dataset["hotspot_count"] == len(rows) == 6
    assert {row["source"] for row in rows} == {"freifunk"}
    assert len(json.loads(files["GeoJSON"])["features"]) == 6

    for name in names:
        raw = (FIXTURES / name).read_text(encoding="utf-8")
        for text in files.values():
            assert leaked(raw, text) == set()
    for text in files.values():
        assert find_private(text) == []


def test_an_empty_feature_collection_publishes_nothing(make_source, harvest, httpserver):
    empty = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    make(make_source, [serve(httpserver, "leer.geojson", empty)])
    result = harvest("wlan")
    assert result.counts == {} and "keinen Hotspot im Gebiet" in result.errors[0]


def test_ogc_api_pages_are_followed(make_source, harvest, httpserver):
    page2 = (FIXTURES / "ogcapi_page2.json").read_bytes()
    page1 = json.loads((FIXTURES / "ogcapi_page1.json").read_text(encoding="utf-8"))
    for link in page1.get("links", []):
        if link.get("rel") == "next":
            link["href"] = httpserver.url_for("/items2")
    httpserver.expect_request("/items2").respond_with_data(page2)
    make(make_source, [serve(httpserver, "items1", json.dumps(page1).encode())])
    assert harvest("wlan").errors == []
    dataset = helpers.call_action("package_show", id=NAME)
    expected = len(hotspot_rows.parse(json.dumps(page1).encode(), salt="x").rows) + \
        len(hotspot_rows.parse(page2, salt="x").rows)
    assert dataset["hotspot_count"] == expected


def test_a_second_unchanged_run_writes_nothing(make_source, harvest, httpserver):
    make(make_source, [serve(httpserver, "stadt_hotspots_epsg25832.csv")])
    harvest("wlan")
    before = helpers.call_action("package_show", id=NAME)["metadata_modified"]
    assert harvest("wlan").counts == {"not modified": 1}
    assert helpers.call_action("package_show", id=NAME)["metadata_modified"] == before


def test_projected_values_in_degree_columns_stop_the_run(make_source, harvest, httpserver):
    """EPSG:25832 metres where the list promises degrees: the job names the
    row and publishes nothing (a half-right map would mislead)."""
    bad = ("ID;Name;Art;PLZ;Ort;Strasse;Stadtteil;Breite;Länge\r\n"
           "1;Beispiel-Hotspot (synthetisch);WLAN;45879;Gelsenkirchen;Weg 1;Altstadt;"
           "5708000;368000\r\n").encode("cp1252")
    make(make_source, [serve(httpserver, "liste.csv", bad)])
    result = harvest("wlan")
    assert result.counts == {} and "Zeile" in result.errors[0]
    assert "EPSG:25832" in result.errors[0]
    assert helpers.call_action("package_list") == ["wlan"]


def test_a_300_mb_response_stops_the_run(make_source, harvest, httpserver):
    from werkzeug import Response

    chunk = b'{"type": "FeatureCollection", "features": [' + b" " * (1024 * 1024)

    def huge(request):
        return Response((chunk for _ in range(300)), content_type="application/geo+json")
    httpserver.expect_request("/gross.geojson").respond_with_handler(huge)
    make(make_source, [httpserver.url_for("/gross.geojson")])
    result = harvest("wlan")
    assert result.counts == {} and "größer als die erlaubten 50.0 MB" in result.errors[0]
