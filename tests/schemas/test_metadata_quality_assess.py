"""The metadata quality score as a pure function: ``assess`` on dataset dicts
in ``package_show``'s form, without CKAN, database or search engine (the
portal's plugins are not loaded for these tests)."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from schema_examples import TYPE_FIELDS, example

from ckanext.vernetztestadt.quality import criteria as criteria_module
from ckanext.vernetztestadt.quality.assess import FAIR, GOOD, POOR, assess
from ckanext.vernetztestadt.quality.criteria import CriteriaError, load, parse

ROOT = Path(__file__).resolve().parents[2]
LICENCES = {entry["id"]: entry["url"]
            for entry in json.loads((ROOT / "schemas" / "licenses.json").read_text())}
CRITERIA = ROOT / "ckanext" / "vernetztestadt" / "quality" / "criteria.yaml"
TYPES = sorted(TYPE_FIELDS)


@pytest.fixture(autouse=True)
def _portal_plugins():
    """Overrides tests/conftest.py's: no CKAN plugins for a pure function."""
    yield


def shown(sent: dict) -> dict:
    """An API client's dataset as package_show returns it: tags from the tag
    string, the licence's URL, the organization, the defaults."""
    dataset = copy.deepcopy(sent)
    dataset["tags"] = [{"name": t} for t in dataset.pop("tag_string", "").split(",") if t]
    dataset.setdefault("license_id", "dl-de-by-2.0")
    dataset.setdefault("license_attribution", "Datenquelle: Stadt Gelsenkirchen")
    dataset.setdefault("ags", "05513000")
    dataset["license_url"] = LICENCES.get(dataset["license_id"], "")
    dataset["organization"] = {"name": "stadt-gelsenkirchen", "title": "Stadt Gelsenkirchen"}
    for position, resource in enumerate(dataset.get("resources", [])):
        resource.setdefault("id", f"r{position}")
    return dataset


def minimal(dataset_type: str) -> dict:
    """What tests/schemas/test_dcat_ap_de.py sends as a minimal dataset."""
    return shown({"type": dataset_type, "name": "minimal", "title": "Minimal",
                  "notes": "Nur die Pflichtfelder.",
                  **{k: v for k, v in TYPE_FIELDS[dataset_type].items()
                     if k in ("reference_date", "broadband_source", "ranking", "edition")},
                  "resources": [{"url": "http://example.invalid/daten.csv", "format": "CSV"}]})


def ids(result) -> set[str]:
    return {finding.criterion for finding in result.findings}


# -- the criteria --------------------------------------------------------------
def test_the_shipped_criteria_are_complete_and_sourced():
    found = load()
    levels = {c.level for c in found.items}
    assert levels == {"MUST", "SHOULD", "MAY"}
    for criterion in found.items:
        assert criterion.message.strip() and criterion.source.strip(), criterion.id
        if criterion.level == "MUST":  # only what a published shape makes a violation
            assert not criterion.source.startswith("Portal"), criterion.id
            assert any(mark in criterion.source for mark in ("K", "DCAT-AP 3.0.0")), criterion.id
    assert {c.id for c in found.items if c.level == "MUST"} == {
        "title", "description", "publisher", "license", "contact_reachable",
        "distribution_access_url", "distribution_format_vocabulary", "distribution_license"}


@pytest.mark.parametrize(("change", "complaint"), [
    ({"level": "MUSS"}, "level"),
    ({"check": "guess"}, "check"),
    ({"weight": 0}, "weight"),
    ({"scope": "catalog"}, "scope"),
])
def test_a_wrong_criterion_is_refused_when_loaded(change, complaint):
    entry = {"id": "x", "level": "MUST", "weight": 1, "scope": "dataset", "check": "present",
             "reads": ["notes"], "field": "notes", "message": "m", "source": "s", **change}
    with pytest.raises(CriteriaError, match=complaint):
        parse(json.dumps({"criteria": [entry]}))


def test_an_id_used_twice_is_refused():
    entry = {"id": "x", "level": "MAY", "weight": 1, "scope": "dataset", "check": "present",
             "reads": ["notes"], "field": "notes", "message": "m", "source": "s"}
    with pytest.raises(CriteriaError, match="twice"):
        parse(json.dumps({"criteria": [entry, entry]}))


def test_the_catalogue_extractor_finds_every_message():
    with CRITERIA.open("rb") as f:
        extracted = list(criteria_module.extract(f, ["_"], [], {}))
    assert [message for _, _, message, _ in extracted] == [c.message for c in load().items]
    lines = CRITERIA.read_text(encoding="utf-8").splitlines()
    for line, _, message, comments in extracted:
        assert message in lines[line - 1] and comments[0].startswith("quality: ")


# -- complete and minimal datasets ---------------------------------------------
@pytest.mark.parametrize("dataset_type", TYPES)
def test_a_complete_dataset_meets_every_criterion(dataset_type):
    result = assess(shown(example(dataset_type)))
    assert (result.score, result.grade, result.findings) == (100, GOOD, ())


@pytest.mark.parametrize("dataset_type", TYPES)
def test_a_minimal_dataset_breaks_no_must_but_lacks_much(dataset_type):
    result = assess(minimal(dataset_type))
    assert result.must == ()
    expected = {"keywords", "theme", "contact_point", "issued", "landing_page",
                "distribution_title", "frequency", "modified", "temporal_coverage"}
    if dataset_type == "broadband_coverage":
        expected.discard("temporal_coverage")  # its reference date says when
    assert ids(result) == expected
    assert result.grade == FAIR and 50 < result.score < 80
    assert [f.level for f in result.findings] == sorted(
        (f.level for f in result.findings), key=("MUST", "SHOULD", "MAY").index)


