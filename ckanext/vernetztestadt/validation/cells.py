"""Cells that are no data: control characters and spreadsheet formulas.

Owns: the frictionless check that reports cells with control characters
(NUL and the other C0 codes but tab and line breaks) as errors, and cells a
spreadsheet would run as a formula (``=HYPERLINK(…)``, ``@SUM(…)``,
``=cmd|…``; CSV injection) as errors or as warnings, by the site's policy:
``refuse`` (the file fails), ``warn`` (listed in the report, the steward
decides) or ``allow``.

Must not touch: the other checks (frictionless, ``uniqueness``), CKAN.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import attrs
from frictionless import Check, errors
from frictionless.table import Row

POLICIES = ("refuse", "warn", "allow")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# a leading + or - is a formula only when more than a number follows
_FORMULA = re.compile(r"[=@\t\r]|[+\-](?![\d\s.,/()+\-]*$)")
MAX_WARNINGS = 20


class ControlCharacterError(errors.CellError):
    type = "control-character"
    title = "Control Character"
    description = "A cell contains a control character (binary data?)."
    template = "Cell in row {rowNumber} and field {fieldName} contains a control character."


class FormulaCellError(errors.CellError):
    type = "formula-cell"
    title = "Formula Cell"
    description = "A cell would run as a formula in a spreadsheet (CSV injection)."
    template = "Cell in row {rowNumber} and field {fieldName} starts like a formula."


def is_formula(text: str) -> bool:
    return bool(_FORMULA.match(text))


@attrs.define(kw_only=True, repr=False)
class CellContent(Check):
    type: ClassVar[str] = "vernetztestadt-cells"
    Errors: ClassVar[list[type[errors.Error]]] = [ControlCharacterError, FormulaCellError]

    formulas: str = "warn"
    #: formula cells seen under the ``warn`` policy, for the report's warnings
    flagged: list[str] = attrs.field(factory=list)
    flagged_count: int = 0

    def validate_row(self, row: Row) -> Iterator[errors.Error]:
        for name, cell in zip(row.field_names, row.cells, strict=False):
            if not isinstance(cell, str) or not cell:
                continue
            if _CONTROL.search(cell):
                yield ControlCharacterError.from_row(row, note="", field_name=name)
            elif self.formulas != "allow" and is_formula(cell):
                yield from self._formula(row, name)

    def _formula(self, row: Row, name: str) -> Iterator[errors.Error]:
        if self.formulas == "refuse":
            yield FormulaCellError.from_row(row, note="", field_name=name)
            return
        self.flagged_count += 1
        if len(self.flagged) < MAX_WARNINGS:
            self.flagged.append(f"Zeile {row.row_number}, Spalte „{name}“")
