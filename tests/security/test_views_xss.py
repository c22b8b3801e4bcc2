"""Hostile data in the drawn views and the provenance box (issue 12, findings
5, 11 and 12): a hotspot name that is HTML stays text in a real browser's
Leaflet tooltip; a chart's ``series_label`` is a template of named columns,
never a Python format string; ``harvest_provenance`` is written by harvests
only, and odd shapes of it still render."""
from __future__ import annotations

import datetime
import json

import ckan.model as model
import pytest
from ckan.logic import ValidationError
from ckan.tests import factories, helpers

from ckanext.vernetztestadt import charts
from ckanext.vernetztestadt.harvest import publish

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

XSS_NAME = '<img src=x onerror="window.__xss=1">'
HOTSPOTS = ("id,name,street,postcode,district,latitude,longitude,operator,ssid,source,"
            "last_seen\r\n"
            f'h1,"{XSS_NAME.replace(chr(34), chr(34) * 2)}",Platz 1,45879,Altstadt,51.5078,'
            "7.0966,Stadt,GE-WLAN,stadt,2025-06-30\r\n"
            "h2,<b>Hauptbahnhof</b>,Bahnhofsvorplatz,45879,Altstadt,51.5049,7.1025,Stadt,"
            "GE-WLAN,stadt,2025-06-30\r\n")
RANKING = ("edition,area,rank\r\n2020,Gesamt,22\r\n2022,Gesamt,18\r\n"
           "2020,Mobilität,30\r\n2022,Mobilität,12\r\n")
WIFI_FIELDS = {"operator": "Stadt Gelsenkirchen", "network_name": "GE-WLAN",
               "hotspot_count": 2}


# -- fixtures -----------------------------------------------------------------------
@pytest.fixture
def editor() -> dict:
    user = factories.User()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    return {"user": user, "org": org, "context": {"user": user["name"], "ignore_auth": False}}


def upload_dataset(editor: dict, create_with_upload, name: str, data: str, filename: str,
                   dataset_type: str = "dataset", **fields) -> tuple[dict, dict]:
    dataset = helpers.call_action("package_create", context=dict(editor["context"]),
                                  name=name, type=dataset_type, owner_org=editor["org"]["id"],
                                  notes="Test", **fields)
    resource = create_with_upload(data, filename, context=dict(editor["context"]),
                                  package_id=dataset["id"], format="CSV", name=filename)
    return dataset, resource


@pytest.fixture
def hotspot_map(editor, create_with_upload) -> dict:
    dataset, resource = upload_dataset(editor, create_with_upload, "hotspots-xss", HOTSPOTS,
                                       "hotspots.csv", "wifi_hotspots", **WIFI_FIELDS)
    # the upload got CKAN's default map view (a hotspot table): configure it
    view, = [v for v in helpers.call_action("resource_view_list", id=resource["id"])
             if v["view_type"] == "vernetztestadt_map"]
    helpers.call_action("resource_view_update", context=dict(editor["context"]),
                        **{**view, "title": "Karte", "map": json.dumps({"label": "name"})})
    return dataset


@pytest.fixture
def ranking(editor, create_with_upload) -> dict:
    dataset, resource = upload_dataset(editor, create_with_upload, "ranking-labels", RANKING,
                                       "ranking.csv")
    return {"dataset": dataset, "resource": resource}


# -- finding 5: the map's tooltips are text ---------------------------------------------
def test_map_tooltips_show_hostile_names_as_text(live_server, browse, hotspot_map):
    page, _ = browse(live_server)
    page.goto(f"{live_server}/dataset/{hotspot_map['name']}")
    markers = page.locator(".vts-leaflet path.leaflet-interactive")
    markers.nth(1).wait_for()
    assert markers.count() == 2, "Leaflet hat die Punkte nicht gezeichnet"
    texts, elements = [], 0
    for index in range(2):
        markers.nth(index).hover(force=True)
        tooltip = page.locator(".leaflet-tooltip").last
        tooltip.wait_for()
        texts.append(tooltip.inner_text())
        elements += tooltip.locator("img, b").count()
    page.wait_for_timeout(1000)  # the broken image's onerror would fire by now
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert elements == 0 and sorted(texts) == sorted([XSS_NAME, "<b>Hauptbahnhof</b>"])


