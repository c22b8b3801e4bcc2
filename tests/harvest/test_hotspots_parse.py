"""The hotspot parsers: the city's list (EPSG:25832 or WGS84), GeoJSON and
OGC API pages, Freifunk meshviewer/ffmap/hopglass files, the OLSR node map
and Overpass JSON become rows of ``hotspots.json`` that frictionless accepts,
without any personal data; rows of several sources merge into one per
hotspot. No database: pure parsing.

Fixtures: ``fixtures/wifi/README.md`` lists them; all data is synthetic."""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pytest
from fixture_addresses import addresses, leaked
from schema_check import assert_valid_rows

from ckanext.vernetztestadt.harvest import formats
from ckanext.vernetztestadt.harvest.formats.hotspot_rows import (
    GELSENKIRCHEN_BBOX,
    HotspotFormatError,
    Parsed,
    detect_format,
    parse,
)
from ckanext.vernetztestadt.harvest.formats.privacy import find_private
from ckanext.vernetztestadt.harvest.harvesters.hotspot_merge import filter_area, in_area, merge

FIXTURES = Path(__file__).parent / "fixtures" / "wifi"
SCHEMA = Path(__file__).parents[2] / "schemas" / "tables" / "hotspots.json"
SALT = "test-salt-synthetisch"
OGC_ITEMS = "https://geodaten.example.invalid/ogcapi/collections/wlan/items"
FIELDS = [field["name"] for field in json.loads(SCHEMA.read_text(encoding="utf-8"))["fields"]]
FREIFUNK_FIXTURES = ("meshviewer.json", "meshviewer_no_locations.json", "ffmap_nodes.json",
                     "hopglass_nodes.json", "hopglass_bad_coordinates.json",
                     "hopglass_huge_numbers.json")
#: hostile documents no parser reads: a cut-off download and an error page
UNREADABLE_FIXTURES = ("hopglass_truncated.json", "olsr_truncated.json",
                       "nodes_error_page.json")
READABLE_FIXTURES = sorted(path.name for path in FIXTURES.iterdir()
                           if path.suffix != ".md" and path.name not in UNREADABLE_FIXTURES)
HOPGLASS_OLSR_FIXTURES = sorted(name for name in READABLE_FIXTURES
                                if name.startswith(("hopglass_", "olsr_")))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def parsed(name: str, fmt: str | None = None, salt: str = SALT, **kwargs: Any) -> Parsed:
    return parse(fixture(name), fmt, salt=salt, **kwargs)


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in rows}


def german_csv(*lines: str) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode("cp1252")


def json_bytes(document: Any) -> bytes:
    return json.dumps(document).encode("utf-8")


def message(error: pytest.ExceptionInfo[HotspotFormatError]) -> str:
    return error.value.message_de


def freifunk_id(node_id: str, salt: str = SALT) -> str:
    return "ff-" + hashlib.sha256((salt + node_id).encode("utf-8")).hexdigest()[:16]


def metres(lat_a: float, lon_a: float, lat_b: float, lon_b: float) -> float:
    """Haversine distance (mean earth radius)."""
    phi_a, phi_b = math.radians(lat_a), math.radians(lat_b)
    h = (math.sin((phi_b - phi_a) / 2) ** 2
         + math.cos(phi_a) * math.cos(phi_b) * math.sin(math.radians(lon_b - lon_a) / 2) ** 2)
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def krueger(easting: float, northing: float) -> tuple[float, float]:
    """(latitude, longitude) of an EPSG:25832 point by the inverse transverse
    Mercator (Krüger series to n³; GRS80, central meridian 9° E, k0 0.9996,
    false easting 500 000 m); ETRS89 taken as WGS84. Independent of pyproj."""
    a, f, k0 = 6_378_137.0, 1 / 298.257222101, 0.9996
    n = f / (2 - f)
    rectifying = a / (1 + n) * (1 + n**2 / 4 + n**4 / 64)
    beta = (n / 2 - 2 * n**2 / 3 + 37 * n**3 / 96, n**2 / 48 + n**3 / 15, 17 * n**3 / 480)
    delta = (2 * n - 2 * n**2 / 3 - 2 * n**3, 7 * n**2 / 3 - 8 * n**3 / 5, 56 * n**3 / 15)
    xi = northing / (k0 * rectifying)
    eta = (easting - 500_000) / (k0 * rectifying)
    xi_ = xi - sum(b * math.sin(2 * j * xi) * math.cosh(2 * j * eta)
                   for j, b in enumerate(beta, 1))
    eta_ = eta - sum(b * math.cos(2 * j * xi) * math.sinh(2 * j * eta)
                     for j, b in enumerate(beta, 1))
    chi = math.asin(math.sin(xi_) / math.cosh(eta_))
    phi = chi + sum(d * math.sin(2 * j * chi) for j, d in enumerate(delta, 1))
    lam = math.radians(9.0) + math.atan2(math.sinh(eta_), math.cos(xi_))
    return math.degrees(phi), math.degrees(lam)


def assert_near(row: dict[str, Any], expected: tuple[float, float], limit: float = 1.0) -> None:
    distance = metres(row["latitude"], row["longitude"], *expected)
    assert distance < limit, (row, expected, distance)


def hotspot(row_id: str, name: str, latitude: float, longitude: float, source: str,
            **fields: Any) -> dict[str, Any]:
    return {"id": row_id, "name": name, "street": None, "postcode": None, "district": None,
            "latitude": latitude, "longitude": longitude, "operator": None, "ssid": None,
            "source": source, "last_seen": None, **fields}


# --- format detection -----------------------------------------------------------


