"""Reading tables stewards and offices publish: CSV and XLSX as grids of cells.

Owns: the grids the parsers read: CSV through the portal's one tabular
reader (``tabular``: encoding, delimiter and German numbers decided as the
validation decides them; ``decode`` and ``number`` are its functions), XLSX
sheets with openpyxl (values as shown: a cell showing 42,8 % gives 42.8),
a cell as text, and finding a parser's columns in a header row (``Column``,
``header_index``, ``missing_column``). Unreadable files raise ``GridError``
with a German message.

Must not touch: what the columns mean (the parsers of each source type), how
a CSV file is written (``tabular``).
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ... import tabular
from ...tabular import decode, number

__all__ = ["Cell", "Column", "FormatError", "GridError", "cell_text", "csv_grid", "decode",
           "german", "header_index", "key", "missing_column", "number", "xlsx_grid",
           "xlsx_sheets"]

#: A table cell as CSV or openpyxl gives it.
Cell = str | int | float | None
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


class FormatError(ValueError):
    """A document that is not what its parser reads; ``message_de`` says
    why in German (the harvest job shows it). Each parser has a subclass."""

    def __init__(self, message_de: str) -> None:
        super().__init__(message_de)
        self.message_de = message_de


class GridError(FormatError):
    """The file cannot be read as a table."""


def csv_grid(data: bytes) -> list[list[Cell]]:
    rows, _ = tabular.read_csv(data)
    return list(rows)


def xlsx_sheets(data: bytes) -> dict[str, list[list[Cell]]]:
    """Every sheet of a workbook, by name, in workbook order."""
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise GridError("Die XLSX-Datei lässt sich nicht lesen.") from error
    try:
        sheets = {}
        for sheet in workbook.worksheets:
            # read-only mode trusts the stored sheet size, which some exporters get wrong
            sheet.reset_dimensions()
            sheets[sheet.title] = [[_xlsx_value(cell) for cell in row]
                                   for row in sheet.iter_rows()]
        return sheets
    finally:
        workbook.close()


def xlsx_grid(data: bytes) -> list[list[Cell]]:
    """The first sheet."""
    sheets = xlsx_sheets(data)
    if not sheets:
        raise GridError("Die XLSX-Datei enthält kein Tabellenblatt.")
    return next(iter(sheets.values()))


def _xlsx_value(cell: Any) -> Cell:
    value = cell.value
    if isinstance(value, bool) or not isinstance(value, int | float | str | None):
        return str(value)  # dates, booleans: only ever wrong here, shown as written
    if isinstance(value, int | float) and "%" in (getattr(cell, "number_format", "") or ""):
        # a cell showing 42,8 % holds 0.428; the steward means what it shows
        return round(value * 100, 10)
    return value


# -- cells ------------------------------------------------------------------------
def cell_text(value: Cell) -> str:
    """A cell as text, whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # openpyxl gives 17.0 for a cell showing 17
    return " ".join(str(value).split())


def german(value: float, decimals: int | None = None) -> str:
    """A number as German messages write it (72,7); with ``decimals`` at
    most that many places (coordinates)."""
    text = f"{value:g}" if decimals is None else \
        f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def key(text: str) -> str:
    """For comparing labels and names: case, umlauts (ä = ae, ß = ss),
    accents and punctuation ignored; words separated by one space."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_UMLAUTS))
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(re.split(r"[^0-9a-z]+", text)).strip()


# -- header rows ------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """A column a parser reads: its ``key`` and the headers it may have (as
    messages write them; ``header_index`` compares them normalised)."""

    key: str
    headers: tuple[str, ...]


def header_index(header: Sequence[str], columns: Sequence[Column], error: type[FormatError],
                 *, normalise: Callable[[str], str] = key,
                 alternatives: bool = False) -> dict[str, int]:
    """Column key -> position in ``header`` of each column found there, header
    texts and names compared by ``normalise``; a column found in two cells
    raises ``error``.

    By default every header of a column counts: the error names the column by
    its first header, for the column whose second cell comes first. With
    ``alternatives`` the headers are alternative names and the first one
    present wins (``Name`` before ``Gemeinde``): only it must not come twice;
    the error names it as the file writes it, for the first such column of
    ``columns``.
    """
    positions: dict[str, list[int]] = {}
    for position, text in enumerate(header):
        if text:
            positions.setdefault(normalise(text), []).append(position)
    found: dict[str, int] = {}
    clashes: list[tuple[int, str]] = []  # (second cell, message)
    for column in columns:
        names = list(dict.fromkeys(normalise(name) for name in column.headers))
        if alternatives:
            names = next(([name] for name in names if name in positions), [])
        hits = sorted(hit for name in names for hit in positions.get(name, []))
        if len(hits) > 1:
            shown = header[hits[0]] if alternatives else column.headers[0]
            clashes.append((hits[1], f"Die Spalte „{shown}“ kommt mehrfach vor."))
            if alternatives:
                break
        elif hits:
            found[column.key] = hits[0]
    if clashes:
        raise error(clashes[0][1] if alternatives else min(clashes)[1])
    return found


def missing_column(names: Sequence[str], header: Sequence[str]) -> str:
    """The German message for a column missing from ``header``, by all its ``names``."""
    wanted = "“, „".join(names)
    present = ", ".join(text for text in header if text) or "keine"
    return f"Die Spalte „{wanted}“ fehlt (gefundene Spalten: {present})."
