"""BITV 2.0 / WCAG 2.1 AA: axe-core on the pages visitors and stewards use,
in German and English: no critical and no serious violation. Each page's
screenshot goes to the screenshots folder (``conftest.SCREENSHOTS``)."""
from __future__ import annotations

from typing import Any

import pytest
from ckan.tests import helpers

from ckanext.vernetztestadt.testing.browser import login

from .conftest import STEWARD_PASSWORD, Portal

#: page key -> how to find its path in the demo portal
PAGES = ("home", "search", "dataset-dataset", "dataset-wifi_hotspots",
         "dataset-smart_city_ranking", "dataset-broadband_coverage", "resource", "report",
         "form", "harvest", "series", "quality-dataset", "quality-organization")
#: pages only a steward sees (logged in first)
STEWARD_PAGES = ("form", "harvest", "quality-dataset", "quality-organization")


def _validated_resource(portal: Portal) -> tuple[str, str]:
    from ckanext.vernetztestadt import demo

    dataset = helpers.call_action("package_show", id=demo.HOTSPOT_EXAMPLE)
    return dataset["name"], dataset["resources"][0]["id"]


def _series_path(portal: Portal) -> str:
    from ckanext.vernetztestadt import series

    ranking = helpers.call_action("package_show", id=portal.datasets["smart_city_ranking"])
    found = series.series_of(ranking)
    assert found is not None, "the demo's rankings form a series"
    return found.path


def page_path(portal: Portal, key: str) -> str:
    from ckanext.vernetztestadt import demo

    if key == "series":
        return _series_path(portal)
    if key == "quality-dataset":
        return f"/dataset/{portal.datasets['dataset']}"
    if key == "quality-organization":
        return f"/organization/{demo.CITY_ORGANIZATION['name']}/metadatenqualitaet"
    if key.startswith("dataset-"):
        return f"/dataset/{portal.datasets[key.removeprefix('dataset-')]}"
    name, resource = _validated_resource(portal)
    return {"home": "/", "search": "/dataset/", "harvest": "/harvest/",
            "resource": f"/dataset/{name}/resource/{resource}",
            "report": f"/dataset/{name}/resource/{resource}/validation",
            "form": "/wifi_hotspots/new"}[key]


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("critical", "serious")]


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("key", PAGES)
def test_no_serious_accessibility_violations(demo_portal: Portal, browse, axe, screenshot,
                                             key: str, language: str) -> None:
    page, _ = browse(demo_portal.url, locale="de-DE" if language == "de" else "en-GB")
    if key in STEWARD_PAGES:
        login(page, demo_portal.url, demo_portal.steward["name"], STEWARD_PASSWORD)
    prefix = "" if language == "de" else "/en"
    response = page.goto(demo_portal.url + prefix + page_path(demo_portal, key))
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == language
    page.wait_for_load_state("networkidle")
    if key.startswith("quality-"):  # the steward sees the score
        assert page.locator(".vts-quality, .vts-quality-table").count() >= 1
    screenshot(page, f"a11y-{key}-{language}")
    found = serious(axe(page))
    assert found == [], "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n  "
                                  + "\n  ".join(v["nodes"]) for v in found)
