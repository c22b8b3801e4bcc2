"""Fixtures of the harvest tests: the city's organization, sources created
through ckanext-harvest's actions, and runs through the portal's runner (the
same stages the queue consumers call)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from ckan.tests import helpers

from ckanext.vernetztestadt.harvest import runner

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def city(clean_db, clean_index):
    """The organization harvested datasets belong to."""
    return helpers.call_action("organization_create", context={"ignore_auth": True,
                                                               "user": site_user()},
                               name="stadt-gelsenkirchen", title="Stadt Gelsenkirchen")


def site_user() -> str:
    return helpers.call_action("get_site_user", context={"ignore_auth": True})["name"]


@pytest.fixture
def make_source(city):
    """Create a harvest source of ``type`` at ``url`` with ``config``."""
    def make(name: str, url: str, config: dict, source_type: str = "vernetztestadt_ranking",
             ) -> dict:
        return helpers.call_action(
            "harvest_source_create", context={"ignore_auth": True, "user": site_user()},
            name=name, title=name.replace("-", " ").title(), url=url,
            source_type=source_type, owner_org=city["id"], frequency="MANUAL",
            config=json.dumps({"dataset_type": "smart_city_ranking", **config}))
    return make


@pytest.fixture
def harvest():
    """Run a source now; returns the runner's result."""
    return runner.run


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