# -- single criteria -----------------------------------------------------------
def test_a_licence_outside_the_dcat_ap_de_list_is_a_must():
    dataset = shown(example("dataset"))
    dataset.update(license_id="notspecified", license_url="")
    result = assess(dataset)
    assert ids(result) == {"license"} and result.grade == POOR
    finding = result.must[0]
    assert (finding.field, finding.anchor, finding.form) == (
        "license_id", "field-license_id", "dataset")
    assert finding.message.startswith("Eine Lizenz aus der DCAT-AP.de-Liste")


def test_the_publisher_may_be_the_organization():
    dataset = shown(example("dataset"))
    dataset["publisher"] = []
    assert ids(assess(dataset)) == set()
    dataset["organization"] = None
    result = assess(dataset)
    assert ids(result) == {"publisher"}
    assert (result.must[0].field, result.must[0].subfield, result.must[0].anchor) == (
        "publisher", "name", "field-publisher-0-name")


def test_every_contact_needs_an_email_or_a_url():
    dataset = shown(example("dataset"))
    dataset["contact"] = [{"name": "Team", "url": "https://www.gelsenkirchen.de"},
                          {"name": "Nur ein Name"}]
    assert ids(assess(dataset)) == {"contact_reachable"}
    dataset["contact"] = [{"name": "Team", "url": "https://www.gelsenkirchen.de"}]
    assert ids(assess(dataset)) == set()
    dataset["contact"] = []
    assert ids(assess(dataset)) == {"contact_point"}  # the export names the portal's


def test_resource_findings_name_the_resource_and_its_position():
    dataset = shown(example("dataset"))
    dataset["resources"].append({"id": "r1", "name": "Zweite", "format": "XYZ", "url": ""})
    result = assess(dataset)
    assert ids(result) == {"distribution_access_url", "distribution_format_vocabulary"}
    assert {(f.criterion, f.resource_id, f.resource_name, f.position, f.form, f.anchor)
            for f in result.findings} == {
        ("distribution_access_url", "r1", "Zweite", 1, "resource", "resource-menu-label"),
        ("distribution_format_vocabulary", "r1", "Zweite", 1, "resource", "field-format")}


def test_a_missing_format_is_a_should_an_unknown_one_a_must():
    dataset = shown(example("dataset"))
    dataset["resources"][0]["format"] = ""
    assert ids(assess(dataset)) == {"distribution_format"}
    dataset["resources"][0]["format"] = "geojson"  # CKAN's labels, any case
    assert ids(assess(dataset)) == set()


def test_an_own_resource_licence_must_be_from_the_list():
    dataset = shown(example("dataset"))
    dataset["resources"][0]["license"] = "http://dcat-ap.de/def/licenses/cc-zero"
    assert ids(assess(dataset)) == set()
    dataset["resources"][0]["license"] = "Alle Rechte vorbehalten"
    assert ids(assess(dataset)) == {"distribution_license"}


def test_attribution_only_for_licences_that_ask_for_it():
    dataset = shown({**example("dataset"), "license_attribution": ""})
    assert ids(assess(dataset)) == {"license_attribution"}
    dataset.update(license_id="cc-zero-1.0", license_url=LICENCES["cc-zero-1.0"])
    assert ids(assess(dataset)) == set()


def test_a_dataset_without_resources_is_not_good():
    dataset = shown({**example("dataset"), "resources": []})
    result = assess(dataset)
    assert ids(result) == {"distribution"} and result.must == ()
    assert result.grade == FAIR and result.score < 80


def test_the_score_weighs_criteria_and_shares_of_resources():
    two = parse(json.dumps({"good_from": 90, "criteria": [
        {"id": "notes", "level": "SHOULD", "weight": 1, "scope": "dataset", "check": "present",
         "reads": ["notes"], "field": "notes", "message": "m", "source": "s"},
        {"id": "names", "level": "MAY", "weight": 3, "scope": "resource", "check": "present",
         "reads": ["name"], "field": "name", "message": "m", "source": "s"}]}))
    dataset = {"notes": "", "resources": [{"name": "a"}, {"name": " "}]}
    result = assess(dataset, two)
    assert result.score == round(100 * 1.5 / 4) and result.grade == FAIR
    assert [(f.criterion, f.position) for f in result.findings] == [
        ("notes", None), ("names", 1)]
    assert assess({"notes": "x", "resources": [{"name": "a"}]}, two).grade == GOOD


@pytest.mark.parametrize("odd", [
    {"contact": "opendata@example.invalid", "publisher": {"name": "Stadt"}},
    {"resources": "keine", "tags": None, "theme": {}},
    {"resources": [None, "x", {"url": 5}], "organization": "Stadt", "license_url": None},
])
def test_odd_values_are_judged_not_fatal(odd):
    result = assess({"title": "t", "notes": "n", **odd})
    assert 0 <= result.score <= 100 and result.grade in (GOOD, FAIR, POOR)


def test_the_result_as_a_dict():
    result = assess(minimal("dataset")).as_dict()
    assert set(result) == {"score", "grade", "must", "findings"}
    assert {"criterion", "level", "message", "field", "anchor"} <= set(result["findings"][0])
    assert json.loads(json.dumps(result)) == result
