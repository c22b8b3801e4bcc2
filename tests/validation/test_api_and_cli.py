"""ckanext-validation's API (same names, parameters, statuses, report shape)
and ``ckan vernetztestadt validate``."""
from __future__ import annotations

import german_csv
import pytest
from ckan.cli.cli import ckan
from ckan.logic import NotAuthorized, ValidationError
from ckan.logic import NotFound as ObjectNotFound
from ckan.tests import factories, helpers

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

BROKEN = german_csv.with_cell(2, "longitude", "östlich")


@pytest.fixture
def city(httpserver):
    """An editor, an outsider, a public and a private dataset of the city."""
    editor, outsider = factories.User(), factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    good = httpserver.url_for("/gut.csv")
    httpserver.expect_request("/gut.csv").respond_with_data(german_csv.valid(), 200)
    httpserver.expect_request("/kaputt.csv").respond_with_data(BROKEN, 200)

    def dataset(name: str, url: str, private: bool) -> dict:
        return helpers.call_action(
            "package_create", context={"user": editor["name"]}, name=name, notes="WLAN",
            owner_org=org["id"], private=private,
            resources=[{"url": url, "format": "CSV", "table_schema": "hotspots",
                        "name": "Standorte"}])

    return {"editor": editor, "outsider": outsider,
            "public": dataset("offen", good, False),
            "private": dataset("intern", httpserver.url_for("/kaputt.csv"), True)}


def as_user(user: dict | None, action: str, **params):
    context = {"user": user["name"] if user else "", "ignore_auth": False}
    return helpers.call_action(action, context=context, **params)


def resource_id(dataset: dict) -> str:
    return dataset["resources"][0]["id"]


class TestActions:
    def test_show_has_ckanext_validation_shape(self, city):
        report = as_user(None, "resource_validation_show", resource_id=resource_id(city["public"]))
        assert {"id", "resource_id", "status", "report", "error", "created", "finished"} <= \
            set(report)
        assert report["status"] == "success"
        assert report["report"]["valid"] is True and report["report"]["tasks"][0]["valid"]

    def test_private_reports_stay_private(self, city):
        rid = resource_id(city["private"])
        for user in (None, city["outsider"]):
            with pytest.raises(NotAuthorized):
                as_user(user, "resource_validation_show", resource_id=rid)
        report = as_user(city["editor"], "resource_validation_show", resource_id=rid)
        assert report["status"] == "failure"
        error = report["report"]["tasks"][0]["errors"][0]
        assert (error["type"], error["rowNumber"], error["fieldName"]) == \
            ("type-error", 3, "longitude")

    def test_run_and_delete_need_edit_rights(self, city):
        rid = resource_id(city["public"])
        for action in ("resource_validation_run", "resource_validation_delete"):
            with pytest.raises(NotAuthorized):
                as_user(city["outsider"], action, resource_id=rid)

    def test_run_sync_then_delete(self, city):
        rid = resource_id(city["private"])
        report = as_user(city["editor"], "resource_validation_run", resource_id=rid,
                         **{"async": False})
        assert report["status"] == "failure"
        as_user(city["editor"], "resource_validation_delete", resource_id=rid)
        with pytest.raises(ObjectNotFound):
            as_user(city["editor"], "resource_validation_show", resource_id=rid)
        with pytest.raises(ObjectNotFound):
            as_user(city["editor"], "resource_validation_delete", resource_id=rid)

    @pytest.mark.usefixtures("clean_redis", "with_test_worker")
    def test_run_async_in_a_job(self, city, cli):
        rid = resource_id(city["public"])
        report = as_user(city["editor"], "resource_validation_run", resource_id=rid)
        assert report["status"] == "created" and report["job_id"]
        assert cli.invoke(ckan, ["jobs", "worker", "--burst"]).exit_code == 0
        assert as_user(None, "resource_validation_show", resource_id=rid)["status"] == "success"

    def test_only_tables(self, city):
        dataset = factories.Dataset(owner_org=city["public"]["owner_org"],
                                    resources=[{"url": "http://example.invalid/plan.pdf",
                                                "format": "PDF"}])
        with pytest.raises(ValidationError):
            helpers.call_action("resource_validation_run", resource_id=resource_id(dataset),
                                **{"async": False})

    def test_over_http(self, app, city):
        response = app.get("/api/action/resource_validation_show",
                           query_string={"resource_id": resource_id(city["public"])})
        assert response.json["result"]["status"] == "success"
        response = app.get("/api/action/resource_validation_show",
                           query_string={"resource_id": resource_id(city["private"])},
                           status=403)
        assert response.json["success"] is False


class TestCli:
    def test_sync_summary_and_exit_code(self, city, cli):
        result = cli.invoke(ckan, ["vernetztestadt", "validate", "--all", "--sync"])
        assert result.exit_code == 1, result.output
        assert "intern / Standorte: failure" in result.output
        assert "2 Ressourcen / resources: 1 failure, 1 success" in result.output

    def test_only_failed_and_named(self, city, cli):
        result = cli.invoke(ckan, ["vernetztestadt", "validate", "offen", "--sync"])
        assert result.exit_code == 0, result.output
        assert "1 Ressourcen / resources: 1 success" in result.output
        result = cli.invoke(ckan, ["vernetztestadt", "validate", "--all", "--only-failed",
                                   "--sync"])
        assert "1 Ressourcen / resources: 1 failure" in result.output

    def test_usage(self, cli):
        result = cli.invoke(ckan, ["vernetztestadt", "validate"])
        assert result.exit_code == 2
        assert "--all" in result.output
