"""package_search through CKAN's actions and API, answered by PostgreSQL
(and by a real Solr with ``SEARCH=solr pytest -m search``).

Covers the Solr dialect CKAN and its extensions speak: dismax free text with
German analysis, Lucene syntax in q/fq, facets, sort, paging, fl, ranges with
date math, ext_bbox, and visibility of private datasets and drafts. Where
Solr answers differently on purpose, ``engines.expected`` names the section
of docs/search-differences.md.
"""
from __future__ import annotations

import json

import pytest
from ckan.logic import ValidationError
from ckan.tests import factories, helpers

from ckanext.vernetztestadt.testing import engines

pytestmark = [
    pytest.mark.usefixtures("clean_db", "clean_index"),
    # their CSV resources point at made-up URLs; the gate has tests/validation
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]


def names(result: dict) -> list[str]:
    return [d["name"] for d in result["results"]]


def search(**params) -> dict:
    return helpers.call_action("package_search", **params)


@pytest.fixture
def city():
    """A small, realistic portal: two organizations, a group, tagged datasets."""
    org = factories.Organization(name="stadt-ge", title="Stadt Gelsenkirchen")
    other = factories.Organization(name="gelsendienste", title="Gelsendienste")
    group = factories.Group(name="digitales", title="Digitales")
    factories.Dataset(
        name="wlan-hotspots", title="WLAN-Hotspots in Gelsenkirchen", owner_org=org["id"],
        notes="Standorte der FreeWiFi-Hotspots an der Bahnhofstraße und in Buer.",
        tags=[{"name": "WLAN"}, {"name": "Internet"}], groups=[{"name": group["name"]}],
        license_id="cc-by-4.0", ags="05513000",
        extras=[{"key": "quelle", "value": "Stadtverwaltung"}],
        resources=[{"url": "http://example.invalid/h.csv", "format": "CSV"},
                   {"url": "http://example.invalid/h.geojson", "format": "GeoJSON"}])
    factories.Dataset(
        name="breitband-2024", title="Breitbandversorgung 2024", owner_org=org["id"],
        notes="Anteil der Haushalte mit 1 Gbit/s im Münsterland-Vergleich.",
        tags=[{"name": "Internet"}, {"name": "Breitband"}], license_id="cc-zero-1.0",
        resources=[{"url": "http://example.invalid/b.csv", "format": "CSV"}])
    factories.Dataset(
        name="abfallkalender", title="Abfallkalender", owner_org=other["id"],
        notes="Termine der Müllabfuhr", tags=[{"name": "Umwelt"}], license_id="cc-by-4.0",
        resources=[{"url": "http://example.invalid/a.xlsx", "format": "XLSX"}])
    return {"org": org, "other": other, "group": group}


@pytest.mark.search
class TestFreeText:
    @pytest.mark.parametrize("q, expected", [
        ("Hotspot", ["wlan-hotspots"]),             # stemming: Hotspots -> hotspot
        ("hotspots gelsenkirchen", ["wlan-hotspots"]),
        ("WLAN", ["wlan-hotspots"]),                 # case-insensitive
        ("bahnhofstrasse", ["wlan-hotspots"]),       # ß -> ss
        ("Muensterland", ["breitband-2024"]),        # ue ~ ü
        ("munsterland", ["breitband-2024"]),         # umlaut folded
        ("mullabfuhr", ["abfallkalender"]),
        ('"Termine der Müllabfuhr"', ["abfallkalender"]),
        ("Breitband -Internet", []),
        ("der Müllabfuhr", ["abfallkalender"]),     # stop words are words, as in Solr
        ("über", []),                                # ... not "match everything"
        ("!!!", []),
        ("nichtvorhanden", []),
    ])
    def test_german_analysis(self, city, q, expected):
        # CKAN's Solr schema analyses English: no "ue" for "ü"
        english = {"Muensterland": []}.get(q, expected)
        expected = engines.expected(postgres=expected, solr=english,
                                    difference="Textanalyse / text analysis")
        assert sorted(names(search(q=q))) == sorted(expected)

    def test_minimum_should_match(self, city):
        # CKAN's mm "2<-1 5<80%": of three words, one may be missing
        assert names(search(q="Abfallkalender Termine Zebra")) == ["abfallkalender"]
        # ... but of two words, both must match
        assert names(search(q="Abfallkalender Zebra")) == []

    def test_title_matches_rank_first(self, city):
        # "internet" is a tag of two datasets; Breitband in the title wins
        assert names(search(q="Breitband internet"))[0] == "breitband-2024"


