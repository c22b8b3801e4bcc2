"""Hit and facet counts kept between index changes, in Redis.

Owns: caching the expensive part of a faceted search (the number of hits and
the facet counts, which need every matching row) under a key made of the
search's filter SQL and a *generation* number that every committed index
write increases. This is Solr's own model: its caches live until the next
commit. The page of results is always computed afresh.

Consistency: a search reads the generation *before* it queries; a writer
raises it *after* its transaction committed. So an entry stored under
generation G was computed from data at least as new as G, and once a commit
raised G no search reads that entry again. Redis failing only turns the cache
off for that search; a search never fails because of it.

Must not touch: SQL building (``connection``), the index table (``storage``).
"""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import sqlalchemy as sa

log = logging.getLogger(__name__)

PREFIX = "vernetztestadt:search"
WROTE = "vernetztestadt_search.wrote_index"

_settings: dict[str, Any] = {"seconds": 300}


def configure(seconds: int) -> None:
    """``ckanext.vernetztestadt.search.cache_seconds``; 0 turns caching off."""
    _settings["seconds"] = max(0, int(seconds))


def configured() -> int:
    return int(_settings["seconds"])


def enabled() -> bool:
    return _settings["seconds"] > 0


def _redis() -> Any:
    from ckan.lib.redis import connect_to_redis

    return connect_to_redis()


def _namespace(engine: sa.Engine) -> str:
    """One generation per database: the test, bench and portal databases
    may share a Redis server."""
    url = engine.url
    return f"{PREFIX}:{url.host}:{url.port}:{url.database}"


def generation(engine: sa.Engine) -> int | None:
    try:
        return int(_redis().get(f"{_namespace(engine)}:generation") or 0)
    except Exception as exc:  # the cache is an optimisation, never a failure
        log.warning("search cache unavailable: %s", exc)
        return None


def bump(engine: sa.Engine) -> None:
    """Invalidate every cached entry of this database."""
    try:
        _redis().incr(f"{_namespace(engine)}:generation")
    except Exception as exc:
        log.warning("search cache not invalidated (entries expire after %ss): %s",
                    _settings["seconds"], exc)


def key(engine: sa.Engine, gen: int, sql: str, params: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps([sql, params], sort_keys=True, default=str)
                            .encode()).hexdigest()
    return f"{_namespace(engine)}:{gen}:{digest}"


def get(cache_key: str) -> tuple[int, dict[str, Any]] | None:
    try:
        raw = _redis().get(cache_key)
    except Exception as exc:
        log.warning("search cache unavailable: %s", exc)
        return None
    if raw is None:
        return None
    hits, facets = json.loads(raw)
    return int(hits), facets


def put(cache_key: str, hits: int, facets: dict[str, Any]) -> None:
    try:
        _redis().set(cache_key, json.dumps([hits, facets]), ex=_settings["seconds"])
    except Exception as exc:
        log.warning("search cache not written: %s", exc)


def mark_write(session: Any) -> None:
    """Remember that the session's transaction changed the index."""
    session.info[WROTE] = True


def track(session: Any) -> None:
    """Raise the generation after each commit that changed the index."""
    if sa.event.contains(session, "after_commit", _after_commit):
        return
    # No reset on rollback: a rolled-back savepoint may sit inside a
    # transaction whose earlier index writes still commit, and a needless
    # bump costs only a cache miss.
    sa.event.listen(session, "after_commit", _after_commit)


def _after_commit(session: Any) -> None:
    if session.info.pop(WROTE, False):
        bump(session.get_bind())
