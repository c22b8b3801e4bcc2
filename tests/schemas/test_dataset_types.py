"""The four dataset types through CKAN's API: schema listing, round trips,
facets, and field errors for bad input."""
from __future__ import annotations

import json

import pytest
from ckan.tests import factories
from schema_examples import GE_POLYGON, TYPE_FIELDS, example

pytestmark = [
    pytest.mark.usefixtures("clean_db", "clean_index"),
    # their CSV resources point at made-up URLs; the gate has tests/validation
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]

TYPES = list(TYPE_FIELDS)


@pytest.fixture
def sysadmin_headers():
    user = factories.SysadminWithToken()
    return {"Authorization": user["token"]}


def api(app, action: str, headers: dict | None = None, status: int = 200, **data) -> dict:
    res = app.post(f"/api/3/action/{action}", json=data, headers=headers or {}, status=status)
    return res.json


def test_schema_list_has_the_four_types(app):
    result = api(app, "scheming_dataset_schema_list")["result"]
    assert sorted(result) == sorted(TYPES)


@pytest.mark.parametrize("dataset_type", TYPES)
def test_schema_show_has_german_labels(app, dataset_type):
    schema = api(app, "scheming_dataset_schema_show", type=dataset_type)["result"]
    labels = {f["field_name"]: f["label"] for f in schema["dataset_fields"]}
    assert labels["title"]["de"] == "Titel"
    assert labels["ags"]["de"] == "Amtlicher Gemeindeschlüssel (AGS)"
    assert labels["title"]["en"] == "Title"
    resource_fields = {f["field_name"] for f in schema["resource_fields"]}
    assert {"table_schema", "csv_delimiter", "csv_decimal_char", "encoding",
            "validation_status"} <= resource_fields


def _normalise(value):
    """Stored GeoJSON comes back as compact JSON text; compare parsed."""
    if isinstance(value, str) and value.startswith("{"):
        return json.loads(value)
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


@pytest.mark.search  # indexes every field of each type
@pytest.mark.parametrize("dataset_type", TYPES)
def test_complete_example_round_trips(app, sysadmin_headers, city_org, dataset_type):
    sent = example(dataset_type)
    sent["owner_org"] = city_org["id"]
    api(app, "package_create", sysadmin_headers, **sent)
    shown = api(app, "package_show", sysadmin_headers, id=sent["name"])["result"]
    for key, value in sent.items():
        if key in ("tag_string", "owner_org", "resources"):
            continue
        got = shown[key]
        if key == "theme":
            got, value = sorted(got), sorted(value)
        if key == "spatial_coverage":
            value = [dict(v, bbox=shown[key][0]["bbox"]) for v in value]
        assert _normalise(got) == _normalise(value), key
    assert sorted(t["name"] for t in shown["tags"]) == ["Internet", "WLAN"]
    for key, value in sent["resources"][0].items():
        assert shown["resources"][0][key] == value, key
    # the bounding box is derived from the geometry
    bbox = json.loads(shown["spatial_coverage"][0]["bbox"])
    assert bbox["type"] == "Polygon"


def test_defaults_for_the_city(app, sysadmin_headers, city_org):
    api(app, "package_create", sysadmin_headers, name="minimal", title="Minimal",
        notes="Nur Pflichtfelder.", owner_org=city_org["id"])
    shown = api(app, "package_show", sysadmin_headers, id="minimal")["result"]
    assert shown["ags"] == "05513000"
    assert shown["license_id"] == "dl-de-by-2.0"
    assert shown["license_attribution"] == "Datenquelle: Stadt Gelsenkirchen"


@pytest.mark.search
def test_found_by_type_theme_licence_and_ags_facets(app, sysadmin_headers, city_org):
    for dataset_type in TYPES:
        sent = example(dataset_type)
        sent["owner_org"] = city_org["id"]
        if dataset_type == "broadband_coverage":
            sent.update(license_id="cc-zero-1.0", ags="05513",
                        theme=["http://publications.europa.eu/resource/authority/data-theme/ECON"])
        api(app, "package_create", sysadmin_headers, **sent)
    facets = ["dataset_type", "vocab_theme", "license_id", "ags"]
    result = api(app, "package_search", **{"facet.field": json.dumps(facets)})["result"]
    assert result["facets"]["dataset_type"] == {t: 1 for t in TYPES}
    assert result["facets"]["license_id"] == {"dl-de-by-2.0": 3, "cc-zero-1.0": 1}
    assert result["facets"]["ags"] == {"05513000": 3, "05513": 1}
    econ = "http://publications.europa.eu/resource/authority/data-theme/ECON"
    assert result["facets"]["vocab_theme"][econ] == 1
    found = api(app, "package_search", fq=f'vocab_theme:"{econ}"')["result"]
    assert [d["name"] for d in found["results"]] == ["broadband-coverage-beispiel"]
    found = api(app, "package_search", fq="dataset_type:smart_city_ranking")["result"]
    assert [d["ranking"] for d in found["results"]] == ["bitkom-smart-city-index"]