def _map_state(page) -> dict:
    return page.evaluate("""() => {
        var leaflet = document.querySelector('.vts-leaflet');
        var svg = document.querySelector('svg.vts-dot-map');
        return {leaflet: leaflet ? getComputedStyle(leaflet).visibility : null,
                svg: svg ? getComputedStyle(svg).display : null,
                notice: document.body.innerText.indexOf('No map provider') >= 0};}""")


def test_the_drawn_map_stays_until_a_tile_has_loaded(live_server, browse, hotspot_map,
                                                     ckan_config):
    """Offline first: tiles that fail leave the SVG map; no provider, no Leaflet
    and no English notice; a loaded tile hides the SVG."""
    page, guard = browse(live_server)
    guard.expected_errors.append("/kacheln-fehlen/")  # the missing tiles, on purpose
    address = f"{live_server}/dataset/{hotspot_map['name']}"
    ckan_config["ckanext.spatial.common_map.custom_url"] = \
        live_server + "/kacheln-fehlen/{z}/{x}/{y}.png"
    page.goto(address)
    page.locator(".vts-leaflet img").first.wait_for(state="attached")
    page.wait_for_timeout(1000)
    assert _map_state(page) == {"leaflet": "hidden", "svg": "block", "notice": False}
    ckan_config["ckanext.spatial.common_map.type"] = ""
    page.goto(address)
    page.locator("svg.vts-dot-map").wait_for()
    page.wait_for_timeout(1000)
    assert _map_state(page) == {"leaflet": None, "svg": "block", "notice": False}
    ckan_config["ckanext.spatial.common_map.custom_url"] = \
        live_server + "/kacheln/{z}/{x}/{y}.png"
    ckan_config["ckanext.spatial.common_map.type"] = "custom"
    page.goto(address)
    page.wait_for_function("getComputedStyle(document.querySelector('.vts-leaflet'))"
                           ".visibility === 'visible'")
    assert _map_state(page) == {"leaflet": "visible", "svg": "none", "notice": False}


def test_map_points_reach_the_page_as_escaped_json(app, hotspot_map):
    """The points travel in a data attribute: quotes and brackets escaped, so
    the attribute holds exactly the JSON of the names."""
    page = app.get(f"/dataset/{hotspot_map['name']}").body
    assert XSS_NAME not in page and "<b>Hauptbahnhof</b>" not in page
    attribute = page.split('data-module-points="')[1].split('"')[0]
    from html import unescape

    assert [p[2] for p in json.loads(unescape(attribute))] == [XSS_NAME, "<b>Hauptbahnhof</b>"]


# -- finding 11: series_label is a template of named columns ------------------------------
BAD_LABELS = ["{0}", "{}", "{area:>3000000}", "{area.__class__.__mro__}", "{area[0]}",
              "{area!r}", "Platz {area.__init__.__globals__}"]


def chart(series_label: str | None = None, **extra) -> str:
    config = {"x": "edition", "y": "rank", "invert_y": True, **extra}
    if series_label is not None:
        config["series_label"] = series_label
    return json.dumps(config, ensure_ascii=False)


def store_view_unchecked(resource_id: str, view_type: str, key: str, config: str) -> None:
    """A view as an older version could store it: written past the validator."""
    model.Session.add(model.ResourceView(resource_id=resource_id, view_type=view_type,
                                         title="Alt", order=5, config={key: config}))
    model.Session.commit()


def refusal(excinfo: pytest.ExceptionInfo, key: str) -> str:
    return " ".join(excinfo.value.error_dict[key])


def test_a_format_string_label_is_refused_in_german(editor, ranking):
    for label in BAD_LABELS:
        with pytest.raises(ValidationError) as excinfo:
            helpers.call_action("resource_view_create", context=dict(editor["context"]),
                                resource_id=ranking["resource"]["id"],
                                view_type="vernetztestadt_chart", title="Diagramm",
                                chart=chart(label))
        assert "Im „series_label“ ist nur „{Spalte}“ erlaubt" in refusal(excinfo, "chart"), \
            label
    assert helpers.call_action("resource_view_list", id=ranking["resource"]["id"]) == []


