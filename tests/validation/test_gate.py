"""The publication gate, through CKAN's actions and HTTP API: no dataset
becomes or stays public with a tabular resource that has not passed."""
from __future__ import annotations

import time
from pathlib import Path

import german_csv
import pytest
from ckan.logic import NotFound as ObjectNotFound
from ckan.logic import ValidationError
from ckan.tests import factories, helpers
from werkzeug import Response

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

BROKEN = german_csv.with_cell(3, "latitude", "nördlich")   # type error, row 4


@pytest.fixture
def steward():
    """An editor of the city's organization."""
    user = factories.User()
    org = factories.Organization(users=[{"name": user["name"], "capacity": "editor"}])
    return {"user": user, "org": org, "context": {"user": user["name"]}}


def serve(httpserver, path: str, data: bytes, status: int = 200,
          content_type: str = "text/csv") -> str:
    httpserver.expect_request(path).respond_with_data(data, status=status,
                                                      content_type=content_type)
    return httpserver.url_for(path)


def create(steward, url: str, private: bool = False, **extra) -> dict:
    return helpers.call_action(
        "package_create", context=dict(steward["context"]), name=extra.pop("name", "hotspots"),
        owner_org=steward["org"]["id"], private=private, notes="WLAN-Standorte",
        resources=[{"url": url, "name": "Hotspots", "format": "CSV",
                    "table_schema": "hotspots"}], **extra)


def refusal(excinfo) -> str:
    return " ".join(excinfo.value.error_dict["private"])


class TestUrlResources:
    def test_a_valid_german_file_publishes(self, steward, httpserver):
        dataset = create(steward, serve(httpserver, "/hotspots.csv", german_csv.valid(12)))
        assert dataset["private"] is False
        report = helpers.call_action("resource_validation_show",
                                     resource_id=dataset["resources"][0]["id"])
        assert report["status"] == "success"
        assert report["report"]["vernetztestadt"]["dialect"]["encoding"] == "cp1252"

    def test_an_invalid_file_is_refused_in_german(self, steward, httpserver):
        with pytest.raises(ValidationError) as excinfo:
            create(steward, serve(httpserver, "/hotspots.csv", BROKEN))
        message = refusal(excinfo)
        assert "kann nicht veröffentlicht werden" in message
        assert "Ressource „Hotspots“: Zeile 4, Spalte „latitude“: Falscher Datentyp " \
               "(Wert „nördlich“)" in message
        with pytest.raises(ObjectNotFound):
            helpers.call_action("package_show", id="hotspots")

    def test_private_may_hold_it_but_not_go_public(self, steward, httpserver):
        dataset = create(steward, serve(httpserver, "/broken.csv", BROKEN), private=True)
        resource = dataset["resources"][0]
        assert helpers.call_action("resource_validation_show",
                                   resource_id=resource["id"])["status"] == "failure"
        with pytest.raises(ValidationError):
            helpers.call_action("package_patch", context=dict(steward["context"]),
                                id=dataset["id"], private=False)
        assert helpers.call_action("package_show", id=dataset["id"])["private"] is True
        fixed = serve(httpserver, "/fixed.csv", german_csv.valid())
        helpers.call_action("resource_patch", context=dict(steward["context"]),
                            id=resource["id"], url=fixed)
        helpers.call_action("package_patch", context=dict(steward["context"]),
                            id=dataset["id"], private=False)
        assert helpers.call_action("package_show", id=dataset["id"])["private"] is False

    def test_a_new_invalid_resource_on_a_public_dataset(self, steward, httpserver):
        dataset = create(steward, serve(httpserver, "/ok.csv", german_csv.valid()))
        with pytest.raises(ValidationError):
            helpers.call_action("resource_create", context=dict(steward["context"]),
                                package_id=dataset["id"], format="CSV",
                                table_schema="hotspots",
                                url=serve(httpserver, "/neu.csv", BROKEN))
        assert len(helpers.call_action("package_show", id=dataset["id"])["resources"]) == 1

    def test_bulk_update_public(self, steward, httpserver):
        dataset = create(steward, serve(httpserver, "/broken.csv", BROKEN), private=True)
        with pytest.raises(ValidationError) as excinfo:
            helpers.call_action("bulk_update_public", context=dict(steward["context"]),
                                datasets=[dataset["id"]], org_id=steward["org"]["id"])
        assert "hotspots: Ressource „Hotspots“" in refusal(excinfo)
        assert helpers.call_action("package_show", id=dataset["id"])["private"] is True

    def test_the_api_answers_409(self, app, httpserver):
        user = factories.SysadminWithToken()
        org = factories.Organization()
        response = app.post("/api/action/package_create", headers={"Authorization": user["token"]},
                            json={"name": "api-hotspots", "owner_org": org["id"],
                                  "resources": [{"url": serve(httpserver, "/b.csv", BROKEN),
                                                 "format": "CSV", "table_schema": "hotspots"}]},
                            status=409)
        assert "Falscher Datentyp" in response.get_data(as_text=True)


