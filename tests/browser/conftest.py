"""The flow and accessibility tests' world: the demo content of ``make
portal`` and a steward (editor of the city), served on a real port, built
once per module (the browser itself: ``ckanext.vernetztestadt.testing.browser``).

Must not touch: product code, or the database of other test modules (the
world resets the database itself, once; the next module's ``clean_db`` does
again).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import ckan.plugins.toolkit as tk
import pytest
from ckan.lib.i18n import build_js_translations
from ckan.tests import factories, helpers

from ckanext.vernetztestadt.testing.browser import serving, site_settings

STEWARD_PASSWORD = "Gelsenkirchen-2026!"


@dataclass
class Portal:
    url: str
    steward: dict[str, Any]
    #: name of a dataset of each type, from the demo content
    datasets: dict[str, str] = field(default_factory=dict)
    #: name of a dataset of each type that has a chart view
    charted: dict[str, str] = field(default_factory=dict)


def _demo_datasets() -> tuple[dict[str, str], dict[str, str]]:
    """A dataset of each type, and one of each type with a chart view."""
    found: dict[str, str] = {}
    charted: dict[str, str] = {}
    result = helpers.call_action("package_search", rows=1000, include_private=False,
                                 sort="name asc")
    for dataset in result["results"]:
        found.setdefault(dataset["type"], dataset["name"])
        views = [view for resource in dataset["resources"]
                 for view in helpers.call_action("resource_view_list", id=resource["id"])]
        if any(view["view_type"] == "vernetztestadt_chart" for view in views):
            charted.setdefault(dataset["type"], dataset["name"])
    return found, charted


@pytest.fixture(scope="module")
def _demo_world(demo_content) -> Iterator[Portal]:
    """The demo content and a steward (editor of the city), served on a real
    port; built once for the module."""
    from ckanext.vernetztestadt import demo

    build_js_translations()  # as `vernetztestadt-runtime up` does
    steward = factories.User(name="stewardin", fullname="Petra Steward",
                             password=STEWARD_PASSWORD)
    helpers.call_action("organization_member_create", id=demo.CITY_ORGANIZATION["name"],
                        username=steward["name"], role="editor")
    with serving(helpers._get_test_app, tk.config) as url:
        datasets, charted = _demo_datasets()
        yield Portal(url=url, steward=steward, datasets=datasets, charted=charted)


@pytest.fixture
def demo_portal(_demo_world: Portal, ckan_config) -> Portal:
    """The demo portal, its settings applied again for this test (CKAN's
    pytest plugin puts the configuration back before each test)."""
    ckan_config.update(site_settings(_demo_world.url))
    return _demo_world