@pytest.mark.parametrize("name, fmt", [
    ("stadt_hotspots_epsg25832.csv", "city_csv"),
    ("stadt_hotspots_wgs84.csv", "city_csv"),
    ("hotspots_plain.geojson", "geojson"),
    ("hotspots_epsg25832.geojson", "geojson"),
    ("ogcapi_page1.json", "geojson"),
    ("ogcapi_page2.json", "geojson"),
    ("meshviewer.json", "meshviewer"),
    ("meshviewer_no_locations.json", "meshviewer"),
    ("ffmap_nodes.json", "ffmap_nodes"),
    ("hopglass_nodes.json", "hopglass"),
    ("hopglass_bad_coordinates.json", "hopglass"),
    ("hopglass_huge_numbers.json", "hopglass"),
    ("olsr_map.json", "olsr"),
    ("olsr_bad_coordinates.json", "olsr"),
    ("olsr_huge_numbers.json", "olsr"),
    ("overpass.json", "overpass"),
])
def test_detect_format(name, fmt):
    assert detect_format(fixture(name)) == fmt
    assert fmt in formats.of_family("hotspots")


def test_detect_ffmap_nodes_as_list():
    document = json.loads(fixture("ffmap_nodes.json"))
    document["nodes"] = list(document["nodes"].values())
    assert detect_format(json_bytes(document)) == "ffmap_nodes"


@pytest.mark.parametrize("document, fmt", [
    ({"version": 2, "nodes": []}, "hopglass"),  # a community without nodes yet
    ({"version": 1, "nodes": []}, "ffmap_nodes"),
    ({"timestamp": "2024-05-01T10:00:00+0200", "nodes": [], "links": []}, "meshviewer"),
    ({"JSON": {"update_seq": 1, "rows": []}}, "olsr"),
])
def test_detect_empty_freifunk_documents(document, fmt):
    assert detect_format(json_bytes(document)) == fmt


def test_detect_hopglass_by_version_and_nodeinfo():
    document = json.loads(fixture("hopglass_nodes.json"))
    document["version"] = 1  # the same nodes in another version are ffmap's
    assert detect_format(json_bytes(document)) == "ffmap_nodes"
    flat = {"version": 2, "nodes": [{"node_id": "x", "hostname": "ge-flach"}], "links": []}
    assert detect_format(json_bytes(flat)) == "meshviewer"


@pytest.mark.parametrize("data, expected", [
    (b"", "Die Datei ist leer"),
    (b"Platz;Stadt;Index\r\n1;Musterstadt (synthetisch);7\r\n", "Unbekanntes Format"),
    (b'{"type": "Topology", "objects": {}}', "Unbekanntes Format"),
    (b"[1, 2, 3]", "Unbekanntes Format"),
    (b'{"features": [', "kein gültiges JSON (Zeile 1"),
    (b'{"JSON": {"update_seq": 1}}', "„JSON.rows“ (OLSR-Karte)"),
    (b'{"nodes": [{"nodeinfo": {}}], "version": 2, "lastseen": ' + b"7" * 5000 + b"}",
     "Die Datei enthält eine Zahl mit zu vielen Ziffern"),
    (b"[" * 100_000 + b"]" * 100_000, "Die Datei ist zu tief verschachtelt"),
])
def test_unknown_formats(data, expected):
    with pytest.raises(HotspotFormatError) as error:
        detect_format(data)
    assert expected in message(error)


@pytest.mark.parametrize("name, fmt, expected", [
    ("hotspots_plain.geojson", "overpass", "Kein Overpass-JSON: das Element „elements“ fehlt"),
    ("overpass.json", "meshviewer", "das Element „nodes“ fehlt"),
    ("stadt_hotspots_wgs84.csv", "geojson", "Erwartet wird JSON"),
    ("meshviewer.json", "city_csv", "Erwartet wird eine CSV-Tabelle"),
    ("meshviewer.json", "kml", "Unbekanntes Format „kml“"),
    ("meshviewer.json", "olsr", "Kein OLSR-JSON: das Element „JSON“ fehlt"),
    ("olsr_map.json", "hopglass", "Kein hopglass-nodes.json: das Element „nodes“ fehlt"),
    ("ffmap_nodes.json", "hopglass", "Kein hopglass-nodes.json: das Element „nodes“ fehlt"),
    ("stadt_hotspots_wgs84.csv", "olsr", "Erwartet wird JSON (olsr), die Datei ist eine Tabelle"),
])
def test_forced_format_must_fit(name, fmt, expected):
    with pytest.raises(HotspotFormatError) as error:
        parsed(name, fmt)
    assert expected in message(error)


def test_forced_format_is_used():
    assert parsed("ogcapi_page2.json", "geojson").rows == parsed("ogcapi_page2.json").rows


def test_salt_is_required():
    with pytest.raises(HotspotFormatError) as error:
        parsed("meshviewer.json", salt="")
    assert "Salz" in message(error)


# --- city list (CSV) --------------------------------------------------------------


def test_city_csv_epsg25832_windows_1252():
    data = fixture("stadt_hotspots_epsg25832.csv")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really is Windows-1252
    result = parse(data, None, salt=SALT)
    assert [row["id"] for row in result.rows] == ["stadt-1001", "stadt-1002", "stadt-1003"]
    assert result.skipped == {"ohne Koordinaten": 1}
    assert result.next_url is None
    first = result.rows[0]
    assert {k: v for k, v in first.items() if k not in ("latitude", "longitude")} == {
        "id": "stadt-1001", "name": "Beispiel-Hotspot Hauptbahnhof (synthetisch)",
        "street": "Musterstraße 1", "postcode": "45879", "district": "Altstadt",
        "operator": None, "ssid": None, "source": "stadt", "last_seen": None}
    assert_near(first, krueger(368000, 5708000))
    rows = by_id(result.rows)
    assert rows["stadt-1002"]["name"] == "Beispiel-Hotspot Bürgerhaus (synthetisch)"
    assert_near(rows["stadt-1002"], krueger(367250.5, 5717480.25))
    # "4589" is no postcode; the street keeps its umlaut
    assert (rows["stadt-1003"]["postcode"], rows["stadt-1003"]["street"]) == (None, "Übungsplatz 3")


