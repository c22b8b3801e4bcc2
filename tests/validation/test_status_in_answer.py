"""The answer of resource_create/resource_update carries the validation
status of the file just handled (issue 17, item 6; the DataStore status
follows with the DataStore loader): a real 3.6 MB Breitbandatlas table
uploaded through the API answers ``success``, a broken one is refused."""
from __future__ import annotations

import io
from pathlib import Path

import german_csv
import pytest
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("clean_db", "clean_index")

BREITBANDATLAS = (Path(__file__).resolve().parents[3] / "shared" / "data" / "breitbandatlas"
                  / "gemeinde_bezirke_privat_2020_ende.csv")


@pytest.fixture
def editor_and_dataset():
    editor = factories.UserWithToken()
    org = factories.Organization(users=[{"name": editor["name"], "capacity": "editor"}])
    return editor, factories.Dataset(owner_org=org["id"])


def upload(app, action: str, token: str, data: bytes, filename: str, **fields: str):
    return app.post(f"/api/3/action/{action}", headers={"Authorization": token},
                    data={**fields, "upload": (io.BytesIO(data), filename)})


@pytest.mark.skipif(not BREITBANDATLAS.exists(),
                    reason=f"{BREITBANDATLAS} fehlt / missing (../shared/data)")
def test_a_real_breitbandatlas_table_answers_success(app, editor_and_dataset):
    editor, dataset = editor_and_dataset
    data = BREITBANDATLAS.read_bytes()
    created = upload(app, "resource_create", editor["token"], data, BREITBANDATLAS.name,
                     package_id=dataset["id"], name="Breitband Ende 2020")
    assert created.status_code == 200, created.json
    resource = created.json["result"]
    assert resource["validation_status"] == "success"
    assert resource["size"] == len(data)
    updated = upload(app, "resource_update", editor["token"], data, BREITBANDATLAS.name,
                     id=resource["id"], name="Breitband Ende 2020 (neu)")
    assert updated.status_code == 200, updated.json
    assert updated.json["result"]["validation_status"] == "success"


def test_the_answer_of_an_update_names_the_new_files_status(app, editor_and_dataset):
    editor, dataset = editor_and_dataset
    created = upload(app, "resource_create", editor["token"], german_csv.valid(), "wlan.csv",
                     package_id=dataset["id"], format="CSV", table_schema="hotspots")
    assert created.json["result"]["validation_status"] == "success"
    broken = german_csv.with_cell(2, "latitude", "keine Zahl")
    refused = upload(app, "resource_update", editor["token"], broken, "wlan.csv",
                     id=created.json["result"]["id"], format="CSV", table_schema="hotspots")
    assert refused.status_code == 409
    assert "nicht veröffentlicht" in refused.json["error"]["private"][0]