def test_a_stored_format_string_label_stays_text(app, ranking):
    """Views stored before the check: the page answers 200, small, with the
    label as written and nothing of Python's internals."""
    from html import escape

    for label in BAD_LABELS:
        store_view_unchecked(ranking["resource"]["id"], "vernetztestadt_chart", "chart",
                             chart(label))
    response = app.get(f"/dataset/{ranking['dataset']['name']}")
    page = response.body
    assert response.status_code == 200 and len(page) < 500_000
    assert "<class" not in page and "&lt;class" not in page and "__builtins__" not in page
    for label in BAD_LABELS:
        assert f'data-series="{escape(label)}"' in page, label


BAD_CHARTS = [{"x": ["edition"], "y": "rank"}, {"x": "edition", "y": "rank", "where": [1]},
              {"x": "edition", "y": "rank", "where": {"area": "Gesamt"}},
              {"x": "edition", "y": "rank", "value_labels": {"area": 1}},
              {"x": "edition", "y": "rank", "series_label": ["{area}"]},
              {"x": "edition", "y": "rank", "invert_y": "ja"}, [1, 2], "text"]


def test_other_shapes_are_refused_and_stored_ones_draw_nothing(app, editor, ranking):
    for config in BAD_CHARTS:
        with pytest.raises(ValidationError) as excinfo:
            helpers.call_action("resource_view_create", context=dict(editor["context"]),
                                resource_id=ranking["resource"]["id"],
                                view_type="vernetztestadt_chart", title="Diagramm",
                                chart=json.dumps(config))
        assert "Diagramm-Einstellung" in refusal(excinfo, "chart"), config
        store_view_unchecked(ranking["resource"]["id"], "vernetztestadt_chart", "chart",
                             json.dumps(config))
    response = app.get(f"/dataset/{ranking['dataset']['name']}")
    assert response.status_code == 200
    assert response.body.count("Für diese Ressource kann kein Diagramm gezeichnet "
                               "werden.") == len(BAD_CHARTS)


def test_named_columns_fill_the_label_and_nothing_else(app, editor, ranking):
    labels = {"area": {"Gesamt": "Gesamtwertung"}}
    for label in ("{area} ({{Platz}})", "{unbekannt} {area}"):
        helpers.call_action("resource_view_create", context=dict(editor["context"]),
                            resource_id=ranking["resource"]["id"],
                            view_type="vernetztestadt_chart", title=label,
                            chart=chart(label, value_labels=labels))
    page = app.get(f"/dataset/{ranking['dataset']['name']}").body
    assert 'data-series="Gesamtwertung ({Platz})"' in page
    assert 'data-series="Mobilität ({Platz})"' in page
    assert 'data-series="{unbekannt} Gesamtwertung"' in page


def test_the_template_reads_only_the_given_columns():
    values = {"area": "{rank}", "rank": "1"}
    assert charts.fill_template("{area}/{rank}/{{x}}/{x}/{area:>9}", values) == \
        "{rank}/1/{x}/{x}/{area:>9}"  # a value is not scanned again
    assert charts.template_columns("{technology} ≥ {min_mbit} Mbit/s") == \
        ["technology", "min_mbit"]


def test_a_map_config_of_another_shape(app, editor, hotspot_map):
    resource_id = helpers.call_action("package_show", id=hotspot_map["id"])["resources"][0]["id"]
    configs = ["[1]", '{"label": ["name"]}', "kein JSON"]
    for config in configs:
        with pytest.raises(ValidationError) as excinfo:
            helpers.call_action("resource_view_create", context=dict(editor["context"]),
                                resource_id=resource_id, view_type="vernetztestadt_map",
                                title="Karte", map=config)
        assert "Karten-Einstellung" in refusal(excinfo, "map"), config
        store_view_unchecked(resource_id, "vernetztestadt_map", "map", config)
    response = app.get(f"/dataset/{hotspot_map['name']}")
    assert response.status_code == 200
    assert response.body.count("Für diese Ressource kann keine Karte gezeichnet "
                               "werden.") == len(configs)


# -- finding 12: provenance is written by harvests only -----------------------------------
GENUINE = {"source_id": "quelle-1", "source_title": "Echte Quelle", "status": "current",
           "documents": ["https://example.invalid/echt.csv"], "fetched_at": "2025-06-30",
           "checksum": "a" * 64, "harvester": "vernetztestadt_wifi",
           "harvester_version": "ckanext-vernetztestadt 0.1.0"}
