"""Switching CKAN between the PostgreSQL search backend and a real Solr
inside one test process.

Owns: the context manager ``engine(name, ...)``, which makes every search
and index call of CKAN (``make_connection`` and its aliases, ``solr_url``)
go to one engine for the duration of a block and restores the previous
state afterwards:

- ``"postgres"`` installs ``ckanext.vernetztestadt.search`` (with the given
  text configuration);
- ``"solr"`` puts CKAN's own pysolr connection back and points ``solr_url``
  at the given core;
- ``"both"`` writes every document CKAN indexes to both (the very same
  dict, through CKAN's ``index_package``) and searches PostgreSQL; Solr gets
  no commit per document (``commit()`` commits both).

Used by the differential test (``tests/search/test_differential.py``).

Also owns ``current()`` (the engine a test searches with) and
``expected(postgres=..., solr=..., difference=...)``, with which a test
states an expectation that differs by engine on purpose; ``difference``
must be a section of ``docs/search-differences.md``.

Must not touch: search semantics (``ckanext.vernetztestadt.search``), the
services (``runtime``), CKAN's fixtures.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ckan.common import config

from ..search import backend, cache

ENGINES = ("postgres", "solr", "both")
DIFFERENCES = Path(__file__).resolve().parents[3] / "docs" / "search-differences.md"
T = TypeVar("T")

#: Engines of the ``engine()`` blocks entered, innermost last.
_active: list[str] = []


def current() -> str:
    """The engine CKAN searches with right now: ``postgres`` (also inside
    ``engine("both")``), else ``solrcloud`` for ``SEARCH=solrcloud`` or
    ``solr`` (``SEARCH=solr``, an external ``CKAN_SOLR_URL``)."""
    if _active:
        return "solr" if _active[-1] == "solr" else "postgres"
    if backend.installed():
        return "postgres"
    from ..runtime import solr

    return "solrcloud" if solr.engine() == "solrcloud" else "solr"


@functools.cache
def documented_differences() -> frozenset[str]:
    """The section titles of docs/search-differences.md (without backticks)."""
    text = DIFFERENCES.read_text(encoding="utf-8") if DIFFERENCES.exists() else ""
    return frozenset(match.group(1).replace("`", "").strip()
                     for match in re.finditer(r"^#{2,4} +(.+?) *$", text, re.MULTILINE))


def expected(*, postgres: T, solr: T, difference: str) -> T:
    """What a test expects on the current engine, where the two differ on
    purpose: ``difference`` names the section of docs/search-differences.md
    that says why."""
    if difference not in documented_differences():
        raise ValueError(f"{difference!r} is no section of {DIFFERENCES.name}")
    return postgres if current() == "postgres" else solr


@dataclass(frozen=True)
class _State:
    postgres: bool
    settings: dict[str, Any]
    cache_seconds: int
    solr_url: Any


def _current() -> _State:
    return _State(backend.installed(), backend.settings(), cache.configured(),
                  config.get("solr_url"))


def _apply(state: _State) -> None:
    config["solr_url"] = state.solr_url
    if state.postgres:
        backend.install(text_config=state.settings["text_config"],
                        timeout_ms=state.settings["timeout_ms"],
                        cache_seconds=state.cache_seconds)
    else:
        backend.uninstall()


def _set_aliases(function: Callable[..., Any]) -> None:
    for name in backend.ALIAS_MODULES:
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "make_connection"):
            module.make_connection = function


class BothConnection:
    """Index writes to PostgreSQL and Solr, searches from PostgreSQL."""

    def __init__(self, postgres: Any, solr: Any) -> None:
        self.postgres, self.solr = postgres, solr
        self.url = postgres.url

    def add(self, docs: list[dict[str, Any]], commit: bool | None = None, **kw: Any) -> str:
        result = self.postgres.add(docs, commit=commit, **kw)
        self.solr.add(docs, commit=False)
        return str(result)

    def delete(self, id: Any = None, q: str | None = None, commit: bool | None = None,
               **kw: Any) -> str:
        result = self.postgres.delete(id=id, q=q, commit=commit, **kw)
        self.solr.delete(id=id, q=q, commit=False)
        return str(result)

    def commit(self, **kw: Any) -> str:
        self.solr.commit()  # waits for the new searcher
        return str(self.postgres.commit(**kw))

    def search(self, *args: Any, **kw: Any) -> Any:
        return self.postgres.search(*args, **kw)

    def ping(self, **kw: Any) -> Any:
        return self.postgres.ping(**kw)


@contextlib.contextmanager
def engine(name: str, solr_url: str | None = None, text_config: str = "english",
           timeout_ms: int = 30_000, cache_seconds: int | None = None) -> Iterator[None]:
    """CKAN searches and indexes with ``name`` ("postgres", "solr" or "both")
    inside the block; the previous engine and settings are back afterwards."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
    if name != "postgres" and not solr_url:
        raise ValueError(f"engine({name!r}) needs the core's solr_url")
    before = _current()
    seconds = before.cache_seconds if cache_seconds is None else cache_seconds
    wanted = _State(name != "solr", {"text_config": text_config, "timeout_ms": timeout_ms},
                    seconds, solr_url if name != "postgres" else before.solr_url)
    tee = False
    _active.append(name)
    try:
        if name == "both":
            backend.uninstall()
            common = importlib.import_module("ckan.lib.search.common")
            ckan_connection = common.make_connection  # CKAN's own, to the core

            def make_connection(decode_dates: bool = True) -> BothConnection:
                return BothConnection(backend.make_connection(decode_dates),
                                      ckan_connection(decode_dates))

            _apply(wanted)
            _set_aliases(make_connection)
            tee = True
        else:
            _apply(wanted)
        yield
    finally:
        _active.pop()
        if tee:
            _set_aliases(backend.make_connection)
        _apply(before)
