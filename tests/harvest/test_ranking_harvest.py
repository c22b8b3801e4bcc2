"""The ranking harvester on the shared framework, through ckanext-harvest's
actions and stages against the real database: what gets published, and
the framework's guarantees (not modified, incremental updates with a change
summary, withdrawal, validation refusal). Recorded documents are served by
pytest-httpserver on 127.0.0.1; the fixtures hold only Gelsenkirchen's
published figures, everything else is marked synthetic (fixtures/README.md).
"""
from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from ckan.lib.uploader import get_resource_uploader
from ckan.tests import helpers
from conftest import fixture, site_user

BITKOM_AREAS = ["Gesamtwertung", "IT und Kommunikation"]
HASELHORST_CP1252 = fixture("haselhorst_2021_2023.csv")

#: every job indexes what it publishes and re-indexes its source
pytestmark = pytest.mark.search


def serve_bitkom(httpserver) -> str:
    """The 2022 edition as bitkom.org pages it: ?page=0 is the plain URL."""
    for page in (1, 2):
        httpserver.expect_request("/smart-city-index-2022", query_string=f"page={page}") \
            .respond_with_data(fixture(f"bitkom_2022_page{page}.html"),
                               content_type="text/html; charset=utf-8")
    httpserver.expect_request("/smart-city-index-2022", query_string="") \
        .respond_with_data(fixture("bitkom_2022_page0.html"),
                           content_type="text/html; charset=utf-8")
    return httpserver.url_for("/smart-city-index-2022")


def rows_of(resource: dict) -> list[dict]:
    path = get_resource_uploader(resource).get_path(resource["id"])
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def show(name: str) -> dict:
    return helpers.call_action("package_show", id=name)


def csv_resource(dataset: dict) -> dict:
    return next(r for r in dataset["resources"] if r["format"] == "CSV")


def haselhorst_source(make_source, httpserver, data: bytes = HASELHORST_CP1252, **config):
    httpserver.expect_request("/haselhorst.csv").respond_with_data(data, content_type="text/csv")
    url = httpserver.url_for("/haselhorst.csv")
    return make_source("haselhorst", url, {"ranking": "haselhorst", **config})


class TestPublished:
    def test_bitkom_pages_give_an_edition_and_the_city_series(self, make_source, harvest,
                                                               httpserver):
        url = serve_bitkom(httpserver)
        make_source("bitkom", url, {"ranking": "bitkom", "areas": BITKOM_AREAS,
                                    "documents": [{"url": url, "edition": 2022}],
                                    "editions": {"2022": {"cities_ranked": 81,
                                                          "notes": "36 Indikatoren."}}})
        result = harvest("bitkom")
        assert result.errors == [] and result.counts == {"added": 2}

        edition = show("bitkom-smart-city-index-2022")
        assert edition["type"] == "smart_city_ranking" and edition["private"] is False
        assert edition["ranking"] == "bitkom-smart-city-index" and edition["edition"] == 2022
        assert edition["cities_ranked"] == 81 and "36 Indikatoren." in edition["notes"]
        assert edition["validation_status"] == "success"
        assert {r["format"] for r in edition["resources"]} == {"CSV", "JSON"}
        rows = rows_of(csv_resource(edition))
        assert len(rows) == 50  # 25 cities on three pages, two areas
        gelsenkirchen = [r for r in rows if r["city"] == "Gelsenkirchen"]
        assert {(r["area"], r["rank"], r["score"]) for r in gelsenkirchen} == {
            ("Gesamt", "17", "72.7"), ("IT und Kommunikation", "1", "")}

        series = show("bitkom-smart-city-index-gelsenkirchen-zeitreihe")
        assert series["ags"] == "05513000"
        assert [(r["edition"], r["area"], r["rank"]) for r in rows_of(csv_resource(series))] \
            == [("2022", "Gesamt", "17"), ("2022", "IT und Kommunikation", "1")]
        views = helpers.call_action("resource_view_list", id=csv_resource(series)["id"])
        assert [v["view_type"] for v in views] == ["vernetztestadt_chart"]
        assert json.loads(views[0]["chart"])["y"] == "rank"

    def test_provenance_is_stored_on_the_dataset(self, make_source, harvest, httpserver):
        source = haselhorst_source(make_source, httpserver)
        harvest("haselhorst")
        provenance = show("haselhorst-smart-city-ranking-2023")["harvest_provenance"]
        assert provenance["source_id"] == source["id"]
        assert provenance["source_url"] == httpserver.url_for("/haselhorst.csv")
        assert provenance["documents"] == [httpserver.url_for("/haselhorst.csv")]
        assert len(provenance["checksum"]) == 64 and provenance["fetched_at"].endswith("+00:00")
        assert provenance["harvester"] == "vernetztestadt_ranking"
        assert provenance["harvester_version"].startswith("ckanext-vernetztestadt ")
        assert provenance["status"] == "current"
        assert provenance["changes"]["summary"].startswith("Neu angelegt")

    def test_haselhorst_csv_in_windows_1252(self, make_source, harvest, httpserver):
        haselhorst_source(make_source, httpserver)
        assert harvest("haselhorst").errors == []
        rows = rows_of(csv_resource(show("haselhorst-smart-city-ranking-2023")))
        mine = next(r for r in rows if r["city"] == "Gelsenkirchen")
        assert (mine["rank"], mine["score"], mine["cities_ranked"]) == ("6", "42.8", "409")
        series = rows_of(csv_resource(show("haselhorst-smart-city-ranking-gelsenkirchen-"
                                           "zeitreihe")))
        assert [(r["edition"], r["rank"]) for r in series] == [("2021", "6"), ("2023", "6")]

    def test_bitkom_csv_with_english_headers(self, make_source, harvest, httpserver):
        httpserver.expect_request("/bitkom.csv").respond_with_data(fixture("bitkom_2022_en.csv"))
        make_source("bitkom", httpserver.url_for("/bitkom.csv"), {"ranking": "bitkom"})
        assert harvest("bitkom").errors == []
        rows = rows_of(csv_resource(show("bitkom-smart-city-index-2022")))
        assert any(r["city"] == "Gelsenkirchen" and r["rank"] == "17" for r in rows)

    def test_xlsx_recognised_from_its_content(self, make_source, harvest, httpserver):
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(["Jahr", "Platz", "Stadt", "AGS", "Smart-City-Grad", "Städte"])
        sheet.append([2023, 6, "Gelsenkirchen", "05513000", 42.8, 409])
        sheet.append([2023, 7, "Musterstadt 07 (synthetisch)", None, 41.0, 409])
        data = io.BytesIO()
        book.save(data)
        httpserver.expect_request("/ranking").respond_with_data(data.getvalue())
        make_source("haselhorst", httpserver.url_for("/ranking"), {"ranking": "haselhorst"})
        assert harvest("haselhorst").errors == []
        assert len(rows_of(csv_resource(show("haselhorst-smart-city-ranking-2023")))) == 2


