"""Layout ``xlsx``: the Breitbandatlas workbook ``bba_MM_YYYY.xlsx``.

Owns: reading the workbook (recognised by its zip magic ``PK``). Only the
sheet ``Privathaushalte`` is read; ``Fläche``, ``Schulen``, ... count other
things than households. Its header row holds ``AGS``, ``Name`` and
``Verwaltungsebene``; a value column is either labelled with technology and
speed (``FTTH/B ≥ 1000 Mbit/s``) or with the speed only (``≥ 16 Mbit/s``)
under a group row naming the technology of its block (merged cells: the
label stands over the first column of the block and holds until the next).
Messages name the sheet and such a column by group and speed.

Must not touch: what the layouts share (``broadband``, ``broadband_cells``),
the other layouts, CKAN. Reading XLSX cells is ``grids``' job.
"""
from __future__ import annotations

from . import grids
from .broadband import BroadbandLayout, has_ags
from .broadband_cells import BroadbandFormatError, Cell, key, technology
from .broadband_german_csv import speed_column

HOUSEHOLDS_SHEET = "Privathaushalte"
_GROUP_SEARCH = 3  # rows above the XLSX header that may name the technologies


class Xlsx(BroadbandLayout):
    name = "xlsx"
    title = "Breitbandatlas, Arbeitsmappe bba_MM_YYYY.xlsx (Blatt Privathaushalte)"
    reads = "xlsx"
    order = 50

    def sheet(self, data: bytes) -> tuple[list[list[Cell]], int, str]:
        grid = _households_sheet(data)
        return grid, _header(grid), f"Blatt „{HOUSEHOLDS_SHEET}“, "

    def value_column(self, label: str, group: str) -> tuple[str, int] | None:
        return speed_column(label, group)

    def groups(self, grid: list[list[Cell]], header_at: int, width: int) -> list[str]:
        """The technology of each column from a group row above the header:
        a merged label stands over the first column of its block."""
        for cells in reversed(grid[max(0, header_at - _GROUP_SEARCH):header_at]):
            labels = [grids.cell_text(cell) for cell in cells]
            if not any(technology(label) for label in labels):
                continue
            group, current = [], ""
            for position in range(width):
                label = labels[position] if position < len(labels) else ""
                current = label or current
                group.append(current)
            return group
        return [""] * width

    def shown(self, label: str, group: str) -> str:
        # a speed label under a group row reads "FTTH/B ≥ 1000 Mbit/s" in messages
        return label if speed_column(label, "") is not None else f"{group} {label}"


def _households_sheet(data: bytes) -> list[list[Cell]]:
    try:
        sheets = grids.xlsx_sheets(data)
    except grids.GridError as error:
        raise BroadbandFormatError(str(error)) from error
    for name, grid in sheets.items():
        if key(name) == key(HOUSEHOLDS_SHEET):
            return grid
    found = ", ".join(sheets) or "keine"
    raise BroadbandFormatError(
        f"Das Tabellenblatt „{HOUSEHOLDS_SHEET}“ fehlt (gefundene Blätter: {found}); "
        "nur dieses Blatt zählt Haushalte.")


def _header(grid: list[list[Cell]]) -> int:
    """The row holding ``AGS`` (with ``Name`` and ``Verwaltungsebene``)."""
    found = next((index for index, cells in enumerate(grid) if has_ags(cells)), None)
    if found is None:
        raise BroadbandFormatError(
            f"Blatt „{HOUSEHOLDS_SHEET}“: keine Kopfzeile mit der Spalte „AGS“.")
    return found