class TestBadSources:
    """Each problem with fetching a URL gives its own error; nothing is published."""

    @pytest.mark.parametrize("status, content_type, body, expected", [
        (500, "text/plain", b"Interner Fehler", "HTTP 500"),
        (200, "text/html", b"<!DOCTYPE html><html><body>Anmeldung</body></html>", "HTML-Seite"),
        (200, "text/csv", b"", "Die Datei ist leer"),
    ])
    def test_answers(self, steward, httpserver, status, content_type, body, expected):
        url = serve(httpserver, "/x.csv", body, status=status, content_type=content_type)
        with pytest.raises(ValidationError, match=expected):
            create(steward, url)

    @pytest.mark.ckan_config("ckanext.vernetztestadt.validation.url_timeout", "1")
    def test_timeout(self, steward, httpserver):
        def slow(request):
            time.sleep(2.5)
            return Response(german_csv.valid(), content_type="text/csv")

        httpserver.expect_request("/slow.csv").respond_with_handler(slow)
        with pytest.raises(ValidationError, match="nicht innerhalb von 1 Sekunden"):
            create(steward, httpserver.url_for("/slow.csv"))

    @pytest.mark.parametrize("url", ["http://localhost:9/x.csv", "http://10.20.30.40/x.csv",
                                     "file:///etc/passwd.csv"])
    def test_hosts_that_are_not_allowed(self, steward, url):
        with pytest.raises(ValidationError, match=r"nicht freigegeben|Nur http"):
            create(steward, url)

    @pytest.mark.ckan_config("ckanext.vernetztestadt.validation.max_bytes", "1000")
    def test_too_large(self, steward, httpserver):
        with pytest.raises(ValidationError, match=r"Datei zu groß|größer"):
            create(steward, serve(httpserver, "/gross.csv", german_csv.valid(100)))


class TestUploads:
    def test_a_rejected_upload_keeps_the_published_file(self, app, steward, create_with_upload):
        dataset = factories.Dataset(owner_org=steward["org"]["id"], private=True)
        original = german_csv.valid(8)
        resource = create_with_upload(original, "hotspots.csv", context=dict(steward["context"]),
                                      package_id=dataset["id"], format="CSV",
                                      table_schema="hotspots")
        helpers.call_action("package_patch", context=dict(steward["context"]),
                            id=dataset["id"], private=False)

        with pytest.raises(ValidationError) as excinfo:
            create_with_upload(BROKEN, "hotspots.csv", context=dict(steward["context"]),
                               action="resource_update", id=resource["id"], format="CSV",
                               table_schema="hotspots")
        assert "Zeile 4" in refusal(excinfo)
        served = app.get(helpers.call_action("resource_show", id=resource["id"])["url"])
        assert served.data == original

    def test_an_invalid_upload_to_a_public_dataset(self, steward, create_with_upload):
        dataset = factories.Dataset(owner_org=steward["org"]["id"])
        with pytest.raises(ValidationError):
            create_with_upload(BROKEN, "neu.csv", context=dict(steward["context"]),
                               package_id=dataset["id"], format="CSV", table_schema="hotspots")
        assert helpers.call_action("package_show", id=dataset["id"])["resources"] == []

    def test_a_valid_upload_is_recorded(self, steward, create_with_upload):
        dataset = factories.Dataset(owner_org=steward["org"]["id"])
        resource = create_with_upload(german_csv.valid(), "gut.csv",
                                      context=dict(steward["context"]),
                                      package_id=dataset["id"], format="CSV",
                                      table_schema="hotspots")
        report = helpers.call_action("resource_validation_show", resource_id=resource["id"])
        assert report["status"] == "success" and report["sha256"]

    def test_an_uploaded_point_table_gets_a_map_view(self, app, steward, create_with_upload):
        """CKAN's default views: a table with latitude/longitude (Table Schema
        ``hotspots``) gets a map, drawn on the dataset page; a table without
        coordinates (``ranking``) none."""
        dataset = factories.Dataset(owner_org=steward["org"]["id"])
        points = create_with_upload(german_csv.valid(5), "punkte.csv",
                                    context=dict(steward["context"]),
                                    package_id=dataset["id"], format="CSV",
                                    table_schema="hotspots")
        views = helpers.call_action("resource_view_list", id=points["id"])
        assert [v["view_type"] for v in views if v["view_type"].startswith("vernetztestadt")] \
            == ["vernetztestadt_map"]
        page = app.get(f"/dataset/{dataset['name']}").body
        views = page.split('class="vts-dataset-views"')[1].split("</section>")[0]
        assert views.count('<circle cx="') == 5 and "5 Standorte" in views
        sample = Path(__file__).parents[2] / "schemas" / "tables" / "ranking.sample.csv"
        ranking = create_with_upload(sample.read_bytes(), "ranking.csv",
                                     context=dict(steward["context"]),
                                     package_id=dataset["id"], format="CSV",
                                     table_schema="ranking")
        assert not [v for v in helpers.call_action("resource_view_list", id=ranking["id"])
                    if v["view_type"] == "vernetztestadt_map"]