class TestIncremental:
    def test_an_unchanged_source_writes_nothing(self, make_source, harvest, httpserver):
        haselhorst_source(make_source, httpserver)
        harvest("haselhorst")
        before = {n: show(n)["metadata_modified"] for n in helpers.call_action("package_list")}
        again = harvest("haselhorst")
        assert again.counts == {"not modified": 3} and again.errors == []
        assert {n: show(n)["metadata_modified"] for n in before} == before

    def test_conditional_requests_skip_the_download(self, make_source, harvest, httpserver):
        etag = '"v1"'
        httpserver.expect_request("/h.csv", headers={"If-None-Match": etag}) \
            .respond_with_data("", status=304)
        httpserver.expect_request("/h.csv").respond_with_data(HASELHORST_CP1252,
                                                              headers={"ETag": etag})
        make_source("haselhorst", httpserver.url_for("/h.csv"), {"ranking": "haselhorst"})
        harvest("haselhorst")
        again = harvest("haselhorst")
        assert again.counts == {"not modified": 3}
        conditional = [r for r, _ in httpserver.log if r.headers.get("If-None-Match") == etag]
        assert len(conditional) == 1

    def test_a_change_updates_only_the_affected_dataset(self, make_source, harvest, httpserver):
        haselhorst_source(make_source, httpserver)
        harvest("haselhorst")
        before = {n: show(n)["metadata_modified"] for n in helpers.call_action("package_list")}
        changed = HASELHORST_CP1252.replace(b"2021;1;Musterstadt 01 (synthetisch);;61,0 %",
                                            b"2021;1;Musterstadt 01 (synthetisch);;62,5 %")
        assert changed != HASELHORST_CP1252
        httpserver.clear()
        httpserver.expect_request("/haselhorst.csv").respond_with_data(changed)
        result = harvest("haselhorst")
        assert result.counts == {"updated": 1, "not modified": 2}
        after = {n: show(n)["metadata_modified"] for n in before}
        written = [n for n in before if after[n] != before[n]]
        assert written == ["haselhorst-smart-city-ranking-2021"]
        provenance = show("haselhorst-smart-city-ranking-2021")["harvest_provenance"]
        assert provenance["changes"]["rows_changed"] == 1
        assert provenance["changes"]["summary"] == "0 Zeilen hinzugefügt, 0 entfernt, 1 geändert."
        job_log = [entry["content"] for entry in helpers.call_action(
            "harvest_log_list", context={"user": site_user()}, level="info",
            limit=5000)]  # see test_broadband_harvest: lines are stored many times here
        assert any("haselhorst-smart-city-ranking-2021: 0 Zeilen hinzugefügt, 0 entfernt, "
                   "1 geändert." in line for line in job_log)
        activities = helpers.call_action("package_activity_list",
                                         id="haselhorst-smart-city-ranking-2021")
        assert activities[0]["activity_type"] == "changed package"
        assert activities[0]["data"]["package"]["harvest_provenance"]["changes"][
            "rows_changed"] == 1

    def test_vanished_items_are_marked_outdated(self, make_source, harvest, httpserver):
        haselhorst_source(make_source, httpserver)
        harvest("haselhorst")
        only_2023 = b"\r\n".join(line for line in HASELHORST_CP1252.split(b"\r\n")
                                 if not line.startswith(b"2021"))
        httpserver.clear()
        httpserver.expect_request("/haselhorst.csv").respond_with_data(only_2023)
        result = harvest("haselhorst")
        assert result.errors == [] and result.counts["deleted"] == 1
        old = show("haselhorst-smart-city-ranking-2021")
        assert old["state"] == "active" and old["harvest_provenance"]["status"] == "outdated"
        assert harvest("haselhorst").counts == {"not modified": 3}  # already withdrawn

    def test_vanished_items_can_be_deleted(self, make_source, harvest, httpserver):
        haselhorst_source(make_source, httpserver, withdraw="delete")
        harvest("haselhorst")
        only_2023 = b"\r\n".join(line for line in HASELHORST_CP1252.split(b"\r\n")
                                 if not line.startswith(b"2021"))
        httpserver.clear()
        httpserver.expect_request("/haselhorst.csv").respond_with_data(only_2023)
        harvest("haselhorst")
        assert show("haselhorst-smart-city-ranking-2021")["state"] == "deleted"
        assert "haselhorst-smart-city-ranking-2021" not in helpers.call_action("package_list")