@pytest.mark.parametrize("easting, northing", [
    (368000, 5708000), (361500, 5703200), (375900.5, 5724100.25), (500000, 5708000)])
def test_epsg25832_conversion_within_a_metre(easting, northing):
    data = german_csv("ID;Name;X;Y",
                      f"1;Punkt (synthetisch);{str(easting).replace('.', ',')};"
                      f"{str(northing).replace('.', ',')}")
    [row] = parse(data, "city_csv", salt=SALT).rows
    assert_near(row, krueger(easting, northing))
    assert row["latitude"] == round(row["latitude"], 6)


def test_krueger_reference_is_sane():
    # the central meridian at the false easting; Gelsenkirchen near 51.5 N 7.1 E
    assert krueger(500000, 0) == pytest.approx((0.0, 9.0), abs=1e-9)
    latitude, longitude = krueger(368000, 5708000)
    assert (51.4 < latitude < 51.6, 7.0 < longitude < 7.2) == (True, True)


def test_city_csv_wgs84():
    result = parsed("stadt_hotspots_wgs84.csv")
    assert result.skipped == {}
    assert result.rows == [
        {"id": "stadt-2001", "name": "Beispiel-Hotspot Musiktheater (synthetisch)",
         "street": "Musterplatz 2", "postcode": "45879", "district": "Altstadt",
         "latitude": 51.508123, "longitude": 7.097456, "operator": None, "ssid": None,
         "source": "stadt", "last_seen": None},
        {"id": "stadt-2002", "name": "Beispiel-Hotspot Zoo (synthetisch)",
         "street": "Tierparkweg 5", "postcode": "45889", "district": "Bismarck",
         "latitude": 51.540001, "longitude": 7.083002, "operator": None, "ssid": None,
         "source": "stadt", "last_seen": None}]


@pytest.mark.parametrize("data", [
    german_csv("ID;Name;lat;lon", "7;Punkt (synthetisch);51,5081234;7,0974561"),
    german_csv("id;name;latitude;longitude", "7;Punkt (synthetisch);51.5081234;7.0974561"),
    b"ID,Name,Breite,L\xc3\xa4nge\n7,Punkt (synthetisch),51.5081234,7.0974561\n",
    german_csv("Kennung;Bezeichnung;Breitengrad;Längengrad;SSID;Betreiber",
               "7;Punkt (synthetisch);51,5081234;7,0974561;Beispiel-Netz;Beispiel AG"),
])
def test_city_csv_degree_headers(data):
    [row] = parse(data, None, salt=SALT).rows
    assert (row["id"], row["latitude"], row["longitude"]) == ("stadt-7", 51.508123, 7.097456)


@pytest.mark.parametrize("lines, expected", [
    (["ID;Name;X;Y", "1;Punkt (synthetisch);7,0979;51,5077"],
     "Zeile 2: Koordinaten sehen nach Grad (WGS84) aus, stehen aber in den "
     "EPSG:25832-Spalten „X“/„Y“"),
    (["ID;Name;Breite;Länge", "1;Punkt (synthetisch);51,5077;7,0979",
      "2;Punkt (synthetisch);5708000;368000"],
     "Zeile 3: Koordinaten sehen nach EPSG:25832 aus, stehen aber in Grad-Spalten "
     "„Breite“/„Länge“"),
    (["ID;Name;lat;lon", "1;Punkt (synthetisch);7.0979;51.5077"],
     "Zeile 2: Breite und Länge sind offenbar vertauscht (Breite 7,0979, Länge 51,5077)"),
    (["ID;Name;Breite;Länge", "", "4;Punkt (synthetisch);7,0979;51,5077"],
     "Zeile 3: Breite und Länge sind offenbar vertauscht"),
    (["ID;Name;X;Y", "1;Punkt (synthetisch);5708000;368000"],
     "Zeile 2: X und Y sind offenbar vertauscht"),
    (["ID;Name;Breite;Länge", "1;Punkt (synthetisch);95,1;7,1"],
     "Zeile 2: Koordinaten (Breite 95,1, Länge 7,1) sind keine gültigen Grad-Angaben"),
    (["ID;Name;X;Y", "1;Punkt (synthetisch);k. A.;5708000"], "Zeile 2: X „k. A.“ ist keine Zahl"),
    (["Name;X;Y", "Punkt (synthetisch);368000;5708000"], "Die Spalte „ID“ fehlt"),
    (["ID;Name;X;Y;X", "1;Punkt (synthetisch);368000;5708000;1"], "„X“ kommt mehrfach vor"),
])
def test_city_csv_guards(lines, expected):
    with pytest.raises(HotspotFormatError) as error:
        parse(german_csv(*lines), None, salt=SALT)
    assert expected in message(error), message(error)


def test_city_csv_rows_without_id_or_coordinates_are_counted():
    result = parse(german_csv("ID;Name;X;Y", ";Ohne Kennung (synthetisch);368000;5708000",
                              "2;Ohne X (synthetisch);;5708000", "3;;368000;5708000",
                              "3;Doppelt (synthetisch);368001;5708001"), None, salt=SALT)
    assert result.skipped == {"ohne Kennung": 1, "ohne Koordinaten": 1, "doppelte Kennung": 1}
    assert [(row["id"], row["name"]) for row in result.rows] == [
        ("stadt-3", "WLAN-Hotspot stadt-3")]


# --- GeoJSON, OGC API Features ------------------------------------------------------


