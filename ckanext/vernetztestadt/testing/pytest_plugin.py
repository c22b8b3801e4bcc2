"""pytest plugin: services for the test session.

Owns: starting the embedded PostgreSQL and Redis once per test session (or
checking the real ones named by ``TEST_CKAN_SQLALCHEMY_URL`` /
``TEST_CKAN_REDIS_URL`` / ``TEST_CKAN_SOLR_URL`` /
``TEST_CKAN_DATASTORE_WRITE_URL`` / ``TEST_CKAN_DATASTORE_READ_URL``) and
pointing CKAN at the separate test database (and, when the session's ini
loads the ``datastore`` plugin, its DataStore database with CKAN's
permissions applied) through CKAN's own ``CKAN_*`` variables, before CKAN's
pytest plugin reads the ini (``--ckan-ini``).

It also makes CKAN's plugin loading cheaper for the session
(``plugin_loading``). Must not touch: CKAN's fixtures (``clean_db``, ``with_plugins``, ...), which
come unchanged from the installed ``ckan`` package. Load it before them:
``-p ckanext.vernetztestadt.testing.pytest_plugin``.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from ..runtime import ckan_config, services
from ..runtime.cli import prepare, set_datastore_permissions
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


def _session_ini(config: pytest.Config) -> Path | None:
    """The ini CKAN's pytest plugin loads (``--ckan-ini``, as CKAN falls back:
    ``$CKAN_INI``)."""
    name = config.getoption("ckan_ini") or os.environ.get("CKAN_INI")
    return Path(name) if name else None


def _point_at_datastore(urls: ckan_config.ServiceUrls) -> None:
    """The session's DataStore, or none: a production one is never used."""
    for var in ckan_config.DATASTORE_VARS.values():
        os.environ.pop(var, None)
    if urls.datastore:
        os.environ.update(urls.datastore.environ())


def _set_datastore_permissions(runtime: services.Runtime, database: str, ini: Path | None,
                               urls: ckan_config.ServiceUrls) -> None:
    if ini is None:
        return  # no ini, no DataStore (prepare was told so)
    try:  # after _point_at_datastore: CKAN's command reads the variables over the ini
        set_datastore_permissions(runtime, database, ini, urls)
    except services.ServiceError as exc:
        raise pytest.UsageError(str(exc)) from None
    except subprocess.CalledProcessError as exc:
        tail = " | ".join((exc.stderr or "").strip().splitlines()[-3:])
        raise pytest.UsageError(f"ckan datastore set-permissions: {tail}") from None


def pytest_configure(config: pytest.Config) -> None:
    plugin_loading.install()
    if os.environ.get("VERNETZTESTADT_SERVICES_READY"):
        return
    ini = _session_ini(config)
    database, redis_db = _test_database()
    try:
        runtime, urls = prepare(home(config), database, redis_db, 5000, env_prefix="TEST_",
                                datastore=ini is not None and ckan_config.loads_datastore(ini))
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
    _point_at_datastore(urls)
    _set_datastore_permissions(runtime, database, ini, urls)
    # Subprocesses started by tests (``ckan`` CLI) inherit the same services.
    os.environ["VERNETZTESTADT_SERVICES_READY"] = "1"
