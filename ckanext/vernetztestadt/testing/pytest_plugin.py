"""pytest plugin: services for the test session.

Owns: starting the embedded PostgreSQL and Redis once per test session (or
checking the real ones named by ``TEST_CKAN_SQLALCHEMY_URL`` /
``TEST_CKAN_REDIS_URL`` / ``TEST_CKAN_SOLR_URL``) and pointing CKAN at the
separate test database through CKAN's own ``CKAN_*`` variables, before CKAN's
pytest plugin reads ``test.ini``.

It also makes CKAN's plugin loading cheaper for the session
(``plugin_loading``). Must not touch: CKAN's fixtures (``clean_db``, ``with_plugins``, ...), which
come unchanged from the installed ``ckan`` package. Load it before them:
``-p ckanext.vernetztestadt.testing.pytest_plugin``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..runtime import ckan_config, services
from ..runtime.cli import prepare
from . import plugin_loading

TEST_REDIS_DB = 1


def _test_database() -> tuple[str, int]:
    """Database and Redis db of this run; overridable so that two suites
    (e.g. ``make test`` and ``make conformance``) can run side by side."""
    name = os.environ.get("VERNETZTESTADT_TEST_DATABASE", ckan_config.TEST_DATABASE)
    redis_db = int(os.environ.get("VERNETZTESTADT_TEST_REDIS_DB", TEST_REDIS_DB))
    return name, redis_db


def home(config: pytest.Config) -> Path:
    """The runtime folder of the test session (services, storage, screenshots)."""
    return Path(os.environ.get("VERNETZTESTADT_HOME") or config.rootpath / ".portal")


def pytest_configure(config: pytest.Config) -> None:
    plugin_loading.install()
    if os.environ.get("VERNETZTESTADT_SERVICES_READY"):
        return
    try:
        database, redis_db = _test_database()
        runtime, urls = prepare(home(config), database, redis_db, 5000, env_prefix="TEST_")
    except services.ServiceError as exc:
        raise pytest.UsageError(str(exc)) from None
    # CKAN applies these over test.ini (ckan.config.environment); a production
    # CKAN_SQLALCHEMY_URL in the environment is replaced, never used by tests.
    os.environ["CKAN_SQLALCHEMY_URL"] = urls.sqlalchemy_url
    os.environ["CKAN_REDIS_URL"] = urls.redis_url
    # one storage folder per database: suites running side by side keep apart
    os.environ["CKAN_STORAGE_PATH"] = str(runtime.home / "test-storage" / database)
    if urls.solr_url:
        os.environ["CKAN_SOLR_URL"] = urls.solr_url
    else:
        os.environ.pop("CKAN_SOLR_URL", None)
    # Subprocesses started by tests (``ckan`` CLI) inherit the same services.
    os.environ["VERNETZTESTADT_SERVICES_READY"] = "1"
