"""Installing the PostgreSQL connection in place of CKAN's Solr connection.

Owns: pointing ``make_connection`` (and every module-level alias of it in
CKAN and ckanext-harvest), ``is_available`` and ``check_solr_schema_version``
at the PostgreSQL backend. CKAN's code above the connection is untouched.

``uninstall`` puts CKAN's own functions back (the differential test talks
to a real Solr and to this backend in one process). ``forget_connections_after_fork``
protects CKAN's database pool in forked children with either engine (the
``vernetztestadt`` plugin calls it whatever the engine).

Must not touch: search semantics (``connection``, ``lucene``).
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Any

from . import cache, storage
from .connection import PostgresSolr

log = logging.getLogger(__name__)

#: Modules that import ``make_connection`` by name; each alias is replaced.
ALIAS_MODULES = (
    "ckan.lib.search.common",
    "ckan.lib.search",
    "ckan.lib.search.index",
    "ckan.lib.search.query",
    "ckanext.harvest.logic.action.update",
)

_settings: dict[str, Any] = {"text_config": "german", "timeout_ms": 10_000}


def solr_configured() -> bool:
    """True when ``CKAN_SOLR_URL`` (CKAN's own variable) names a real Solr:
    then the backend is not installed, whatever the plugin list says (the
    tests' ini lists ``vernetztestadt_search``; ``SEARCH=solr`` runs them
    against Solr)."""
    return bool(os.environ.get("CKAN_SOLR_URL", "").strip())


def make_connection(decode_dates: bool = True) -> PostgresSolr:
    """CKAN's ``make_connection`` signature; returns the PostgreSQL backend."""
    import ckan.model as model

    return PostgresSolr(model.meta.engine, model.Session, decode_dates=decode_dates, **_settings)


def is_available() -> bool:
    try:
        make_connection().ping()
    except Exception:
        log.exception("PostgreSQL search backend is not available")
        return False
    return True


#: CKAN's own ``check_solr_schema_version``, kept by ``install``.
_ckan_check_schema: dict[str, Any] = {}


def check_solr_schema_version(schema_file: str | None = None) -> bool:
    """No Solr schema to check: the table layout is versioned by ``storage``.

    An explicit ``schema_file`` (CKAN: "for testing purposes") involves no
    Solr server, so CKAN's own check of that file runs unchanged."""
    original = _ckan_check_schema.get("function")
    if schema_file and original is not None:
        return bool(original(schema_file))
    return True


def _forget_connections_after_fork() -> None:
    """In a forked child (``ckan search-index rebuild-fast``), drop the
    parent's pooled connections without closing them: the sockets are shared
    with the parent, so they must never be used or closed from the child."""
    import ckan.model as model

    engine = getattr(model.meta, "engine", None)
    if engine is not None:
        engine.dispose(close=False)
    model.Session.registry.clear()


_fork_hook_registered = False


def forget_connections_after_fork() -> None:
    """Register ``_forget_connections_after_fork`` once. Needed with Solr as
    well: ``rebuild-fast``'s children otherwise read through the parent's
    pooled database connection ("error with status PGRES_TUPLES_OK and no
    message from the libpq"), index nothing, and CKAN still exits 0."""
    global _fork_hook_registered
    if not _fork_hook_registered:
        os.register_at_fork(after_in_child=_forget_connections_after_fork)
        _fork_hook_registered = True


def install(text_config: str, timeout_ms: int, cache_seconds: int) -> None:
    """Replace CKAN's Solr connection everywhere it is referenced."""
    _settings.update(text_config=text_config, timeout_ms=timeout_ms)
    cache.configure(cache_seconds)
    import ckan.model as model

    storage.track_commits(model.Session)
    cache.track(model.Session)
    forget_connections_after_fork()
    importlib.import_module("ckan.lib.search")  # imports common, index and query
    _keep_ckan_functions()
    for name in ALIAS_MODULES:
        # Only a module already imported holds a stale alias; one imported
        # later binds the patched name itself. Importing ckanext-harvest here
        # would map its tables onto CKAN's Package even where harvest is not
        # enabled (package purge then queries a missing harvest_object table).
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "make_connection"):
            module.make_connection = make_connection
    common = importlib.import_module("ckan.lib.search.common")
    search = importlib.import_module("ckan.lib.search")
    common.is_available = is_available
    search.is_available = is_available
    if search.check_solr_schema_version is not check_solr_schema_version:
        _ckan_check_schema["function"] = search.check_solr_schema_version
    search.check_solr_schema_version = check_solr_schema_version


def installed() -> bool:
    common = importlib.import_module("ckan.lib.search.common")
    return common.make_connection is make_connection


#: CKAN's own ``make_connection`` and ``is_available``, kept by ``install``.
_ckan_functions: dict[str, Any] = {}


def _keep_ckan_functions() -> None:
    common = importlib.import_module("ckan.lib.search.common")
    if common.make_connection is not make_connection:
        _ckan_functions["make_connection"] = common.make_connection
    if common.is_available is not is_available:
        _ckan_functions["is_available"] = common.is_available


def settings() -> dict[str, Any]:
    """The ``text_config`` and ``timeout_ms`` the installed backend uses."""
    return dict(_settings)


def uninstall() -> None:
    """Put CKAN's own Solr connection back everywhere ``install`` replaced it
    (a no-op when the backend is not installed)."""
    if not installed():
        return
    search = importlib.import_module("ckan.lib.search")
    original = _ckan_functions["make_connection"]
    for name in ALIAS_MODULES:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "make_connection", None) is make_connection:
            module.make_connection = original
    common = importlib.import_module("ckan.lib.search.common")
    common.is_available = search.is_available = _ckan_functions["is_available"]
    if "function" in _ckan_check_schema:
        search.check_solr_schema_version = _ckan_check_schema["function"]
