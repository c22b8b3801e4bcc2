"""The dataset form in the browser, for every type: German labels, several
pages, and a complete dataset saved through it (HTTP, as a steward would)."""
from __future__ import annotations

import pytest
from ckan.tests import factories, helpers
from schema_examples import TYPE_FIELDS, example

pytestmark = [
    pytest.mark.usefixtures("clean_db", "clean_index"),
    # their CSV resources point at made-up URLs; the gate has tests/validation
    pytest.mark.ckan_config("ckanext.vernetztestadt.validation.gate", "false"),
]

TYPES = list(TYPE_FIELDS)
URL_PREFIX = {t: "/" + t for t in TYPES}


@pytest.fixture
def steward():
    return factories.SysadminWithToken()


def _flat(prefix: str, items: list[dict]) -> dict[str, str]:
    """Repeating subfields as the form names them: ``contact-0-name``."""
    return {f"{prefix}-{i}-{key}": str(value)
            for i, item in enumerate(items) for key, value in item.items()}


def _form_pages(data: dict, dataset_type: str) -> list[dict]:
    page1 = {k: data[k] for k in ("title", "name", "notes", "tag_string", "owner_org",
                                  "license_id", "license_attribution", "frequency")}
    page1["theme"] = data["theme"]
    page2 = {"ags": data["ags"], "political_geocoding_level": data["political_geocoding_level"],
             **_flat("temporal_coverage", data["temporal_coverage"]),
             **_flat("spatial_coverage", data["spatial_coverage"])}
    page3 = {k: data[k] for k in ("contributor_id", "issued", "modified", "url", "version")}
    page3.update(_flat("contact", data["contact"]), **_flat("publisher", data["publisher"]))
    pages = [page1, page2, page3]
    if TYPE_FIELDS[dataset_type]:
        extra = {k: v for k, v in TYPE_FIELDS[dataset_type].items()}
        pages.append({k: v if isinstance(v, list) else str(v) for k, v in extra.items()})
    return pages


@pytest.mark.parametrize("dataset_type", TYPES)
def test_form_shows_german_labels_on_pages(app, steward, city_org, dataset_type):
    headers = {"Authorization": steward["token"]}
    page = app.get(f"{URL_PREFIX[dataset_type]}/new", headers=headers)
    assert page.status_code == 200
    assert "Titel" in page.body and "Beschreibung" in page.body
    assert "Grunddaten" in page.body and "Zeit und Raum" in page.body  # page list


@pytest.mark.search  # indexes every field of each type
@pytest.mark.parametrize("dataset_type", TYPES)
def test_complete_dataset_through_the_form(app, steward, city_org, dataset_type):
    headers = {"Authorization": steward["token"]}
    data = example(dataset_type, name=f"form-{dataset_type.replace('_', '-')}")
    data["owner_org"] = city_org["id"]
    pages = _form_pages(data, dataset_type)
    prefix = URL_PREFIX[dataset_type]
    res = app.post(f"{prefix}/new", data=dict(pages[0], save="continue",
                                              _ckan_phase="dataset_new_1"),
                   headers=headers, follow_redirects=False)
    assert res.status_code == 302, res.body[:2000]
    for number, fields in enumerate(pages[1:], start=2):
        res = app.post(f"{prefix}/new/{data['name']}/{number}", data=dict(fields, save="continue"),
                       headers=headers, follow_redirects=False)
        assert res.status_code == 302, (number, res.body[:2000])
    resource = dict(data["resources"][0], save="go-metadata", id="")
    res = app.post(f"/dataset/{data['name']}/resource/new", data=resource, headers=headers,
                   follow_redirects=False)
    assert res.status_code == 302, res.body[:2000]
    shown = helpers.call_action("package_show", id=data["name"])
    assert shown["state"] == "active"
    assert shown["type"] == dataset_type
    assert shown["ags"] == "05513000"
    assert shown["temporal_coverage"] == [{"start": "2017-01-01", "end": "2025-12-31"}]
    assert sorted(shown["theme"]) == sorted(data["theme"])
    assert shown["contact"][0]["email"] == "opendata@example.invalid"
    assert shown["resources"][0]["table_schema"] == "hotspots"
    for key, value in TYPE_FIELDS[dataset_type].items():
        assert shown[key] == value, key


def test_form_reports_field_errors_in_german(app, steward, city_org):
    headers = {"Authorization": steward["token"]}
    data = example("dataset", name="form-fehler")
    data["owner_org"] = city_org["id"]
    pages = _form_pages(data, "dataset")
    app.post("/dataset/new", data=dict(pages[0], save="continue", _ckan_phase="dataset_new_1"),
             headers=headers, follow_redirects=False)
    bad = dict(pages[1], ags="123", save="continue")
    res = app.post("/dataset/new/form-fehler/2", data=bad, headers=headers,
                   follow_redirects=False)
    assert res.status_code == 200
    assert "8 Ziffern" in res.body
    assert helpers.call_action("package_show", id="form-fehler")["ags"] == "05513000"


def test_an_edit_page_saves_changed_contacts(app, steward, city_org):
    """Editing the contact page keeps what the steward typed (scheming's page
    view patches the dataset; the stored contacts used to win)."""
    headers = {"Authorization": steward["token"]}
    data = example("dataset", name="kontakt-aendern")
    data["owner_org"] = city_org["id"]
    helpers.call_action("package_create", context={"user": steward["name"]},
                        **{**data, "resources": []})
    page3 = _form_pages(data, "dataset")[2]
    page3.update(_flat("contact", [{"name": "Neues Team", "email": "neu@example.invalid",
                                    "url": ""}]))
    res = app.post("/dataset/edit/kontakt-aendern/3", data=dict(page3, save="continue"),
                   headers=headers, follow_redirects=False)
    assert res.status_code == 302, res.body[:2000]
    shown = helpers.call_action("package_show", id="kontakt-aendern")
    assert [c["email"] for c in shown["contact"]] == ["neu@example.invalid"]
    assert shown["publisher"] == data["publisher"]  # the other list as it was