BAD_INPUT = [
    ({"ags": "5513000"}, ("ags",), "8 Ziffern"),
    ({"ags": "0551300X"}, ("ags",), "8 Ziffern"),
    ({"temporal_coverage": [{"start": "2025-01-01", "end": "2024-12-31"}]},
     ("temporal_coverage", 0, "end"), "Ende liegt vor dem Beginn"),
    ({"license_id": "proprietaer"}, ("license_id",), "Unbekannte Lizenz"),
    ({"theme": ["http://example.invalid/theme/X"]}, ("theme",), ""),
    ({"spatial_coverage": [{"geom": "{not json"}]}, ("spatial_coverage", 0, "geom"),
     "Keine gültige GeoJSON-Geometrie"),
    ({"spatial_coverage": [{"geom": json.dumps({"type": "Point", "coordinates": [51.5, 7.1]})}]},
     ("spatial_coverage", 0, "geom"), "außerhalb des plausiblen Gebiets"),
    ({"spatial_coverage": [{"geom": json.dumps(
        {"type": "Polygon", "coordinates": [[[7.0, 51.5], [7.1, 51.6], [7.1, 51.5],
                                             [7.0, 51.6], [7.0, 51.5]]]})}]},
     ("spatial_coverage", 0, "geom"), "ungültig"),
    ({"resources": [{"url": "http://example.invalid/a.csv", "table_schema": "{\"fields\": 3}"}]},
     ("resources", 0, "table_schema"), "kein gültiges Table Schema"),
    ({"resources": [{"url": "http://example.invalid/a.csv", "table_schema": "strassen"}]},
     ("resources", 0, "table_schema"), "Unbekanntes Table Schema"),
]


def _error_at(error: dict, path: tuple) -> list[str]:
    node = error
    for step in path:
        node = node[step] if isinstance(step, int) else node.get(step, {})
    return node if isinstance(node, list) else [json.dumps(node, ensure_ascii=False)]


@pytest.mark.parametrize("change, path, message", BAD_INPUT)
def test_bad_input_gives_field_errors_and_saves_nothing(app, sysadmin_headers, city_org,
                                                        change, path, message):
    sent = example("wifi_hotspots", name="kaputt")
    sent.update(change, owner_org=city_org["id"])
    error = api(app, "package_create", sysadmin_headers, status=409, **sent)["error"]
    assert error["__type"] == "Validation Error"
    messages = _error_at(error, path)
    assert messages and any(message in m for m in messages), error
    missing = api(app, "package_show", sysadmin_headers, status=404, id="kaputt")
    assert missing["success"] is False


def test_english_messages_from_the_catalogue(app, sysadmin_headers, city_org):
    sent = example("dataset", name="kaputt-en")
    sent.update(ags="123", owner_org=city_org["id"])
    headers = dict(sysadmin_headers, **{"Accept-Language": "en"})
    res = app.post("/en/api/3/action/package_create", json=sent, headers=headers, status=409)
    assert "8 digits" in res.json["error"]["ags"][0]


def test_polygon_example_is_inside_gelsenkirchen():
    """The fixture geometry itself is plausible (guards the tests above)."""
    xs = [p[0] for p in GE_POLYGON["coordinates"][0]]
    assert 6.9 < min(xs) < max(xs) < 7.2


@pytest.mark.search
def test_spatial_coverage_feeds_the_map_search(app, sysadmin_headers, city_org):
    sent = example("wifi_hotspots")
    sent["owner_org"] = city_org["id"]
    api(app, "package_create", sysadmin_headers, **sent)
    inside = api(app, "package_search", ext_bbox="7.0,51.5,7.1,51.6")["result"]
    assert [d["name"] for d in inside["results"]] == [sent["name"]]
    outside = api(app, "package_search", ext_bbox="13.0,52.0,13.5,52.5")["result"]
    assert outside["count"] == 0


@pytest.mark.search  # the type's search page
@pytest.mark.parametrize(("dataset_type", "german", "english"), [
    ("broadband_coverage", "Breitbandverfügbarkeit", "broadband coverage"),
    ("wifi_hotspots", "Öffentliche WLAN-Hotspots", "public WiFi hotspots"),
])
def test_type_names_in_page_titles_are_readable(app, sysadmin_headers, dataset_type, german,
                                               english):
    """Page titles and breadcrumbs name the type as its schema does, not
    CKAN's "Broadband_Coverage", inside CKAN's sentences too."""
    page = app.get(f"/{dataset_type}/").body
    title = page.split("<title>")[1].split("</title>")[0]
    assert german in title and "_" not in title
    assert english in app.get(f"/en/{dataset_type}/").body.split("</title>")[0]
    breadcrumb = page.split('class="breadcrumb"')[1].split("</ol>")[0]
    assert german in breadcrumb and "_" not in breadcrumb.split("href")[0]
    form = app.get(f"/{dataset_type}/new", headers=sysadmin_headers).body
    assert german in form.split("<title>")[1].split("</title>")[0]
    assert dataset_type.replace("_", " ").capitalize() not in form  # "Wifi hotspots"