@pytest.mark.search
class TestLuceneSyntax:
    @pytest.mark.parametrize("q, expected", [
        ("tags:WLAN", ["wlan-hotspots"]),
        ('tags:"Internet"', ["breitband-2024", "wlan-hotspots"]),
        ("tags:Internet -tags:WLAN", ["breitband-2024"]),
        ("tags:Internet AND NOT tags:WLAN", ["breitband-2024"]),
        ("tags:(WLAN OR Umwelt)", ["abfallkalender", "wlan-hotspots"]),
        ("organization:stadt-ge +license_id:cc-zero-1.0", ["breitband-2024"]),
        ("name:breit*", ["breitband-2024"]),
        ("name:wlan-hotsp?ts", ["wlan-hotspots"]),
        ("title:breitbandversorgung", ["breitband-2024"]),
        ('title:"Hotspots in Gelsenkirchen"', ["wlan-hotspots"]),
        ("res_format:GeoJSON", ["wlan-hotspots"]),
        ("groups:digitales", ["wlan-hotspots"]),
        ("extras_ags:05513000", ["abfallkalender", "breitband-2024", "wlan-hotspots"]),
        ("ags:05513000", ["abfallkalender", "breitband-2024", "wlan-hotspots"]),  # default AGS
        ("extras_quelle:stadtverwaltung", ["wlan-hotspots"]),
        ("*:*", ["abfallkalender", "breitband-2024", "wlan-hotspots"]),
        ("metadata_modified:[NOW-1DAY TO *]", ["abfallkalender", "breitband-2024",
                                               "wlan-hotspots"]),
        ("metadata_created:[* TO NOW-7DAYS]", []),
        ("name:{abfallkalender TO wlan-hotspots}", ["breitband-2024"]),
        ("name:[abfallkalender TO breitband-2024]", ["abfallkalender", "breitband-2024"]),
        ("(tags:Umwelt OR tags:WLAN) AND organization:stadt-ge", ["wlan-hotspots"]),
        ('tags:"Internet"groups:"digitales"', ["wlan-hotspots"]),  # as CKAN's feeds send it
        ("tags: WLAN", ["wlan-hotspots"]),
    ])
    def test_q(self, city, q, expected):
        assert sorted(names(search(q=q, rows=100))) == expected

    def test_fq_and_fq_list(self, city):
        result = search(q="internet", fq="organization:stadt-ge",
                        fq_list=['license_id:"cc-by-4.0"'])
        assert names(result) == ["wlan-hotspots"]

    def test_local_params_are_refused(self, app):
        res = app.get("/api/3/action/package_search",
                      query_string={"q": "{!lucene}name:x"}, status=409)
        assert "Local parameters are not supported" in res.json["error"]["message"]

    def test_ext_bbox(self, city):
        inside = json.dumps({"type": "Polygon", "coordinates": [[
            [7.0, 51.5], [7.15, 51.5], [7.15, 51.6], [7.0, 51.6], [7.0, 51.5]]]})
        # a polygon: ckanext-spatial's solr-bbox ranks by overlapping area, so
        # a point (no area) is never found by a map search, with Solr or here
        far = json.dumps({"type": "Polygon", "coordinates": [[
            [13.3, 52.4], [13.5, 52.4], [13.5, 52.6], [13.3, 52.6], [13.3, 52.4]]]})
        org = city["org"]["id"]
        factories.Dataset(name="ge-spatial", owner_org=org,
                          extras=[{"key": "spatial", "value": inside}])
        factories.Dataset(name="berlin-spatial", owner_org=org,
                          extras=[{"key": "spatial", "value": far}])
        result = search(extras={"ext_bbox": "6.9,51.4,7.3,51.7"})
        assert names(result) == ["ge-spatial"]
        result = search(extras={"ext_bbox": "13,52,14,53"})
        assert names(result) == ["berlin-spatial"]


