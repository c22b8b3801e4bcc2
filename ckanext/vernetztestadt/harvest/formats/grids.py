"""Reading tables stewards and offices publish: CSV and XLSX as grids of cells.

Owns: the grids the parsers read: CSV through the portal's one tabular
reader (``tabular``: encoding, delimiter and German numbers decided as the
validation decides them; ``decode`` and ``number`` are its functions), XLSX
sheets with openpyxl (values as shown: a cell showing 42,8 % gives 42.8),
and a cell as text. Unreadable files raise ``GridError`` with a German
message.

Must not touch: what the columns mean (the parsers of each source type), how
a CSV file is written (``tabular``).
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from ... import tabular
from ...tabular import decode, number

__all__ = ["Cell", "FormatError", "GridError", "cell_text", "csv_grid", "decode", "german",
           "key", "number", "xlsx_grid", "xlsx_sheets"]

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