SPOOFED = {"source_title": "Gefälschte Quelle", "status": "outdated",
           "withdrawn_at": "2020-01-01", "documents": ["javascript:alert(1)"]}


def harvested(editor: dict, name: str = "geharvestet") -> dict:
    """A dataset as harvest/publish.py writes it (its context)."""
    context = publish.site_context(**{publish.HARVEST_WRITE: True})
    return helpers.call_action("package_create", context=context, name=name, notes="Test",
                               owner_org=editor["org"]["id"],
                               harvest_provenance=json.dumps(GENUINE))


def provenance_box(app, name: str) -> str:
    response = app.get(f"/dataset/{name}")
    assert response.status_code == 200
    return response.body.split('class="vts-provenance"')[1].split("</section>")[0]


def test_an_editor_cannot_create_provenance(app, editor):
    dataset = helpers.call_action("package_create", context=dict(editor["context"]),
                                  name="eigener", notes="Test", owner_org=editor["org"]["id"],
                                  harvest_provenance=json.dumps(SPOOFED))
    assert "harvest_provenance" not in helpers.call_action("package_show", id=dataset["id"])
    assert "vts-provenance" not in app.get("/dataset/eigener").body


def test_an_editor_cannot_change_provenance(app, editor):
    dataset = harvested(editor)
    helpers.call_action("package_patch", context=dict(editor["context"]), id=dataset["id"],
                        harvest_provenance=json.dumps(SPOOFED), notes="Neu")
    helpers.call_action("package_patch", context=dict(editor["context"]), id=dataset["id"],
                        harvest_provenance={"documents": [1]})
    token = factories.APIToken(user=editor["user"]["name"])["token"]
    response = app.post("/api/3/action/package_patch", headers={"Authorization": token},
                        json={"id": dataset["id"], "harvest_provenance": SPOOFED})
    assert response.status_code == 200
    shown = helpers.call_action("package_show", id=dataset["id"])
    assert shown["notes"] == "Neu" and shown["harvest_provenance"] == GENUINE
    box = provenance_box(app, dataset["name"])
    assert "Echte Quelle" in box and "Gefälschte" not in box and "Veraltet" not in box


def test_an_edit_without_the_field_keeps_provenance(editor):
    """The edit form sends no provenance; package_update would drop it."""
    dataset = harvested(editor)
    dataset.pop("harvest_provenance")
    helpers.call_action("package_update", context=dict(editor["context"]),
                        **{**dataset, "notes": "Geändert"})
    assert helpers.call_action("package_show", id=dataset["id"])["harvest_provenance"] == \
        GENUINE


def test_the_harvester_still_writes_and_withdraws(editor):
    dataset = harvested(editor)
    publish.withdraw(model.Package.get(dataset["id"]), "outdated", "job-2")
    provenance = helpers.call_action("package_show", id=dataset["id"])["harvest_provenance"]
    assert provenance["status"] == "outdated" and provenance["job_id"] == "job-2"
    assert provenance["source_title"] == "Echte Quelle"


ODD_PROVENANCE = [
    {"documents": [1]}, {"documents": [None, {"a": 1}, "http://x.invalid/a.csv"]},
    {"documents": "https://x.invalid"}, {"documents": {"a": 1}},
    {"status": "outdated", "withdrawn_at": {"a": 1}, "checksum": 5, "changes": "x"},
    {"changes": {"summary": ["<b>"]}, "source_title": ["x"], "harvester_version": None},
    {"items": "keys", "get": 1}, [1, 2], "nur Text", 7, None]


def test_odd_provenance_shapes_still_render(app, editor):
    """Values stored before harvest_only (or by hand): every JSON shape renders."""
    dataset = harvested(editor)
    for stored in ODD_PROVENANCE:
        package = model.Package.get(dataset["id"])
        package.extras = {**package.extras, "harvest_provenance": json.dumps(stored)}
        package.metadata_modified = datetime.datetime.utcnow()  # else package_show's cache
        model.Session.commit()
        assert helpers.call_action("package_show", id=dataset["id"])[
            "harvest_provenance"] == stored
        response = app.get(f"/dataset/{dataset['name']}")
        assert response.status_code == 200 and "<b>" not in response.body, stored