@pytest.mark.search
class TestFacetsSortPaging:
    def test_facets(self, city):
        result = search(**{"facet.field": json.dumps(
            ["tags", "organization", "res_format", "license_id", "groups", "dataset_type"])})
        facets = result["facets"]
        assert facets["tags"] == {"Internet": 2, "WLAN": 1, "Breitband": 1, "Umwelt": 1}
        assert facets["organization"] == {"stadt-ge": 2, "gelsendienste": 1}
        assert facets["res_format"] == {"CSV": 2, "GeoJSON": 1, "XLSX": 1}
        assert facets["license_id"] == {"cc-by-4.0": 2, "cc-zero-1.0": 1}
        assert facets["groups"] == {"digitales": 1}
        assert facets["dataset_type"] == {"dataset": 3}

    def test_facets_count_datasets_not_values(self, city):
        # like Solr: two CSV resources of one dataset count that dataset once
        factories.Dataset(name="zwei-csv", owner_org=city["org"]["id"], resources=[
            {"url": "http://example.invalid/1.csv", "format": "CSV"},
            {"url": "http://example.invalid/2.csv", "format": "CSV"}])
        result = search(**{"facet.field": json.dumps(["res_format"])})
        assert result["facets"]["res_format"]["CSV"] == 3
        assert search(fq='res_format:"CSV"')["count"] == 3

    def test_facet_order_limit_and_mincount(self, city):
        result = search(**{"facet.field": json.dumps(["tags"]), "facet.limit": 2})
        items = result["search_facets"]["tags"]["items"]
        # Solr's order: count descending, then value
        assert [(i["name"], i["count"]) for i in items] == [("Internet", 2), ("Breitband", 1)]
        result = search(**{"facet.field": json.dumps(["tags"]), "facet.mincount": 2})
        assert result["facets"]["tags"] == {"Internet": 2}
        result = search(**{"facet.field": json.dumps(["tags"]), "facet.limit": -1})
        assert len(result["facets"]["tags"]) == 4

    def test_facets_follow_the_query(self, city):
        result = search(q="tags:Internet", **{"facet.field": json.dumps(["organization"])})
        assert result["facets"]["organization"] == {"stadt-ge": 2}

    def test_sort(self, city):
        assert names(search(sort="name asc")) == ["abfallkalender", "breitband-2024",
                                                  "wlan-hotspots"]
        assert names(search(sort="title_string desc"))[0] == "wlan-hotspots"
        assert names(search(sort="metadata_created desc"))[0] == "abfallkalender"
        assert names(search(sort="organization asc, name desc")) == [
            "abfallkalender", "wlan-hotspots", "breitband-2024"]
        assert names(search(q="internet", sort="score desc, name asc")) == [
            "breitband-2024", "wlan-hotspots"]

    def test_invalid_sort(self, app, city):
        # CKAN maps Solr's sort error to SearchQueryError('Invalid "sort"
        # parameter'), which its API answers with 400
        res = app.get("/api/3/action/package_search", query_string={"sort": "name sideways"},
                      status=400)
        assert 'Invalid \\"sort\\" parameter' in json.dumps(res.json["error"])
        assert res.json["success"] is False

    def test_paging_and_fl(self, city):
        first = search(sort="name asc", rows=2)
        second = search(sort="name asc", rows=2, start=2)
        assert first["count"] == second["count"] == 3
        assert names(first) + names(second) == ["abfallkalender", "breitband-2024",
                                                "wlan-hotspots"]
        assert search(rows=1, start=10)["results"] == []
        slim = search(fl="id,name", sort="name asc", rows=1)
        assert set(slim["results"][0]) == {"id", "name"}


class TestCountsCache:
    """Hit and facet counts come from Redis between index changes (as Solr's
    caches live until the next commit); every committed change shows at once.
    The Redis generation is the PostgreSQL backend's own: that test is not
    marked ``search``."""

    @staticmethod
    def _generation() -> int:
        import ckan.model as model
        from ckan.lib.redis import connect_to_redis

        from ckanext.vernetztestadt.search import cache

        key = f"{cache._namespace(model.meta.engine)}:generation"
        return int(connect_to_redis().get(key) or 0)

    def _tags(self, **params) -> tuple[int, dict]:
        result = search(**{"facet.field": json.dumps(["tags"]), **params})
        return result["count"], result["facets"]["tags"]

    def test_the_generation_moves_only_with_a_change(self, city):
        first = self._tags()
        generation = self._generation()
        again = self._tags(sort="name asc", rows=1)  # another page, same counts
        assert again == first and self._generation() == generation
        context = {"user": factories.Sysadmin()["name"]}
        helpers.call_action("package_patch", context=dict(context), id="abfallkalender",
                            tags=[{"name": "Internet"}])
        assert self._generation() > generation

    @pytest.mark.search
    def test_changes_show_at_once(self, city):
        first = self._tags()
        assert first == (3, {"Internet": 2, "WLAN": 1, "Breitband": 1, "Umwelt": 1})
        assert self._tags(sort="name asc", rows=1) == first  # another page, same counts
        context = {"user": factories.Sysadmin()["name"]}
        helpers.call_action("package_patch", context=dict(context), id="abfallkalender",
                            tags=[{"name": "Internet"}])
        assert self._tags() == (3, {"Internet": 3, "WLAN": 1, "Breitband": 1})
        helpers.call_action("package_delete", context=dict(context), id="wlan-hotspots")
        assert self._tags() == (2, {"Internet": 2, "Breitband": 1})

    @pytest.mark.search
    def test_a_failed_write_keeps_the_counts(self, city):
        first = self._tags()
        with pytest.raises(ValidationError):
            helpers.call_action("package_create", name="kaputt", owner_org="gibt-es-nicht")
        assert self._tags() == first
        assert search(q="name:kaputt")["count"] == 0