def test_geojson_plain():
    result = parsed("hotspots_plain.geojson")
    assert result.skipped == {"ohne Geometrie": 1}
    assert result.next_url is None
    rows = by_id(result.rows)
    assert rows["geo-hs-1"] == {
        "id": "geo-hs-1", "name": "Beispiel-Hotspot Rathaus (synthetisch)",
        "street": "Musterstraße 5", "postcode": "45879", "district": "Altstadt",
        "latitude": 51.5102, "longitude": 7.1001,
        "operator": "Beispiel-Betreiber GmbH (synthetisch)", "ssid": "Beispiel-WLAN",
        "source": "geojson", "last_seen": None}
    # "hs/4 ä" is cut to the id pattern
    assert rows["geo-hs-4"]["name"] == "Beispiel-Hotspot Nachbarstadt (synthetisch)"
    [nameless] = [row for row in result.rows if row["id"] not in ("geo-hs-1", "geo-hs-4")]
    assert nameless["name"] == "Beispiel-Hotspot Marktplatz (synthetisch)"
    assert (nameless["postcode"], nameless["district"], nameless["ssid"]) == ("45894", "Buer",
                                                                               None)


def test_geojson_without_feature_id_gets_a_stable_salted_id():
    def nameless_id(salt: str) -> str:
        [row_id] = [row["id"] for row in parsed("hotspots_plain.geojson", salt=salt).rows
                    if row["id"] not in ("geo-hs-1", "geo-hs-4")]
        return row_id

    assert nameless_id(SALT) == nameless_id(SALT)
    assert nameless_id(SALT) != nameless_id("anderes-salz")
    assert len(nameless_id(SALT)) == len("geo-") + 16


def test_geojson_legacy_crs_epsg25832():
    result = parsed("hotspots_epsg25832.geojson")
    rows = by_id(result.rows)
    assert list(rows) == ["geo-wlan.1", "geo-wlan.2"]
    station = rows["geo-wlan.1"]
    assert_near(station, krueger(368000, 5708000))
    assert_near(rows["geo-wlan.2"], krueger(366500, 5711000))
    assert (station["name"], station["operator"], station["street"], station["postcode"],
            station["district"], station["source"]) == (
        "Beispiel-Hotspot Hauptbahnhof (synthetisch)", "Beispiel-Stadtwerke (synthetisch)",
        "Musterstraße 1", "45879", "Altstadt", "geojson")


@pytest.mark.parametrize("crs", [
    "urn:ogc:def:crs:OGC:1.3:CRS84", "EPSG:4326", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"])
def test_geojson_declared_wgs84(crs):
    document = json.loads(fixture("hotspots_plain.geojson"))
    document["crs"] = {"type": "name", "properties": {"name": crs}}
    assert parse(json_bytes(document), None, salt=SALT).rows == parsed(
        "hotspots_plain.geojson").rows


def feature_collection(*coordinates: list[float], **members: Any) -> bytes:
    return json_bytes({"type": "FeatureCollection", **members, "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": c},
         "properties": {"name": "Punkt (synthetisch)"}} for c in coordinates]})


@pytest.mark.parametrize("data, expected", [
    (feature_collection([7.1, 51.5], [368000.0, 5708000.0]),
     "Feature 2: Koordinaten sehen nach EPSG:25832 aus"),
    (feature_collection([51.5, 7.1]), "Feature 1: Breite und Länge sind offenbar vertauscht"),
    (feature_collection([7.1, 51.5], crs={"type": "name",
                                          "properties": {"name": "EPSG:25832"}}),
     "Feature 1: Koordinaten sehen nach Grad (WGS84) aus"),
    (feature_collection([7.1, 51.5], crs={"type": "name",
                                          "properties": {"name": "EPSG:3857"}}),
     "Das Koordinatensystem „EPSG:3857“ wird nicht unterstützt"),
])
def test_geojson_guards(data, expected):
    with pytest.raises(HotspotFormatError) as error:
        parse(data, None, salt=SALT)
    assert expected in message(error), message(error)


