"""Several sources for one city (issue 16, item 7): a second broadband source
for AGS 05513000 publishes beside the first under its ``name_pattern``, a
source that ``replaces`` another takes over its datasets (same ids, its
provenance now), only within one organisation, and without either key the
name clash is refused as before. Documents are the synthetic broadband
fixtures (fixtures/broadband/README.md), served on 127.0.0.1; the config
checks of the new keys need no database."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ckan.tests import helpers
from conftest import site_user

from ckanext.vernetztestadt.harvest import config as source_config

FIXTURES = Path(__file__).parent / "fixtures" / "broadband"
GE = "05513000"
DAY = "2024-06-30"
#: what the fixed-line source publishes without a pattern
FIXED = {f"breitband-{GE}-{DAY}", f"breitband-{GE}-zeitreihe"}
CLASH = (f"Der Name „breitband-{GE}-{DAY}“ gehört schon einem Datensatz, der nicht aus "
         "dieser Quelle stammt.")


def serve(httpserver, name: str) -> str:
    httpserver.expect_request(f"/{name}").respond_with_data((FIXTURES / name).read_bytes())
    return httpserver.url_for(f"/{name}")


def broadband(make_source, name: str, documents: list[dict], **config: Any) -> dict:
    return make_source(name, documents[0]["url"],
                       {"documents": documents, "dataset_type": "broadband_coverage",
                        **config}, source_type="vernetztestadt_broadband")


def fixed_line(make_source, httpserver, name: str = "breitband-festnetz", **config: Any,
               ) -> dict:
    return broadband(make_source, name, [{"url": serve(httpserver, "german_semicolon.csv"),
                                          "reference_date": DAY}], **config)


def mobile(make_source, httpserver, **config: Any) -> dict:
    return broadband(make_source, "mobilfunk", [{"url": serve(httpserver, "mobile_long.csv"),
                                                 "reference_date": DAY}], **config)


def show(name: str) -> dict:
    return helpers.call_action("package_show", id=name)


def set_config(source: dict, **changes: Any) -> None:
    config = {**json.loads(source["config"]), **changes}
    helpers.call_action("harvest_source_patch", context={"user": site_user()},
                        id=source["id"], config=json.dumps(config))


def datasets() -> set[str]:
    return {d["name"] for d in helpers.call_action(
        "package_search", q="type:broadband_coverage", include_private=True,
        rows=100)["results"]}


@pytest.mark.search  # the job indexes
def test_two_sources_for_one_ags_publish_side_by_side(make_source, harvest, httpserver):
    fixed = fixed_line(make_source, httpserver)
    assert harvest("breitband-festnetz").counts == {"added": 2}
    second = mobile(make_source, httpserver)
    refused = harvest("mobilfunk")  # without a pattern: the clash as before
    assert refused.counts == {} and refused.errors[0].endswith(CLASH)

    set_config(second, name_pattern="{name}-{source}")
    result = harvest("mobilfunk")
    assert result.errors == [] and result.counts == {"added": 2}
    mine = {f"breitband-{GE}-{DAY}-mobilfunk", f"breitband-{GE}-zeitreihe-mobilfunk"}
    assert datasets() == FIXED | mine
    for name in FIXED:
        assert show(name)["harvest_provenance"]["source_id"] == fixed["id"]
    for name in mine:
        provenance = show(name)["harvest_provenance"]
        assert provenance["source_id"] == second["id"]
        assert provenance["guid"] == name.removesuffix("-mobilfunk")
    assert "5g" in show(f"breitband-{GE}-{DAY}-mobilfunk")["technologies"]
    assert harvest("mobilfunk").counts == {"not modified": 2}
    assert harvest("breitband-festnetz").counts == {"not modified": 2}


@pytest.mark.search  # the job indexes
def test_a_changed_pattern_renames_the_datasets(make_source, harvest, httpserver):
    source = mobile(make_source, httpserver, name_pattern="{name}-mobil")
    assert harvest("mobilfunk").counts == {"added": 2}
    ids = {show(f"breitband-{GE}-{DAY}-mobil")["id"], show(f"breitband-{GE}-zeitreihe-mobil")["id"]}

    set_config(source, name_pattern="mobil-{name}")
    result = harvest("mobilfunk")
    assert result.errors == [] and result.counts == {"updated": 2}
    assert datasets() == {f"mobil-breitband-{GE}-{DAY}", f"mobil-breitband-{GE}-zeitreihe"}
    assert {show(name)["id"] for name in datasets()} == ids
    assert harvest("mobilfunk").counts == {"not modified": 2}


def demo_and_atlas(make_source, httpserver, **atlas: Any) -> tuple[dict, dict]:
    """The demo snapshot (two dates and the series) and the real tables that
    replace it (one date and the series)."""
    demo = broadband(make_source, "breitband-demo", [
        {"url": serve(httpserver, "german_semicolon.csv"), "reference_date": DAY},
        {"url": serve(httpserver, "legacy.csv")}], title_note="synthetische Demo-Daten")
    real = fixed_line(make_source, httpserver, "breitbandatlas", **atlas)
    return demo, real


@pytest.mark.search  # the job indexes
def test_a_replacing_source_takes_over_the_datasets(make_source, harvest, httpserver):
    demo, real = demo_and_atlas(make_source, httpserver)
    assert harvest("breitband-demo").counts == {"added": 3}
    before = {name: show(name)["id"] for name in datasets()}
    assert harvest("breitbandatlas").errors[0].endswith(CLASH)  # not without replaces

    set_config(real, replaces="breitband-demo")
    result = harvest("breitbandatlas")
    assert result.errors == [] and result.counts == {"updated": 2}
    assert {name: show(name)["id"] for name in datasets()} == before  # ids and names kept
    for name in FIXED:
        dataset = show(name)
        assert dataset["harvest_provenance"]["source_id"] == real["id"]
        assert "Demo-Daten" not in dataset["title"]
    older = show(f"breitband-{GE}-2019-12-31")  # not in the new source: the demo's still
    assert older["harvest_provenance"]["source_id"] == demo["id"]

    # the replaced source leaves the taken datasets alone: no clash, no withdrawal
    again = harvest("breitband-demo")
    assert again.errors == [] and again.counts == {"not modified": 1}
    for name in FIXED:
        dataset = show(name)
        assert dataset["harvest_provenance"]["source_id"] == real["id"]
        assert dataset["harvest_provenance"]["status"] == "current"
    assert harvest("breitbandatlas").counts == {"not modified": 2}


@pytest.mark.search  # the job indexes
def test_a_source_of_another_organisation_cannot_take_over(make_source, harvest, httpserver):
    demo = fixed_line(make_source, httpserver, "breitband-demo")
    assert harvest("breitband-demo").counts == {"added": 2}
    other = helpers.call_action("organization_create",
                                context={"ignore_auth": True, "user": site_user()},
                                name="nachbarstadt", title="Nachbarstadt")
    url = serve(httpserver, "german_comma.csv")
    for name, replaced in (("fremde-quelle", "breitband-demo"), ("tippfehler", "gibt-es-nicht")):
        helpers.call_action(
            "harvest_source_create", context={"ignore_auth": True, "user": site_user()},
            name=name, title=name, url=url, source_type="vernetztestadt_broadband",
            owner_org=other["id"], frequency="MANUAL",
            config=json.dumps({"dataset_type": "broadband_coverage", "replaces": replaced,
                               "documents": [{"url": url, "reference_date": DAY}]}))
        result = harvest(name)
        assert result.counts == {}
        # the same words whether the source is elsewhere or nowhere: nothing leaks
        assert result.errors[0].endswith(
            f"„replaces“: Eine andere Harvest-Quelle „{replaced}“ gibt es in der "
            "Organisation dieser Quelle nicht; übernehmen kann eine Quelle nur Datensätze "
            "einer Quelle derselben Organisation.")
    for name in FIXED:
        dataset = show(name)
        assert dataset["harvest_provenance"]["source_id"] == demo["id"]
        assert dataset["owner_org"] != other["id"]


# -- config checks (no database) ------------------------------------------------------
@pytest.mark.parametrize("pattern, problem", [
    ("breitband-mobil", "„name_pattern“ muss {name} enthalten"),
    ("{name}-{guid}", "„name_pattern“ kennt den Platzhalter „{guid}“ nicht"),
    ("{name!r}", "„name_pattern“ kennt den Platzhalter „{name}“ nicht"),
    ("{name", "„name_pattern“ ist kein gültiges Muster"),
    ("{name}-Mobilfunk", "„name_pattern“ darf außer den Platzhaltern nur Kleinbuchstaben"),
    ("{name} mobil", "„name_pattern“ darf außer den Platzhaltern nur Kleinbuchstaben"),
    ("", "„name_pattern“ muss ein nicht leerer Text sein"),
])
def test_a_bad_name_pattern_is_named(pattern, problem):
    with pytest.raises(source_config.ConfigError) as refused:
        source_config.parse(json.dumps({"name_pattern": pattern}))
    assert problem in str(refused.value)


def test_a_bad_replaces_is_named():
    with pytest.raises(source_config.ConfigError, match="„replaces“ muss der Name einer "
                                                        "Harvest-Quelle sein"):
        source_config.parse(json.dumps({"replaces": "Breitband Demo"}))


def test_the_dataset_name_follows_the_pattern():
    parsed = source_config.parse(json.dumps({"name_pattern": "{source}-{name}"}))
    assert source_config.dataset_name(parsed["name_pattern"], "breitband-05513000-zeitreihe",
                                      "mobil") == "mobil-breitband-05513000-zeitreihe"
    assert source_config.parse("{}")["name_pattern"] == "{name}"
    with pytest.raises(ValueError, match="kein gültiger CKAN-Name: 2 bis 100 Zeichen"):
        source_config.dataset_name("{name}-{source}", "x" * 60, "y" * 40)


def test_defaults_come_from_the_declared_site_options():
    keys = {key.name: key for key in source_config.COMMON_KEYS}
    assert {name: keys[name].config_default for name in ("ags", "max_bytes", "timeout")} == {
        "ags": "ckanext.vernetztestadt.default_ags",
        "max_bytes": "ckanext.vernetztestadt.harvest.max_bytes",
        "timeout": "ckanext.vernetztestadt.harvest.timeout"}
    parsed = source_config.parse("{}")
    assert (parsed["ags"], parsed["max_bytes"], parsed["timeout"]) == (GE, 52428800, 30)
