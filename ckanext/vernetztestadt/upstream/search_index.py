"""CKAN's ``ckan search-index ...`` commands, ending in one line when the
search engine fails.

Owns: a copy of CKAN's ``search-index`` command group (the same
subcommands, options and help; CKAN's code runs unchanged inside) that the
plugin registers in its place. Each subcommand turns a failure of the
search engine (``SearchIndexError``, ``SearchError``, ``SolrConnectionError``)
into one line naming the engine and its URL, with exit status 1; while it
runs, CKAN's log records of such failures keep their message line but lose
the traceback.

Why: CKAN 2.12's ``rebuild`` catches the first failure and prints it, but
then commits outside its ``try``: a Solr that went away half-way ended the
command with two tracebacks (``log.exception`` in the index's commit, then
the uncaught ``SearchIndexError``). ``check``, ``list-unindexed``, ``show``
and ``clear`` ended in a traceback whenever Solr was down.

Must not touch: what the commands do (CKAN's), the index content, the
search backend (``ckanext.vernetztestadt.search``). ``--force`` keeps CKAN's
own per-dataset tracebacks (it logs them as message text, asked for).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import logging
import sys
from collections.abc import Callable, Iterator
from typing import Any

import click
import pysolr
import requests
from ckan.lib.search.common import SearchError, SearchIndexError, SolrConnectionError

#: What the search engine raises when it fails (CKAN's wrappers, and what
#: they wrap: pysolr's error, the HTTP layer, the socket).
ENGINE_ERRORS = (SearchIndexError, SearchError, SolrConnectionError)
_CAUSES = (*ENGINE_ERRORS, pysolr.SolrError, requests.RequestException, OSError)
#: CKAN's loggers that log engine failures with ``log.exception``.
LOGGERS = ("ckan.lib.search", "ckan.lib.search.index", "ckan.lib.search.query")
MAX_REASON = 300


class _MessageOnly(logging.Filter):
    """Drops the traceback of a record about a failed search engine."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, _CAUSES):
            record.exc_info = None
            record.exc_text = None
        return True


@contextlib.contextmanager
def _plain_engine_logs() -> Iterator[None]:
    only = _MessageOnly()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    for logger in loggers:
        logger.addFilter(only)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(only)


def engine_name() -> str:
    """The engine CKAN's index calls go to, with its URL (never credentials:
    ``solr_url`` as configured, not the connection URL CKAN builds)."""
    from ckan.common import config

    from ..search import backend

    if backend.installed():
        return "PostgreSQL-Suche / PostgreSQL search"
    return f"Solr {config.get('solr_url')}"


def reason(exc: BaseException) -> str:
    """The failure in a few words: unreachable and timed out by name,
    anything else as the engine said it (first 300 characters, one line)."""
    text = " ".join(str(exc).split())
    if any(s in text for s in ("Failed to connect", "Connection refused",
                               "Solr returned an error while searching")):
        return "nicht erreichbar / not reachable"
    if "timed out" in text:
        return "antwortet nicht rechtzeitig / timed out"
    return text[:MAX_REASON] or type(exc).__name__


def _guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        with _plain_engine_logs():
            try:
                return callback(*args, **kwargs)
            except ENGINE_ERRORS as exc:
                path = click.get_current_context().command_path
                click.secho(f"Fehler / error: {engine_name()}: {reason(exc)} "
                            f"('{path}' abgebrochen / aborted)", fg="red", err=True)
                sys.exit(1)

    return run


def guarded_group(group: click.Group) -> click.Group:
    """A copy of ``group`` whose subcommands report engine failures in one
    line (the commands themselves stay CKAN's)."""
    copied = copy.copy(group)
    copied.commands = {}
    for name, command in group.commands.items():
        twin = copy.copy(command)
        if twin.callback is not None:
            twin.callback = _guarded(twin.callback)
        copied.commands[name] = twin
    return copied


def get_commands() -> list[click.Command]:
    from ckan.cli.search_index import search_index

    return [guarded_group(search_index)]
