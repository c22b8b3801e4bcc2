"""Files uploaded with package_create (``create_uploads``): stored as
package_update stores them, validated by the gate first, never written for a
caller who may not create, never over another resource's file, and gone
again when the creation is refused."""
from __future__ import annotations

import io
import uuid
from pathlib import Path
from urllib.parse import urlparse

import german_csv
import pytest
from ckan.lib.uploader import ResourceUpload, get_storage_path
from ckan.logic import NotAuthorized, NotFound, ValidationError
from ckan.tests import factories, helpers
from werkzeug.datastructures import FileStorage

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")


@pytest.fixture
def city():
    editor = factories.User()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    return {"editor": editor, "org": org, "context": {"user": editor["name"],
                                                       "ignore_auth": False}}


def table_resource(data: bytes, filename: str = "hotspots.csv", **extra: str) -> dict:
    return {"name": "Hotspots", "format": "CSV", "url": filename, "url_type": "upload",
            "table_schema": "hotspots",
            "upload": FileStorage(io.BytesIO(data), filename=filename), **extra}


def dataset(org: dict, *resources: dict, **extra: object) -> dict:
    return {"name": f"wlan-{uuid.uuid4().hex[:8]}", "title": "WLAN-Hotspots",
            "owner_org": org["id"], "notes": "Öffentliche WLAN-Hotspots.",
            "license_id": "dl-de-by-2.0", "resources": list(resources), **extra}


def stored_files() -> set[Path]:
    folder = Path(get_storage_path()) / "resources"
    return {path for path in folder.rglob("*") if path.is_file()} if folder.exists() else set()


def test_a_new_dataset_gets_its_files_in_one_call(app, city):
    data = german_csv.valid()
    created = helpers.call_action("package_create", dict(city["context"]),
                                  **dataset(city["org"], table_resource(data)))
    resource = created["resources"][0]
    assert resource["url_type"] == "upload"
    assert resource["url"].endswith("/download/hotspots.csv")
    assert resource["size"] == len(data)
    assert resource["mimetype"] == "text/csv"
    assert Path(ResourceUpload(resource).get_path(resource["id"])).read_bytes() == data
    response = app.get(urlparse(resource["url"]).path)
    assert response.status_code == 200 and response.data == data
    status = helpers.call_action("resource_show", {}, id=resource["id"])
    assert status["validation_status"] == "success"


def test_one_activity_for_a_new_dataset_with_files(city):
    created = helpers.call_action("package_create", dict(city["context"]),
                                  **dataset(city["org"], table_resource(german_csv.valid())))
    activities = helpers.call_action("package_activity_list", {}, id=created["id"])
    assert [a["activity_type"] for a in activities] == ["new package"]


def test_a_refused_table_leaves_no_dataset_and_no_file(city):
    before = stored_files()
    broken = german_csv.with_cell(2, "latitude", "keine Zahl")
    wanted = dataset(city["org"], table_resource(broken))
    with pytest.raises(ValidationError) as refused:
        helpers.call_action("package_create", dict(city["context"]), **wanted)
    assert "kann nicht veröffentlicht werden" in str(refused.value.error_dict)
    assert stored_files() == before
    with pytest.raises(NotFound):
        helpers.call_action("package_show", {}, id=wanted["name"])


def test_a_failing_creation_removes_the_files_written_for_it(city):
    """CKAN's own validation fails after the table passed and the files were
    stored (a name CKAN refuses): nothing stays in the storage."""
    before = stored_files()
    wanted = {**dataset(city["org"], table_resource(german_csv.valid())),
              "name": "Kein gültiger Name!"}
    with pytest.raises(ValidationError) as refused:
        helpers.call_action("package_create", dict(city["context"]), **wanted)
    assert "name" in refused.value.error_dict
    assert stored_files() == before


@pytest.mark.parametrize("who", ["anonymous", "outsider"])
def test_no_file_is_written_for_who_may_not_create(city, who):
    before = stored_files()
    user = "" if who == "anonymous" else factories.User()["name"]
    with pytest.raises(NotAuthorized):
        helpers.call_action("package_create", {"user": user, "ignore_auth": False},
                            **dataset(city["org"], table_resource(german_csv.valid())))
    assert stored_files() == before


def test_an_existing_resource_id_cannot_be_written_over(city):
    """A sysadmin creating a dataset with the id of another dataset's
    resource: refused, and that resource's file stays byte-identical."""
    first = helpers.call_action("package_create", dict(city["context"]),
                                **dataset(city["org"], table_resource(german_csv.valid())))
    victim = first["resources"][0]
    path = Path(ResourceUpload(victim).get_path(victim["id"]))
    original = path.read_bytes()
    sysadmin = factories.Sysadmin()
    with pytest.raises(ValidationError):
        helpers.call_action("package_create", {"user": sysadmin["name"]}, **dataset(
            city["org"], table_resource(german_csv.valid(count=2), id=victim["id"])))
    assert path.read_bytes() == original


@pytest.mark.parametrize("hostile", ["../../../../tmp/x", "abc/../../def", "kein-uuid"])
def test_a_resource_id_that_is_no_uuid_is_refused_before_any_file(city, hostile):
    before = stored_files()
    sysadmin = factories.Sysadmin()
    with pytest.raises(ValidationError) as refused:
        helpers.call_action("package_create", {"user": sysadmin["name"]}, **dataset(
            city["org"], table_resource(german_csv.valid(), id=hostile)))
    assert "UUID" in str(refused.value.error_dict)
    assert stored_files() == before
