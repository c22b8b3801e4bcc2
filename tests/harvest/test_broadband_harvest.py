"""The broadband harvester on the shared framework: one dataset per reference
date and a time series with a chart, through ckanext-harvest's stages and
the publication gate. Documents (synthetic, fixtures/broadband/README.md)
are served by pytest-httpserver; the shipped source
``breitband-gelsenkirchen`` is harvested from its real snapshots
(harvesters/snapshots/README.md)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from ckan.lib.uploader import get_resource_uploader
from ckan.logic import ValidationError
from ckan.tests import helpers
from conftest import site_user

from ckanext.vernetztestadt.harvest import runner, sources

FIXTURES = Path(__file__).parent / "fixtures" / "broadband"
GE = "05513000"
SHIPPED = "breitband-gelsenkirchen"
ATTRIBUTION = "Breitbandatlas | Gigabit-Grundbuch"
#: Gelsenkirchen's published shares of households (Breitbandatlas, end of 2018 and 2020)
PUBLISHED = {("2018-12-31", "all", "1000"): "6.0", ("2020-12-31", "all", "1000"): "81.18",
             ("2018-12-31", "all", "50"): "98.0", ("2020-12-31", "all", "50"): "99.39",
             ("2018-12-31", "ftth_b", "1000"): "6.0", ("2020-12-31", "ftth_b", "1000"): "47.99"}


def serve(httpserver, name: str) -> str:
    httpserver.expect_request(f"/{name}").respond_with_data((FIXTURES / name).read_bytes())
    return httpserver.url_for(f"/{name}")


def rows_of(dataset: dict) -> list[dict]:
    resource = next(r for r in dataset["resources"] if r["format"] == "CSV")
    with open(get_resource_uploader(resource).get_path(resource["id"]), encoding="utf-8",
              newline="") as handle:
        return list(csv.DictReader(handle))


def make(make_source, httpserver, documents: list[dict], **config) -> dict:
    return make_source("breitband", documents[0]["url"],
                       {"documents": documents, "dataset_type": "broadband_coverage",
                        **config}, source_type="vernetztestadt_broadband")


@pytest.mark.search  # the job indexes
def test_one_dataset_per_reference_date_and_a_series(make_source, harvest, httpserver, app):
    make(make_source, httpserver, [
        {"url": serve(httpserver, "german_semicolon.csv"), "reference_date": "2024-06-30"},
        {"url": serve(httpserver, "legacy.csv")}])  # the file says 31.12.2019
    result = harvest("breitband")
    assert result.errors == [] and result.counts == {"added": 3}

    recent = helpers.call_action("package_show", id=f"breitband-{GE}-2024-06-30")
    assert recent["type"] == "broadband_coverage" and recent["ags"] == GE
    assert recent["reference_date"].startswith("2024-06-30")
    assert recent["validation_status"] == "success"
    assert "ftth_b" in recent["technologies"]
    fibre = [r for r in rows_of(recent) if r["technology"] == "ftth_b"]
    assert [(r["min_mbit"], r["ags"]) for r in fibre] == [("1000", GE)]
    older = helpers.call_action("package_show", id=f"breitband-{GE}-2019-12-31")
    assert {r["reference_date"] for r in rows_of(older)} == {"2019-12-31"}

    series = helpers.call_action("package_show", id=f"breitband-{GE}-zeitreihe")
    assert {r["reference_date"] for r in rows_of(series)} == {"2019-12-31", "2024-06-30"}
    page = app.get(f"/dataset/breitband-{GE}-zeitreihe").body
    assert 'data-series="alle Technologien ≥ 1000 Mbit/s"' in page
    assert 'data-series="FTTH/B ≥ 1000 Mbit/s"' in page
    # 50 Mbit/s is in both layouts: one line across both dates
    line = page.split('data-series="alle Technologien ≥ 50 Mbit/s"')[1].split("/>")[0]
    assert line.count(",") == 2
    assert "30.06.2024" in page  # dates written as dates on the axis


@pytest.mark.search  # the job indexes
def test_two_worker_processes_publish_what_one_does(make_source, harvest, httpserver):
    """``workers=2``: two forked processes fetch and import the objects, as
    two fetch consumers would; the same datasets, files, statuses and
    counts, and a re-run changes nothing."""
    make(make_source, httpserver, [
        {"url": serve(httpserver, "german_semicolon.csv"), "reference_date": "2024-06-30"},
        {"url": serve(httpserver, "legacy.csv")}])
    seen = []
    result = harvest("breitband", lambda done, total: seen.append((done, total)), workers=2)
    assert result.errors == [] and result.counts == {"added": 3}
    assert seen == [(1, 3), (2, 3), (3, 3)]
    for name in ("2024-06-30", "2019-12-31", "zeitreihe"):
        dataset = helpers.call_action("package_show", id=f"breitband-{GE}-{name}")
        assert dataset["validation_status"] == "success"
        assert rows_of(dataset)
    again = harvest("breitband", workers=2)
    assert again.errors == [] and again.counts == {"not modified": 3}


@pytest.mark.search  # the job indexes
def test_skipped_values_are_counted_in_the_job_log(make_source, harvest, httpserver):
    make(make_source, httpserver, [{"url": serve(httpserver, "coded.csv"),
                                    "reference_date": "2025-06-30"}])
    assert harvest("breitband").errors == []
    # a long limit: in the test session ckanext-harvest adds its database log
    # handler again on every plugin load, so each line is stored many times
    # and the newest 100 entries can all be copies of the job's last line
    log = [e["content"] for e in helpers.call_action(
        "harvest_log_list", context={"user": site_user()}, level="info", limit=5000)]
    assert any("übersprungen: unbekannte Spalte: 1" in line for line in log)


@pytest.mark.search  # the job indexes
def test_an_ags_missing_from_the_file_publishes_nothing(make_source, harvest, httpserver):
    make(make_source, httpserver, [{"url": serve(httpserver, "german_semicolon.csv"),
                                    "reference_date": "2024-06-30"}], ags="05111000")
    result = harvest("breitband")
    assert result.counts == {} and "05111000" in result.errors[0]
    assert result.errors[0].startswith("Quelle „Breitband“")
    assert helpers.call_action("package_list") == ["breitband"]


@pytest.mark.search  # the job indexes
def test_a_missing_reference_date_is_named(make_source, harvest, httpserver):
    make(make_source, httpserver, [{"url": serve(httpserver, "german_semicolon.csv")}])
    result = harvest("breitband")
    assert result.counts == {} and "Stichtag" in result.errors[0]


def test_the_source_config_is_checked(make_source):
    with pytest.raises(ValidationError) as refused:
        make_source("breitband", "http://127.0.0.1/x.csv",
                    {"reference_date": "30.06.2024"}, source_type="vernetztestadt_broadband")
    assert "„reference_date“ muss ein Datum JJJJ-MM-TT sein" in json.dumps(
        refused.value.error_dict, ensure_ascii=False)


def shares(dataset: dict) -> dict[tuple[str, str, str], str]:
    """(reference date, technology, min_mbit) -> households_pct as published."""
    return {(r["reference_date"], r["technology"], r["min_mbit"]): r["households_pct"]
            for r in rows_of(dataset)}


@pytest.mark.search  # the job indexes
def test_the_shipped_source_publishes_the_real_figures(city, app):
    """``make portal``'s broadband source from its snapshots: the two
    reference dates of the Breitbandatlas tables and the time series, with
    Gelsenkirchen's published values and the attribution the source requires."""
    runner.sync([d for d in sources.shipped() if d.name == SHIPPED])
    result = runner.run(SHIPPED)
    assert result.errors == [] and result.counts == {"added": 3}
    dated = {day: helpers.call_action("package_show", id=f"breitband-{GE}-{day}")
             for day in ("2018-12-31", "2020-12-31")}
    for day, dataset in dated.items():
        assert dataset["reference_date"].startswith(day)
        assert dataset["title"] == (f"Breitbandverfügbarkeit Gelsenkirchen, Stand "
                                    f"31.12.{day[:4]}")  # no note of synthetic data
        assert {r["reference_date"] for r in rows_of(dataset)} == {day}
    series = helpers.call_action("package_show", id=f"breitband-{GE}-zeitreihe")
    found = shares(series)
    assert {key: found[key] for key in PUBLISHED} == PUBLISHED
    assert len(found) == 45 + 53  # every column of both tables
    for dataset in (*dated.values(), series):
        assert dataset["license_id"] == "dl-de-by-2.0"
        assert dataset["license_attribution"].startswith(ATTRIBUTION)
        assert dataset["validation_status"] == "success"
        assert {r["source"].split(",")[0] for r in rows_of(dataset)} == {
            f"{ATTRIBUTION} (https://gigabitgrundbuch.bund.de)"}
    page = app.get(f"/dataset/breitband-{GE}-zeitreihe").body
    assert ATTRIBUTION in page
    assert "alle Technologien ≥ 1000 Mbit/s 31.12.2018: Haushalte in % 6<" in page
    assert "alle Technologien ≥ 1000 Mbit/s 31.12.2020: Haushalte in % 81,18<" in page