def test_geojson_skips_what_is_no_point():
    data = json_bytes({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": None, "properties": {}},
        {"type": "Feature", "properties": {"name": "ohne (synthetisch)"}},
        {"type": "Feature",
         "geometry": {"type": "LineString", "coordinates": [[7, 51], [7.1, 51]]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": []}},
        {"type": "Feature", "id": "mp", "geometry": {"type": "MultiPoint",
                                                     "coordinates": [[7.1, 51.5]]}},
    ]})
    result = parse(data, None, salt=SALT)
    assert result.skipped == {"ohne Geometrie": 2, "keine Punktgeometrie": 1,
                              "ohne Koordinaten": 1}
    assert [(row["id"], row["name"]) for row in result.rows] == [("geo-mp", "WLAN-Hotspot mp")]


def test_empty_feature_collection():
    result = parse(b'{"type": "FeatureCollection", "features": []}', None, salt=SALT)
    assert (result.rows, result.skipped, result.next_url) == ([], {}, None)


def test_ogc_api_pages_follow_next():
    first = parsed("ogcapi_page1.json", source_url=f"{OGC_ITEMS}?f=json&limit=2")
    # the JSON "next" link, resolved against the page's own address
    assert first.next_url == f"{OGC_ITEMS}?f=json&limit=2&offset=2"
    second = parsed("ogcapi_page2.json", source_url=first.next_url)
    assert second.next_url is None
    rows = first.rows + second.rows
    assert [row["id"] for row in rows] == ["geo-1", "geo-2", "geo-3"]
    assert {row["source"] for row in rows} == {"ogcapi"}
    assert len(rows) == json.loads(fixture("ogcapi_page1.json"))["numberMatched"]
    assert (rows[0]["name"], rows[0]["ssid"], rows[0]["district"]) == (
        "Beispiel-Hotspot Heinrich-Platz (synthetisch)", "Beispiel-Frei", "Altstadt")


def test_next_link_absolute_stays():
    data = feature_collection([7.1, 51.5], links=[
        {"rel": "next", "href": "https://andere.example.invalid/items?page=2"}])
    result = parse(data, None, salt=SALT, source_url=OGC_ITEMS)
    assert result.next_url == "https://andere.example.invalid/items?page=2"
    assert result.rows[0]["source"] == "ogcapi"


# --- Freifunk ---------------------------------------------------------------------


def test_meshviewer():
    result = parsed("meshviewer.json")
    assert result.skipped == {"ohne Standort": 2}  # no location, and 0/0
    assert len(result.rows) == 6
    rows = by_id(result.rows)
    assert rows[freifunk_id("020000000001")] == {
        "id": freifunk_id("020000000001"), "name": "ffge-beispiel-cafe", "street": None,
        "postcode": None, "district": None, "latitude": 51.5123, "longitude": 7.0987,
        "operator": "Freifunk ffge_sued", "ssid": None, "source": "freifunk",
        "last_seen": "2024-05-01"}
    without_domain = rows[freifunk_id("020000000007")]
    assert (without_domain["operator"], without_domain["last_seen"]) == ("Freifunk",
                                                                        "2024-04-30")


@pytest.mark.parametrize("node", ["020000000002", "020000000003", "020000000004",
                                  "020000000007", "020000000008"])
def test_meshviewer_hostnames_with_addresses_are_replaced(node):
    row = by_id(parsed("meshviewer.json").rows)[freifunk_id(node)]
    assert row["name"] == f"Freifunk-Knoten {freifunk_id(node)[3:11]}"


def test_meshviewer_without_locations():
    result = parsed("meshviewer_no_locations.json")
    assert result.rows == []
    assert result.skipped == {"ohne Standort": 3}


def test_ffmap_nodes():
    result = parsed("ffmap_nodes.json")
    assert result.skipped == {"ohne Standort": 1}
    assert result.rows == [
        {"id": freifunk_id("020000000011"), "name": "ffge-beispiel-buecherei", "street": None,
         "postcode": None, "district": None, "latitude": 51.5402, "longitude": 7.0601,
         "operator": "Freifunk", "ssid": None, "source": "freifunk", "last_seen": "2016-05-01"},
        {"id": freifunk_id("020000000012"),
         "name": f"Freifunk-Knoten {freifunk_id('020000000012')[3:11]}", "street": None,
         "postcode": None, "district": None, "latitude": 51.5503, "longitude": 7.0702,
         "operator": "Freifunk", "ssid": None, "source": "freifunk", "last_seen": "2016-05-01"}]


def test_ffmap_nodes_as_list():
    document = json.loads(fixture("ffmap_nodes.json"))
    document["nodes"] = list(document["nodes"].values())
    assert parse(json_bytes(document), None, salt=SALT) == parsed("ffmap_nodes.json")


def test_freifunk_ids_depend_on_the_salt():
    ids = [row["id"] for row in parsed("meshviewer.json").rows]
    assert ids == [row["id"] for row in parsed("meshviewer.json").rows]
    assert set(ids).isdisjoint(row["id"] for row in parsed("meshviewer.json",
                                                            salt="anderes-salz").rows)


def freifunk_row(key: str, name: str, latitude: float, longitude: float, last_seen: str,
                 operator: str = "Freifunk") -> dict[str, Any]:
    return hotspot(freifunk_id(key), name, latitude, longitude, "freifunk", operator=operator,
                   last_seen=last_seen)


def test_hopglass():
    result = parsed("hopglass_nodes.json")
    assert result.skipped == {"ohne Standort": 1}  # ge-ohne-standort-03
    assert result.rows == [
        freifunk_row("020000000021", "ge-musterstrasse-01", 51.5201, 7.0851, "2024-05-01",
                     "Freifunk ffge_nord"),
        # offline (flags.online false) is still a hotspot: last_seen says since when;
        # no domain_code, so no community in the operator
        freifunk_row("020000000022", "ge-beispielweg-02", 51.5432, 7.1123, "2024-04-20"),
        # the hostname is an IPv4 address
        freifunk_row("020000000024", f"Freifunk-Knoten {freifunk_id('020000000024')[3:11]}",
                     51.4987, 7.0412, "2024-05-01", "Freifunk ffge_nord"),
        freifunk_row("020000000025", "ge-marktplatz-05", 51.5756, 7.0489, "2024-04-30",
                     "Freifunk ffge_nord")]


def test_hopglass_reads_like_ffmap():
    """hopglass' nodes.json is ffmap's version 2: the same nodes give the same rows."""
    document = json.loads(fixture("hopglass_nodes.json"))
    document["version"] = 1
    assert parse(json_bytes(document), None, salt=SALT) == parsed("hopglass_nodes.json")


def test_hopglass_bad_coordinates():
    result = parsed("hopglass_bad_coordinates.json")
    # latitude 95,5; "k. A.", 0/0 and a list instead of an object
    assert result.skipped == {"unplausible Koordinaten": 1, "ohne Standort": 3}
    rows = {row["name"]: row for row in result.rows}
    assert (rows["ge-komma-06"]["latitude"], rows["ge-komma-06"]["longitude"]) == (51.5301,
                                                                                   7.0701)
    # swapped but valid degrees: a place far away, which the area filter drops
    kept, dropped = filter_area(result.rows)
    assert ([row["name"] for row in kept], dropped) == (["ge-komma-06"], 1)


def test_hopglass_huge_numbers():
    assert b"1e+308" in fixture("hopglass_huge_numbers.json")
    assert b"9" * 400 in fixture("hopglass_huge_numbers.json")
    result = parsed("hopglass_huge_numbers.json")
    # 1e308 is a number but no latitude; 400 digits are no float at all
    assert result.skipped == {"unplausible Koordinaten": 1, "ohne Standort": 1}
    [row] = result.rows
    # a lastseen of 400 digits is no date: the node stays, its date stays empty
    assert (row["name"], row["last_seen"]) == ("ge-spaeter-03", None)


def test_olsr():
    result = parsed("olsr_map.json")
    assert result.skipped == {"ohne Standort": 1}  # neither geometry nor latlng
    assert result.rows == [
        freifunk_row("ge-musterstrasse-01.olsr", "ge-musterstrasse-01", 51.52013, 7.08514,
                     "2024-05-01"),
        freifunk_row("ge-rathausplatz-02.olsr", "ge-rathausplatz-02", 51.5405, 7.1002,
                     "2024-04-28"),
        # no hostname: the id's host is an IPv4 address, so the name is neutral
        freifunk_row("198.51.100.7.olsr",
                     f"Freifunk-Knoten {freifunk_id('198.51.100.7.olsr')[3:11]}", 51.5597,
                     7.0588, "2024-05-01")]


def olsr_document(*rows: dict[str, Any]) -> bytes:
    return json_bytes({"JSON": {"update_seq": 1, "rows": list(rows)}})


def olsr_entry(host: str, coordinates: list[Any], latlng: list[Any] | None = None,
               **value: Any) -> dict[str, Any]:
    if latlng is not None:
        value["latlng"] = latlng
    return {"id": host, "geometry": {"type": "Point", "coordinates": coordinates},
            "value": value}


def test_olsr_name_from_the_id_and_unix_times():
    [row] = parse(olsr_document(olsr_entry("ge-ohne-namen.olsr", [7.1, 51.5],
                                           mtime=1714550400)), None, salt=SALT).rows
    assert (row["name"], row["last_seen"]) == ("ge-ohne-namen", "2024-05-01")


@pytest.mark.parametrize("latlng, kept", [
    ([51.5000004, 7.1000004], True),  # the same place, rounded otherwise
    ([51.5002, 7.1], False),  # 22 m apart: which one is right?
    ([7.1, 51.5], False),  # written [lon, lat]
])
def test_olsr_geometry_and_latlng_must_agree(latlng, kept):
    result = parse(olsr_document(olsr_entry("ge-probe.olsr", [7.1, 51.5], latlng,
                                            hostname="ge-probe")), None, salt=SALT)
    assert len(result.rows) == kept
    assert result.skipped == ({} if kept else {"widersprüchliche Koordinaten": 1})


def test_olsr_bad_coordinates():
    result = parsed("olsr_bad_coordinates.json")
    assert result.skipped == {"widersprüchliche Koordinaten": 1,  # latlng as [lon, lat]
                              "unplausible Koordinaten": 1,  # latitude 95,2 in both
                              "ohne Standort": 2}  # "k. A."; 0/0
    # without a Point geometry the position is latlng's
    assert [(row["name"], row["latitude"], row["longitude"]) for row in result.rows] == [
        ("ge-nur-latlng-03", 51.5101, 7.0601), ("ge-linie-06", 51.5302, 7.0902)]


def test_olsr_huge_numbers():
    raw = fixture("olsr_huge_numbers.json")
    assert b"1e400" in raw and b"9" * 400 in raw
    result = parsed("olsr_huge_numbers.json")
    # 1e400 (infinite) and 400 digits are no coordinates; 1e308 is no latitude
    assert result.skipped == {"ohne Standort": 2, "unplausible Koordinaten": 1}
    [row] = result.rows
    assert (row["name"], row["last_seen"]) == ("ge-spaeter-04", None)


def test_hopglass_and_olsr_see_the_same_node_once():
    hopglass, olsr = parsed("hopglass_nodes.json").rows, parsed("olsr_map.json").rows
    merged = merge([hopglass, olsr])
    assert len(merged) == len(hopglass) + len(olsr) - 1
    [both] = [row for row in merged if row["name"] == "ge-musterstrasse-01"]
    assert both == hopglass[0]  # the first input's id, position and community


@pytest.mark.parametrize("name", ["hopglass_truncated.json", "olsr_truncated.json"])
@pytest.mark.parametrize("fmt", [None, "hopglass", "olsr"])
def test_truncated_documents_name_where_they_end(name, fmt):
    # the message points just past the last character the download still has
    raw = fixture(name).decode("utf-8").rstrip()
    last_line, last_column = raw.count("\n") + 1, len(raw.rsplit("\n", 1)[-1]) + 1
    with pytest.raises(HotspotFormatError) as error:
        parsed(name, fmt)
    assert message(error) == (f"Die Datei ist kein gültiges JSON (Zeile {last_line}, "
                              f"Spalte {last_column}).")


@pytest.mark.parametrize("fmt", [None, "hopglass", "olsr"])
def test_an_html_page_is_no_hotspot_list(fmt):
    with pytest.raises(HotspotFormatError) as error:
        parsed("nodes_error_page.json", fmt)
    assert message(error) == ("Die Datei ist eine HTML- oder XML-Seite, keine Hotspot-Liste "
                              "(erwartet wird JSON oder CSV).")


def test_olsr_without_rows_is_an_error():
    with pytest.raises(HotspotFormatError) as error:
        parse(b'{"JSON": {"update_seq": 1}}', "olsr", salt=SALT)
    assert message(error) == "Kein OLSR-JSON: das Element „rows“ fehlt."


# --- OpenStreetMap (Overpass) -------------------------------------------------------


def test_overpass():
    result = parsed("overpass.json")
    assert result.skipped == {"ohne WLAN-Zugang": 1, "ohne Koordinaten": 1}
    rows = by_id(result.rows)
    assert list(rows) == ["osm-node-1000000001", "osm-way-2000000002", "osm-node-1000000004"]
    assert rows["osm-node-1000000001"] == {
        "id": "osm-node-1000000001", "name": "Beispiel-Café (synthetisch)",
        "street": "Musterstraße 9", "postcode": "45879", "district": None,
        "latitude": 51.50505, "longitude": 7.10234,
        "operator": "Beispiel-Betreiber (synthetisch)", "ssid": "Beispiel-Gast",
        "source": "osm", "last_seen": "2024-04-02"}
    way = rows["osm-way-2000000002"]
    assert (way["name"], way["latitude"], way["longitude"]) == (
        "Beispiel-Bibliothek (synthetisch)", 51.5721, 7.0522)
    assert rows["osm-node-1000000004"]["name"] == "WLAN-Hotspot (OSM node 1000000004)"


# --- privacy ----------------------------------------------------------------------


@pytest.mark.parametrize("name", READABLE_FIXTURES)
def test_no_private_data_in_any_row(name):
    rows = parsed(name, source_url=OGC_ITEMS).rows
    for row in rows:
        for value in row.values():
            assert find_private(str(value)) == [], (row, value)


@pytest.mark.parametrize("name", FREIFUNK_FIXTURES)
def test_freifunk_node_data_is_not_published(name):
    published = json.dumps(parsed(name).rows)
    raw = fixture(name).decode("utf-8")
    assert "@example.invalid" in raw and "02:00:00:00:00:" in raw  # the fixture has them
    for secret in ("0200000000", "02:00:00", "example.invalid", "2001:db8", "192.0.2"):
        assert secret not in published


@pytest.mark.parametrize("name", HOPGLASS_OLSR_FIXTURES)
def test_no_address_of_a_hopglass_or_olsr_fixture_is_in_its_rows(name):
    """Every MAC, IP address, node id and e-mail of the fixture (links,
    interfaces, gateways, owners, hostnames) is absent from the output."""
    raw = fixture(name).decode("utf-8")
    result = parsed(name)
    output = json.dumps([result.rows, result.skipped], ensure_ascii=False)
    assert addresses(raw)  # the fixture holds some
    assert leaked(raw, output) == set()
    assert find_private(output) == []
    assert "ge-nachbar" not in output  # nothing of a link is read


def test_the_address_finder_sees_the_fixture_addresses():
    found = addresses(fixture("olsr_map.json").decode("utf-8")) | addresses(
        fixture("hopglass_nodes.json").decode("utf-8"))
    assert {"02:00:00:00:10:01", "198.51.100.1", "192.0.2.1", "2001:db8:0:10::1",
            "02:00:00:00:0f:01", "020000000021", "fe80::ff:fe00:21",
            "owner21@example.invalid", "198.51.100.24"} <= found


def test_find_private_detects_each_kind():
    probe = ("Kontakt owner@example.invalid, MAC 02:00:00:00:00:01, "
             "IPv4 192.0.2.1, IPv6 2001:db8::1")
    assert find_private(probe) == ["owner@example.invalid", "02:00:00:00:00:01",
                                   "192.0.2.1", "2001:db8::1"]


@pytest.mark.parametrize("text", [
    "02-00-00-00-00-01", "0200.0000.0001", "ffge-020000000001", "owner (at) example.invalid",
    "fe80::1", "2001:db8:0:0:0:0:0:1", "::ffff:192.0.2.1", "http://192.0.2.10/admin"])
def test_find_private_forms(text):
    assert find_private(text)


@pytest.mark.parametrize("text", [
    "2024-05-01", "12:30:00", "51.507694", "7.097933", "Musterstraße 12", "45879",
    "ff-2df878d86ca4d55b", "osm-node-1000000001", "Firmware v2023.2.1", "geo-wlan.1",
    "Freifunk ffge_sued", "Beispiel-Hotspot Hauptbahnhof (synthetisch)"])
def test_find_private_leaves_ordinary_values(text):
    assert find_private(text) == []


def test_private_ids_are_replaced():
    data = json_bytes({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "02:00:00:00:00:31",
         "geometry": {"type": "Point", "coordinates": [7.1, 51.5]},
         "properties": {"name": "Router 192.0.2.31", "operator": "owner@example.invalid"}}]})
    [row] = parse(data, None, salt=SALT).rows
    assert row["id"].startswith("geo-") and find_private(row["id"]) == []
    assert row["name"].startswith("WLAN-Hotspot ") and row["operator"] is None