@pytest.mark.search
class TestVisibility:
    @pytest.fixture
    def private(self, city):
        member = factories.User(name="mitglied")
        outsider = factories.User(name="aussen")
        helpers.call_action("organization_member_create", id=city["org"]["id"],
                            username=member["name"], role="editor")
        factories.Dataset(name="intern-hotspots", title="Interne Hotspot-Planung",
                          owner_org=city["org"]["id"], private=True,
                          tags=[{"name": "WLAN"}])
        factories.Dataset(name="entwurf-hotspots", title="Hotspot Entwurf",
                          owner_org=city["org"]["id"], state="draft")
        return {"member": member, "outsider": outsider}

    def _as(self, user: dict | None, **params) -> dict:
        context = {"user": user["name"] if user else "", "ignore_auth": False}
        return helpers.call_action("package_search", context=context, **params)

    def test_private_hidden_from_anonymous_and_outsiders(self, private):
        for user in (None, private["outsider"]):
            result = self._as(user, q="hotspot", include_private=True,
                              **{"facet.field": json.dumps(["tags"])})
            assert names(result) == ["wlan-hotspots"]
            assert result["facets"]["tags"].get("WLAN") == 1

    def test_private_visible_to_member(self, private):
        result = self._as(private["member"], q="hotspot", include_private=True,
                          **{"facet.field": json.dumps(["tags"])})
        assert sorted(names(result)) == ["intern-hotspots", "wlan-hotspots"]
        assert result["facets"]["tags"]["WLAN"] == 2

    def test_drafts_only_for_those_who_may_edit(self, private):
        for user in (None, private["outsider"]):
            result = self._as(user, q="Entwurf", include_drafts=True)
            assert "entwurf-hotspots" not in names(result)
        # CKAN labels an organization's drafts for its members
        result = self._as(private["member"], q="Entwurf", include_drafts=True)
        assert names(result) == ["entwurf-hotspots"]
        assert names(self._as(private["member"], q="Entwurf")) == []

    def test_autocomplete_hides_private(self, private, app):
        res = app.get("/api/3/action/package_autocomplete", query_string={"q": "hotsp"})
        assert [r["name"] for r in res.json["result"]] == ["wlan-hotspots"]

    def test_organization_counts(self, private, app):
        org = helpers.call_action("organization_show", id="stadt-ge")
        assert org["package_count"] == 2  # public ones only for anonymous


@pytest.mark.search
class TestWebPages:
    def test_dataset_list_facets_sort_page(self, app, city):
        page = app.get("/dataset/", query_string={"tags": "Internet", "sort": "name asc"})
        assert page.status_code == 200
        body = page.body
        assert "breitband-2024" in body and "wlan-hotspots" in body
        assert "abfallkalender" not in body

    def test_organization_and_group_pages(self, app, city):
        assert "wlan-hotspots" in app.get("/organization/stadt-ge").body
        assert "wlan-hotspots" in app.get("/group/digitales").body


class TestOneDatasetLookup:
    """CKAN's ``search.show`` (asked by every ``package_show``) finds one
    dataset by name or id, whatever its state, exactly as the general
    query of the same meaning does."""

    @pytest.fixture
    def datasets(self):
        org = factories.Organization()
        public = factories.Dataset(name="wlan-hotspots", owner_org=org["id"])
        private = factories.Dataset(name="kassenbuch", owner_org=org["id"], private=True)
        return public, private

    def general(self, reference: str) -> list[dict]:
        from ckan.common import config
        from ckan.lib.search.common import make_connection

        answer = make_connection(decode_dates=False).search(
            q=f'id:"{reference}" OR name:"{reference}"', rows=1, wt="json",
            fq=f'+site_id:"{config["ckan.site_id"]}" +entity_type:package')
        return list(answer.docs)

    def test_by_name_and_by_id_as_the_general_query(self, datasets):
        from ckan.lib import search as ckan_search

        for dataset in datasets:
            for reference in (dataset["name"], dataset["id"]):
                found = ckan_search.show(reference)
                assert found["id"] == dataset["id"]
                assert found == self.general(reference)[0]

    def test_unknown_and_odd_references_are_not_found(self, datasets):
        from ckan.lib import search as ckan_search

        for reference in ("gibt-es-nicht", "wlan-hotspots*", "kassenbuch OR *:*"):
            with pytest.raises(ckan_search.SearchError):
                ckan_search.show(reference)

    def test_package_show_reads_the_indexed_dataset(self, datasets):
        public, _private = datasets
        shown = helpers.call_action("package_show", id=public["name"])
        assert shown["id"] == public["id"] and shown["name"] == "wlan-hotspots"
