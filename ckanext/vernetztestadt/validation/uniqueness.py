"""``unique`` and ``primaryKey`` checks whose memory does not grow with the file.

Owns: finding duplicate values of unique columns and duplicate (or empty)
primary keys, reported as frictionless' own ``unique-error`` and
``primary-key`` errors. frictionless keeps every key of the file in a dict;
here only the keys of the current batch stay in memory and earlier ones are
looked up in a temporary SQLite file on disk, so a 10-million-row file needs
no more memory than a 100,000-row one.

Must not touch: the other checks (frictionless runs them), CKAN.
"""
from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import attrs
from frictionless import Check, errors
from frictionless.table import Row

PRIMARY = "\x00primary-key"  # never a column name in a Table Schema
BATCH = 50_000


def split(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[str]]:
    """The schema without unique constraints and primary key (left to this
    module), the unique column names and the primary key's columns."""
    stripped = json.loads(json.dumps(schema))
    unique = []
    for field in stripped.get("fields", []):
        constraints = field.get("constraints") or {}
        if constraints.pop("unique", False):
            unique.append(field["name"])
    primary = stripped.pop("primaryKey", None) or []
    return stripped, unique, [primary] if isinstance(primary, str) else list(primary)


def _text(cell: Any) -> str:
    """A key for equal values: 1.0 and 1.00 are the same number."""
    if isinstance(cell, Decimal):
        return format(cell.normalize(), "f")
    return repr(cell)


@attrs.define(kw_only=True, repr=False)
class UniqueOnDisk(Check):
    type: ClassVar[str] = "vernetztestadt-unique"
    Errors: ClassVar[list[type[errors.Error]]] = [errors.UniqueError, errors.PrimaryKeyError]

    unique: list[str] = attrs.field(factory=list)
    primary: list[str] = attrs.field(factory=list)

    def validate_start(self) -> Iterator[errors.Error]:
        self._folder = tempfile.TemporaryDirectory(prefix="vts-unique-")
        self._db = sqlite3.connect(Path(self._folder.name) / "keys.sqlite")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")
        self._pending: dict[str, tuple[int, str, str, int]] = {}
        names = self.resource.schema.field_names
        self._numbers = {name: names.index(name) + 1 for name in names}
        yield from []

    def validate_row(self, row: Row) -> Iterator[errors.Error]:
        for name in self.unique:
            cell = row[name]
            if cell is not None:
                yield from self._see(f"{name}\x1f{_text(cell)}", row.row_number, name, cell)
        if self.primary:
            cells = [row[name] for name in self.primary]
            if all(cell is None for cell in cells):
                yield errors.PrimaryKeyError.from_row(
                    row, note='cells composing the primary keys are all "None"')
            else:
                key = PRIMARY + "\x1f".join(_text(cell) for cell in cells)
                yield from self._see(key, row.row_number, PRIMARY, cells)
        if len(self._pending) >= BATCH:
            yield from self._flush()

    def validate_end(self) -> Iterator[errors.Error]:
        yield from self._flush()
        self._db.close()
        self._folder.cleanup()

    def _see(self, key: str, row_number: int, name: str, cell: Any) -> Iterator[errors.Error]:
        first = self._pending.get(key)
        if first is None:
            self._pending[key] = (row_number, name, str(cell), self._numbers.get(name, 0))
        else:
            yield self._error(first[0], row_number, name, str(cell))

    def _flush(self) -> Iterator[errors.Error]:
        """Report keys of this batch seen in earlier ones, then remember them."""
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS batch (key TEXT PRIMARY KEY, row INT)")
        self._db.executemany("INSERT INTO batch VALUES (?, ?)",
                             ((key, info[0]) for key, info in pending.items()))
        earlier = self._db.execute(
            "SELECT b.key, s.row FROM batch b JOIN seen s ON s.key = b.key ORDER BY b.row")
        for key, first_row in earlier.fetchall():
            row_number, name, cell, _ = pending[key]
            yield self._error(first_row, row_number, name, cell)
        self._db.execute("INSERT OR IGNORE INTO seen SELECT key, row FROM batch")
        self._db.execute("DELETE FROM batch")

    def _error(self, first: int, row_number: int, name: str, cell: str) -> errors.Error:
        note = f"the same as in the row at position {first}"
        if name == PRIMARY:
            return errors.PrimaryKeyError(note=note, cells=[], row_number=row_number)
        return errors.UniqueError(note=note, cells=[], row_number=row_number, cell=cell,
                                  field_name=name, field_number=self._numbers.get(name, 0))