# --- area -------------------------------------------------------------------------


def test_area_filter_drops_a_point_outside():
    rows = parsed("hotspots_plain.geojson").rows
    kept, dropped = filter_area(rows, GELSENKIRCHEN_BBOX)
    assert dropped == 1
    assert sorted(row["id"] for row in kept) == sorted(
        row["id"] for row in rows if row["id"] != "geo-hs-4")
    assert filter_area(rows) == (kept, dropped)  # Gelsenkirchen is the default


@pytest.mark.parametrize("latitude, longitude, inside", [
    (51.5, 7.1, True), (51.47, 6.97, True), (51.64, 7.17, True), (51.4556, 7.0116, False),
    (51.5, 7.2, False), (7.1, 51.5, False)])
def test_in_area(latitude, longitude, inside):
    row = hotspot("x", "Punkt (synthetisch)", latitude, longitude, "osm")
    assert in_area(row, GELSENKIRCHEN_BBOX) is inside


# --- merging sources --------------------------------------------------------------


def station_sources() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The same station in the city's list and in OSM, about 10 m apart."""
    city = parse(german_csv("ID;Name;PLZ;Stadtteil;X;Y",
                            "1001;Hauptbahnhof;45879;Altstadt;368000;5708000"),
                 None, salt=SALT).rows
    north = city[0]["latitude"] + 10 / 111_195
    osm = parse(json_bytes({"elements": [
        {"type": "node", "id": 42, "lat": north, "lon": city[0]["longitude"],
         "tags": {"name": "WLAN Hauptbahnhof Gelsenkirchen", "internet_access": "wlan",
                  "internet_access:ssid": "Beispiel-Bahnhof", "operator": "Beispiel AG"}}]}),
        None, salt=SALT).rows
    return city, osm


