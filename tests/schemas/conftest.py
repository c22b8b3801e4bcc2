"""Fixtures of the schema tests."""
from __future__ import annotations

import pytest
from ckan.tests import factories


@pytest.fixture
def city_org():
    return factories.Organization(name="stadt-gelsenkirchen", title="Stadt Gelsenkirchen")
