"""Worker processes forked after CKAN was loaded, for long bulk work.

Owns: sharing jobs over ``workers`` processes forked from a process in
which CKAN is loaded (as CKAN's own ``search-index rebuild-fast`` does):
each child first drops the parent's pooled database connections and
session, so that no connection is ever used by two processes; the results
come back in the order they are done. Used by the search-index rebuild
(``reindex``) and by harvest runs (``harvest.runner``), each of whose jobs
is independent of the others (a batch of datasets, a harvest object).

Must not touch: what a job does, or terminal output.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


def child_start() -> None:
    """In a forked worker: never use the parent's pooled connections."""
    import ckan.model as model

    model.meta.engine.dispose(close=False)
    model.Session.registry.clear()


class WorkerError(RuntimeError):
    """A job failed in a worker (its exception, as text: it crossed the
    process boundary)."""


def _call(task: tuple[Callable[[Any], Any], Any]) -> Any:
    function, job = task
    try:
        return function(job)
    except Exception as exc:  # crosses the process boundary: keep it picklable
        raise WorkerError(f"{type(exc).__name__}: {str(exc)[:500]}") from None


def unordered(function: Callable[[Job], Result], jobs: Iterable[Job],
              workers: int) -> Iterator[Result]:
    """``function(job)`` for every job, in ``workers`` forked processes,
    results as they are done. ``function`` must be a module-level function
    (it is sent to the children by name)."""
    import ckan.model as model

    model.Session.remove()  # the children start without the parent's transaction
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=child_start) as pool:
        yield from pool.imap_unordered(_call, [(function, job) for job in jobs])