def test_merge_same_hotspot_from_city_and_osm():
    city, osm = station_sources()
    distance = metres(city[0]["latitude"], city[0]["longitude"], osm[0]["latitude"],
                      osm[0]["longitude"])
    assert 9.5 < distance < 10.5
    [row] = merge([city, osm])
    assert row == {**city[0], "source": "osm|stadt", "ssid": "Beispiel-Bahnhof",
                   "operator": "Beispiel AG"}
    # the first input decides the id and the position
    [reverse] = merge([osm, city])
    assert (reverse["id"], reverse["latitude"], reverse["postcode"], reverse["source"]) == (
        "osm-node-42", osm[0]["latitude"], "45879", "osm|stadt")


def test_merge_does_not_change_its_input():
    city, osm = station_sources()
    before = json.dumps([city, osm])
    merge([city, osm])
    assert json.dumps([city, osm]) == before


def test_merge_keeps_different_hotspots_nearby():
    library = hotspot("stadt-1", "Stadtbibliothek", 51.5, 7.1, "stadt")
    theatre = hotspot("osm-node-2", "Musiktheater im Revier", 51.5 + 15 / 111_195, 7.1, "osm")
    assert [row["id"] for row in merge([[library], [theatre]])] == ["osm-node-2", "stadt-1"]


