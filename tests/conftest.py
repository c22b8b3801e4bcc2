"""Shared fixtures: every test here runs with the portal's plugins loaded."""
import pytest


@pytest.fixture(autouse=True)
def _portal_plugins(with_plugins):
    """CKAN's pytest plugin unloads all plugins before the test loop;
    ``with_plugins`` loads the ones named in test.ini for each test."""
    yield