@pytest.mark.usefixtures("clean_redis", "with_test_worker")
@pytest.mark.ckan_config("ckanext.vernetztestadt.validation.sync_max_bytes", "300")
class TestLargeFilesInTheBackground:
    """Beyond the request's limits a job validates; the dataset waits, private."""

    @staticmethod
    def work(cli) -> None:
        from ckan.cli.cli import ckan

        result = cli.invoke(ckan, ["jobs", "worker", "--burst"])
        assert result.exit_code == 0, result.output

    @pytest.mark.ckan_config("ckanext.vernetztestadt.validation.max_seconds", "1")
    def test_a_job_over_its_time_limit_ends_in_error(self, steward, httpserver, cli):
        """The server answers the gate's size check at once and the job's
        download only after the time limit: RQ stops the job, the report
        says "error" (never stays "running") and the dataset stays private."""
        calls = []

        def answer(request):
            calls.append(request.path)
            if len(calls) > 1:
                time.sleep(3)
            return Response(german_csv.valid(40), content_type="text/csv")
        httpserver.expect_request("/langsam.csv").respond_with_handler(answer)
        dataset = create(steward, httpserver.url_for("/langsam.csv"))
        resource_id = dataset["resources"][0]["id"]
        assert dataset["private"] is True

        self.work(cli)
        report = helpers.call_action("resource_validation_show", resource_id=resource_id)
        assert report["status"] == "error"
        assert report["error"]["message"] == "Die Prüfung hat das Zeitlimit überschritten."
        assert helpers.call_action("package_show", id=dataset["id"])["private"] is True

    def test_published_once_valid(self, steward, httpserver, cli):
        dataset = create(steward, serve(httpserver, "/gross.csv", german_csv.valid(40)))
        resource_id = dataset["resources"][0]["id"]
        assert dataset["private"] is True
        report = helpers.call_action("resource_validation_show", resource_id=resource_id)
        assert report["status"] == "created" and report["publish_when_valid"] is True

        self.work(cli)
        report = helpers.call_action("resource_validation_show", resource_id=resource_id)
        assert report["status"] == "success" and report["finished"]
        assert helpers.call_action("package_show", id=dataset["id"])["private"] is False

    def test_stays_private_when_invalid(self, steward, httpserver, cli):
        broken = german_csv.encode([*german_csv.rows(40)[:-1], ["kaputt"] * 11])
        dataset = create(steward, serve(httpserver, "/gross.csv", broken))
        self.work(cli)
        report = helpers.call_action("resource_validation_show",
                                     resource_id=dataset["resources"][0]["id"])
        assert report["status"] == "failure" and report["publish_when_valid"] is False
        assert helpers.call_action("package_show", id=dataset["id"])["private"] is True

    def _public(self, steward, httpserver) -> dict:
        with helpers.changed_config("ckanext.vernetztestadt.validation.sync_max_bytes", "99999"):
            dataset = create(steward, serve(httpserver, "/klein.csv", german_csv.valid(2)))
        assert dataset["private"] is False
        return dataset

    def test_a_new_url_waits_while_the_valid_one_is_served(self, steward, httpserver, cli):
        dataset = self._public(steward, httpserver)
        resource_id = dataset["resources"][0]["id"]
        big = serve(httpserver, "/gross.csv", german_csv.valid(40))
        resource = helpers.call_action("resource_patch", context=dict(steward["context"]),
                                       id=resource_id, url=big)
        assert resource["url"].endswith("/klein.csv")          # still the valid file
        report = helpers.call_action("resource_validation_show", resource_id=resource_id)
        assert report["status"] == "success" and report["staged"]["state"] == "created"
        assert report["staged"]["url"] == big

        self.work(cli)
        resource = helpers.call_action("resource_show", id=resource_id)
        assert resource["url"] == big
        report = helpers.call_action("resource_validation_show", resource_id=resource_id)
        assert report["status"] == "success" and report["staged"] is None
        assert report["url"] == big
        assert helpers.call_action("package_show", id=dataset["id"])["private"] is False

    def test_a_rejected_large_upload_replaces_nothing(self, app, steward, cli,
                                                       create_with_upload):
        dataset = factories.Dataset(owner_org=steward["org"]["id"])
        original = german_csv.valid(2)
        with helpers.changed_config("ckanext.vernetztestadt.validation.sync_max_bytes", "99999"):
            resource = create_with_upload(original, "hotspots.csv",
                                          context=dict(steward["context"]),
                                          package_id=dataset["id"], format="CSV",
                                          table_schema="hotspots")
        broken = german_csv.encode([*german_csv.rows(40), ["kaputt"] * 11])
        create_with_upload(broken, "hotspots.csv", context=dict(steward["context"]),
                           action="resource_update", id=resource["id"], format="CSV",
                           table_schema="hotspots")
        url = helpers.call_action("resource_show", id=resource["id"])["url"]
        assert app.get(url).data == original
        self.work(cli)
        assert app.get(url).data == original
        report = helpers.call_action("resource_validation_show", resource_id=resource["id"])
        assert report["status"] == "success"
        assert report["staged"]["state"] == "failure"
        assert report["staged"]["report"]["tasks"][0]["errors"][0]["rowNumber"] == 42
        assert helpers.call_action("package_show", id=dataset["id"])["private"] is False
        # the steward sees why on the resource and report pages
        headers = {"Authorization": factories.APIToken(user=steward["user"]["name"])["token"]}
        page = app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}", headers=headers)
        assert "Neue Datei abgelehnt" in page.body
        page = app.get(f"/dataset/{dataset['name']}/resource/{resource['id']}/validation",
                       headers=headers)
        assert 'data-staged-state="failure"' in page.body
        assert "Eine neue Datei wurde abgelehnt." in page.body
        assert 'data-error-type="type-error"' in page.body

    def test_a_new_large_resource_on_a_public_dataset(self, steward, httpserver):
        dataset = self._public(steward, httpserver)
        with pytest.raises(ValidationError, match="zu groß für eine Prüfung während"):
            helpers.call_action("resource_create", context=dict(steward["context"]),
                                package_id=dataset["id"], format="CSV",
                                table_schema="hotspots",
                                url=serve(httpserver, "/gross.csv", german_csv.valid(40)))
        assert len(helpers.call_action("package_show", id=dataset["id"])["resources"]) == 1


class TestDatasetForm:
    def test_publishing_through_the_form_is_refused(self, app, httpserver):
        steward = factories.SysadminWithToken()
        org = factories.Organization()
        dataset = helpers.call_action(
            "package_create", context={"user": steward["name"]}, name="formular",
            title="Hotspots", notes="WLAN-Standorte", owner_org=org["id"], private=True,
            resources=[{"url": serve(httpserver, "/b.csv", BROKEN), "format": "CSV",
                        "name": "Hotspots", "table_schema": "hotspots"}])
        form = {key: dataset[key] for key in ("title", "name", "notes", "owner_org",
                                               "license_id")}
        form.update(license_attribution=dataset.get("license_attribution", ""),
                    tag_string="wlan", private="False", save="")
        response = app.post("/dataset/edit/formular", data=form,
                            headers={"Authorization": steward["token"]})
        assert "kann nicht veröffentlicht werden" in response.body
        assert "Zeile 4, Spalte „latitude“" in response.body
        assert helpers.call_action("package_show", id="formular")["private"] is True