def test_merge_name_rules():
    base = hotspot("stadt-1", "Café Müller-Platz", 51.5, 7.1, "stadt")

    def merged_with(name: str, metres_north: float = 10) -> int:
        other = hotspot("osm-node-1", name, 51.5 + metres_north / 111_195, 7.1, "osm")
        return len(merge([[base], [other]]))

    assert merged_with("CAFE MUELLER PLATZ") == 1  # case, umlauts, punctuation
    assert merged_with("Müller-Platz") == 1  # one contains the other
    assert merged_with("Café am Müller-Platz Gelsenkirchen") == 1  # token overlap
    assert merged_with("WLAN-Hotspot (OSM node 1)") == 1  # generic
    assert merged_with("") == 1
    assert merged_with("Sporthalle Nord") == 2
    assert merged_with("Café Müller-Platz", metres_north=30) == 2  # too far


def test_merge_never_joins_rows_of_one_input():
    a = hotspot("ff-1", "Freifunk-Knoten aaaaaaaa", 51.5, 7.1, "freifunk")
    b = hotspot("ff-2", "Freifunk-Knoten bbbbbbbb", 51.5 + 5 / 111_195, 7.1, "freifunk")
    assert len(merge([[a, b]])) == 2


def test_merge_same_id_and_sources_without_duplicates():
    a = hotspot("geo-1", "Schwimmbad", 51.5, 7.1, "ogcapi")
    again = hotspot("geo-1", "Schwimmbad", 51.5, 7.1, "ogcapi", ssid="Bad")
    merged = hotspot("geo-2", "Schwimmbad", 51.5, 7.1, "osm|stadt")
    [row] = merge([[a], [again], [merged]])
    assert (row["id"], row["ssid"], row["source"]) == ("geo-1", "Bad", "ogcapi|osm|stadt")


def test_merge_ten_thousand_nodes():
    step_lat, step_lon = 100 / 111_195, 100 / (111_195 * math.cos(math.radians(51.55)))
    grid = [(51.47 + (i // 100) * step_lat, 6.97 + (i % 100) * step_lon) for i in range(10_000)]
    city = [hotspot(f"stadt-{i}", f"Standort {i}", lat, lon, "stadt")
            for i, (lat, lon) in enumerate(grid)]
    freifunk = [hotspot(f"ff-{i}", f"WLAN Standort {i}", lat + 10 / 111_195, lon, "freifunk")
                for i, (lat, lon) in enumerate(grid)]
    others = [hotspot(f"osm-node-{i}", "Musiktheater", lat + 15 / 111_195, lon, "osm")
              for i, (lat, lon) in enumerate(grid[:500])]
    rows = merge([city, freifunk, others])
    assert len(rows) == 10_500
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    assert sum(row["source"] == "freifunk|stadt" for row in rows) == 10_000
    assert sum(row["source"] == "osm" for row in rows) == 500


# --- the rows fit the Table Schema --------------------------------------------------


def all_fixture_rows() -> list[dict[str, Any]]:
    return [row for name in READABLE_FIXTURES
            for row in parsed(name, source_url=OGC_ITEMS).rows]


def merged_fixture_rows() -> list[dict[str, Any]]:
    names = ("stadt_hotspots_epsg25832.csv", "hotspots_epsg25832.geojson", "overpass.json",
             "meshviewer.json", "hopglass_nodes.json", "olsr_map.json")
    return merge([parsed(name).rows for name in names])


@pytest.mark.parametrize("rows", [
    pytest.param(all_fixture_rows, id="every-fixture"),
    pytest.param(merged_fixture_rows, id="merged"),
])
def test_rows_pass_frictionless(tmp_path, rows):
    assert_valid_rows(tmp_path, rows(), "hotspots")


def test_merged_fixtures_join_the_station():
    rows = by_id(merged_fixture_rows())
    # city list and the city's GeoJSON name the same synthetic station
    assert rows["stadt-1001"]["source"] == "geojson|stadt"
    assert "geo-wlan.1" not in rows


def test_names_are_cut_to_the_schema():
    long_name = "Beispiel " * 40
    data = german_csv("ID;Name;Breite;Länge", f"1;{long_name};51,5;7,1")
    [row] = parse(data, None, salt=SALT).rows
    assert len(row["name"]) <= 200 and row["name"] == row["name"].strip()