class TestValidationRefusal:
    def test_an_invalid_item_is_not_published_and_the_old_version_stays(
            self, make_source, harvest, httpserver):
        """Two documents that each parse but together break the primary key:
        the gate refuses the edition, the published version stays."""
        haselhorst_source(make_source, httpserver)
        harvest("haselhorst")
        before = show("haselhorst-smart-city-ranking-2023")
        overlap = ("Jahr;Platz;Stadt;Smart-City-Grad\r\n2023;9;Gelsenkirchen;40,0 %\r\n"
                   ).encode("cp1252")
        httpserver.expect_request("/overlap.csv").respond_with_data(overlap)
        source = helpers.call_action("harvest_source_show", context={"use_cache": False},
                                     id="haselhorst")
        config = {**json.loads(source["config"]), "documents": [
            {"url": httpserver.url_for("/haselhorst.csv")},
            {"url": httpserver.url_for("/overlap.csv")}]}
        helpers.call_action("harvest_source_update", context={"user": site_user()},
                            id=source["id"], name="haselhorst",
                            title=source["title"], url=source["url"],
                            source_type=source["source_type"], owner_org=source["owner_org"],
                            frequency="MANUAL", config=json.dumps(config))
        result = harvest("haselhorst")
        refused = [e for e in result.errors if e.startswith("haselhorst-smart-city-ranking-2023")]
        assert refused and "wurde nicht veröffentlicht" in refused[0]
        assert "Ressource „Haselhorst Smart City Ranking 2023“: Zeile 9: Doppelter oder " \
               "leerer Primärschlüssel" in refused[0]
        after = show("haselhorst-smart-city-ranking-2023")
        assert after["metadata_modified"] == before["metadata_modified"]
        assert rows_of(csv_resource(after)) == rows_of(csv_resource(before))


def test_the_dataset_page_shows_the_chart_and_provenance(make_source, harvest, httpserver, app):
    haselhorst_source(make_source, httpserver)
    harvest("haselhorst")
    page = app.get("/dataset/haselhorst-smart-city-ranking-gelsenkirchen-zeitreihe").body
    assert 'data-view-type="vernetztestadt_chart"' in page
    views = page.split('class="vts-dataset-views"')[1].split("</section>")[0]
    assert views.count("<circle") == 2 and 'data-series="Gesamt"' in views
    assert 'class="vts-provenance" data-provenance-status="current"' in page
