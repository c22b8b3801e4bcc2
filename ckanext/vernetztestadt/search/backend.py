"""Installing the PostgreSQL connection in place of CKAN's Solr connection.

Owns: pointing ``make_connection`` (and every module-level alias of it in
CKAN and ckanext-harvest), ``is_available`` and ``check_solr_schema_version``
at the PostgreSQL backend. CKAN's code above the connection is untouched.

Must not touch: search semantics (``connection``, ``lucene``).
"""
from __future__ import annotations

import importlib
import logging
import os
from typing import Any

from . import storage
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


def make_connection(decode_dates: bool = True) -> PostgresSolr:
    """CKAN's ``make_connection`` signature; returns the PostgreSQL backend."""
    import ckan.model as model

    return PostgresSolr(model.meta.engine, model.Session, **_settings)


def is_available() -> bool:
    try:
        make_connection().ping()
    except Exception:
        log.exception("PostgreSQL search backend is not available")
        return False
    return True


def check_solr_schema_version(schema_file: str | None = None) -> bool:
    """No Solr schema to check: the table layout is versioned by ``storage``."""
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


def install(text_config: str, timeout_ms: int) -> None:
    """Replace CKAN's Solr connection everywhere it is referenced."""
    global _fork_hook_registered
    _settings.update(text_config=text_config, timeout_ms=timeout_ms)
    import ckan.model as model

    storage.track_commits(model.Session)
    if not _fork_hook_registered:
        os.register_at_fork(after_in_child=_forget_connections_after_fork)
        _fork_hook_registered = True
    for name in ALIAS_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # ckanext-harvest is optional
            continue
        if hasattr(module, "make_connection"):
            module.make_connection = make_connection
    common = importlib.import_module("ckan.lib.search.common")
    search = importlib.import_module("ckan.lib.search")
    common.is_available = is_available
    search.is_available = is_available
    search.check_solr_schema_version = check_solr_schema_version


def installed() -> bool:
    common = importlib.import_module("ckan.lib.search.common")
    return common.make_connection is make_connection
