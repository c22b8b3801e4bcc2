"""The validation statuses: the one vocabulary of reports, badges, facets,
the publication gate, the background jobs and the CLI.

Owns: the status names (a ``StrEnum``: each member is the string stored in
reports and indexes, so stored values and comparisons with text stay as
they were) and the groups the modules ask for (``FINAL``, ``FAILED``, the
order from worst to best).

Must not touch: how a status is reached (``engine``, ``jobs``) or shown
(``display``).
"""
from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    SUCCESS = "success"
    #: the file was read and breaks its Table Schema (or is too large)
    FAILURE = "failure"
    #: the file could not be had or read (fetch, encoding, schema missing)
    ERROR = "error"
    #: waiting for its background job
    CREATED = "created"
    RUNNING = "running"
    #: a table without a report (shown, never stored)
    NONE = "none"


SUCCESS, FAILURE, ERROR = Status.SUCCESS, Status.FAILURE, Status.ERROR
CREATED, RUNNING, NOT_VALIDATED = Status.CREATED, Status.RUNNING, Status.NONE
#: a validation that has ended
FINAL = (SUCCESS, FAILURE, ERROR)
#: a table that did not pass
FAILED = (FAILURE, ERROR)
#: a dataset's status is the worst of its tables', in this order
WORST_FIRST = (FAILURE, ERROR, RUNNING, CREATED, NOT_VALIDATED, SUCCESS)
