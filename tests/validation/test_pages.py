"""What visitors and stewards see: the German report page, badges on dataset,
resource and search pages, and the search facet on validation status."""
from __future__ import annotations

import json

import german_csv
import pytest
from bs4 import BeautifulSoup
from ckan.tests import factories, helpers

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def portal(httpserver):
    editor = factories.Sysadmin()
    org = factories.Organization()
    httpserver.expect_request("/gut.csv").respond_with_data(german_csv.valid(), 200)
    broken = german_csv.encode([*german_csv.rows(30), *([["x"] * 11] * 30)])
    httpserver.expect_request("/kaputt.csv").respond_with_data(broken, 200)
    httpserver.expect_request("/ohne.csv").respond_with_data(german_csv.valid(), 200)

    def dataset(name: str, private: bool, **resource) -> dict:
        return helpers.call_action(
            "package_create", context={"user": editor["name"]}, name=name, notes="WLAN",
            owner_org=org["id"], private=private,
            resources=[{"format": "CSV", "name": "Standorte", **resource}])

    return {
        "editor": editor,
        "good": dataset("gut", False, url=httpserver.url_for("/gut.csv"),
                        table_schema="hotspots"),
        "broken": dataset("kaputt", True, url=httpserver.url_for("/kaputt.csv"),
                          table_schema="hotspots"),
        "plain": dataset("ohne-schema", False, url=httpserver.url_for("/ohne.csv")),
    }


def page(app, url: str, user: dict | None = None) -> BeautifulSoup:
    headers = {"Authorization": factories.APIToken(user=user["name"])["token"]} if user else {}
    return BeautifulSoup(app.get(url, headers=headers).body, "html.parser")


def badges(soup: BeautifulSoup) -> list[str]:
    return [b["data-validation-status"] for b in soup.select(".vts-validation-badge")]


def report_url(dataset: dict) -> str:
    return f"/dataset/{dataset['name']}/resource/{dataset['resources'][0]['id']}/validation"


class TestReportPage:
    def test_errors_grouped_in_german(self, app, portal):
        soup = page(app, report_url(portal["broken"]), portal["editor"])
        assert soup.find("h1").get_text(strip=True).startswith("Prüfbericht")
        assert badges(soup) == ["failure"]
        assert "Fehlerhaft" in soup.select_one(".vts-validation-badge").get_text()
        groups = {g["data-error-type"]: g for g in soup.select(".vts-error-group")}
        assert "type-error" in groups
        title = groups["type-error"].find("h3").get_text(" ", strip=True)
        assert title.startswith("Falscher Datentyp")
        first_row = groups["type-error"].select("tbody tr")[0]
        assert [td.get_text(strip=True) for td in first_row.find_all("td")] == \
            ["32", "latitude", "x",
             "Zahl erwartet, mit dem Dezimalzeichen der Datei, z. B. 51,5123."]
        assert 'type is "' not in groups["type-error"].get_text()  # frictionless' English
        # 30 broken rows, several errors each: the page lists the first 20 per type
        assert len(groups["type-error"].select("tbody tr")) == 20
        assert "Die ersten 20 von" in groups["type-error"].get_text()
        assert "cp1252" in soup.select_one(".vts-dialect").get_text()

    def test_suggested_schema_without_one(self, app, portal):
        soup = page(app, report_url(portal["plain"]))
        schema = json.loads(soup.select_one(".vts-inferred-schema").get_text())
        assert {f["name"]: f["type"] for f in schema["fields"]}["latitude"] == "number"

    def test_private_report_is_not_shown_to_anonymous(self, app, portal):
        app.get(report_url(portal["broken"]), status=403)

    def test_missing_report(self, app, portal):
        app.get(f"/dataset/{portal['good']['name']}/resource/nichts/validation", status=404)


@pytest.mark.search
class TestBadgesAndFacet:
    def test_dataset_resource_and_search_pages(self, app, portal):
        assert badges(page(app, "/dataset/gut")) == ["success"]
        resource_page = page(app, f"/dataset/gut/resource/{portal['good']['resources'][0]['id']}")
        assert badges(resource_page) == ["success"]
        assert resource_page.find("a", string="Prüfbericht ansehen")
        listing = page(app, "/dataset/")
        assert sorted(badges(listing)) == ["success", "success"]

    def test_facet(self, app, portal):
        result = helpers.call_action("package_search", include_private=True,
                                     context={"user": portal["editor"]["name"]},
                                     **{"facet.field": json.dumps(["validation_status"])})
        assert result["facets"]["validation_status"] == {"success": 2, "failure": 1}
        result = helpers.call_action("package_search", fq="validation_status:failure",
                                     include_private=True,
                                     context={"user": portal["editor"]["name"]})
        assert [d["name"] for d in result["results"]] == ["kaputt"]
        soup = page(app, "/dataset/")
        assert "Prüfstatus" in soup.get_text()

    def test_status_follows_a_new_validation(self, portal):
        helpers.call_action("resource_validation_delete",
                            resource_id=portal["good"]["resources"][0]["id"])
        shown = helpers.call_action("package_show", id="gut")
        assert shown["validation_status"] == "none"
        assert shown["resources"][0]["validation_status"] == "none"
        result = helpers.call_action("package_search", fq="validation_status:none")
        assert [d["name"] for d in result["results"]] == ["gut"]


class TestReadableValues:
    """Codes stay in filters, URLs and the API's ``name``; people read labels."""

    def test_the_facet_shows_labels_and_filters_by_code(self, app, portal):
        soup = page(app, "/dataset/", portal["editor"])
        facet = soup.select_one("section.module-narrow:has(a[href*='validation_status'])")
        labels = [a.select_one(".item-label").get_text(strip=True) for a in facet.select("a")
                  if a.select_one(".item-label")]
        assert sorted(labels) == ["Fehlerhaft", "Gültig"]
        assert {a["href"].split("validation_status=")[1] for a in facet.select("a")
                if "validation_status=" in a["href"]} == {"success", "failure"}
        token = factories.APIToken(user=portal["editor"]["name"])["token"]
        for prefix, labels in (("", ("Gültig", "Fehlerhaft")), ("/en", ("Valid", "Invalid"))):
            result = app.get(f"{prefix}/api/3/action/package_search",
                             query_string={"include_private": "true",
                                           "facet.field": '["validation_status"]'},
                             headers={"Authorization": token}).json["result"]
            items = {i["name"]: i["display_name"]
                     for i in result["search_facets"]["validation_status"]["items"]}
            assert items == dict(zip(("success", "failure"), labels, strict=True)), prefix

    def test_the_resource_table_has_labels_and_no_empty_rows(self, app, portal):
        soup = page(app, f"/dataset/gut/resource/{portal['good']['resources'][0]['id']}")
        rows = {r.th.get_text(strip=True): r.td.get_text(" ", strip=True)
                for r in soup.select("table tr") if r.th and r.td}
        assert rows["Prüfstatus"] == "Gültig"
        assert "success" not in rows.values()
        assert all(value for value in rows.values()), rows
        assert not [k for k in rows if "_" in k or k.islower()], rows  # no raw keys

    def test_the_dataset_table_has_no_empty_rows_and_no_geojson(self, app, portal):
        area = {"text": "Gelsenkirchen", "uri": "https://www.gelsenkirchen.de/",
                "geom": json.dumps({"type": "Polygon", "coordinates": [[
                    [6.98, 51.47], [7.16, 51.47], [7.16, 51.64], [6.98, 51.64],
                    [6.98, 51.47]]]})}
        helpers.call_action("package_patch", context={"user": portal["editor"]["name"]},
                            id="gut", spatial_coverage=[area])
        soup = page(app, "/dataset/gut")
        rows = {r.th.get_text(strip=True): r.td.get_text(" ", strip=True)
                for r in soup.select("table tr") if r.th and r.td}
        assert all(value for value in rows.values()), rows
        assert rows["Räumlicher Bezug"].replace(" :", ":") == (
            "Gelsenkirchen: Gebiet von 51,47° N bis 51,64° N, 6,98° O bis 7,16° O")
        assert '"coordinates"' not in soup.select_one("section.additional-info").get_text()

    def test_report_dates_are_german_in_local_time(self, app, portal):
        soup = page(app, report_url(portal["good"]))
        text = soup.get_text(" ", strip=True)
        import re

        assert re.search(r"Geprüft am \d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|"
                         r"August|September|Oktober|November|Dezember) \d{4}, \d\d:\d\d Uhr",
                         text), text[:400]


def test_the_status_is_never_stored_as_an_extra(portal):
    import ckan.model as model

    shown = helpers.call_action("package_show", id="gut")
    helpers.call_action("package_update", context={"user": portal["editor"]["name"]}, **shown)
    helpers.call_action("package_patch", context={"user": portal["editor"]["name"]},
                        id="gut", notes="Neu")
    assert "validation_status" not in model.Package.get("gut").extras
    assert helpers.call_action("package_show", id="gut")["validation_status"] == "success"


@pytest.mark.ckan_config("ckanext.vernetztestadt.validation.sync_max_bytes", "300")
def test_a_validation_still_to_run_shows_its_badge(app, httpserver):
    """A file too large for the request waits, the dataset private, for its
    background job; the pages say so ("Prüfung geplant")."""
    editor = factories.Sysadmin()
    org = factories.Organization()
    httpserver.expect_request("/gross.csv").respond_with_data(german_csv.valid(50))
    dataset = helpers.call_action(
        "package_create", context={"user": editor["name"]}, name="gross", notes="WLAN",
        owner_org=org["id"], private=False,
        resources=[{"format": "CSV", "name": "Standorte", "table_schema": "hotspots",
                    "url": httpserver.url_for("/gross.csv")}])
    assert dataset["private"] is True
    soup = page(app, "/dataset/gross", editor)
    assert badges(soup) == ["created"]
    assert "Prüfung geplant" in soup.select_one(".vts-validation-badge").get_text()
    resource_page = page(app, f"/dataset/gross/resource/{dataset['resources'][0]['id']}", editor)
    assert badges(resource_page) == ["created"]
