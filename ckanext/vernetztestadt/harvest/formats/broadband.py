"""Broadband coverage: from Breitbandatlas files to rows of ``broadband.json``.

Owns: the family ``broadband`` of the layouts in which the Breitbandatlas
(Bundesnetzagentur, formerly the federal transport ministry) publishes
coverage: their base ``BroadbandLayout`` (a registered format of the family
says how it recognises its header, which columns hold values and how its
rows give values), ``parse``/``detect_layout`` (the layout named, or the
first in the registry that recognises the content: XLSX by its zip magic,
CSV by its header), selecting one area and turning its figures into rows of
the Table Schema ``schemas/tables/broadband.json`` (long format: one row per
area, reference date, technology and speed class; the field names, the
technology enum and the percent limits are read from that file, not repeated
here). A file that is not such a table raises ``BroadbandFormatError`` with a
German message naming row and column.

The layouts, one module each: ``broadband_xlsx`` (``xlsx``),
``broadband_german_csv`` (``german_csv``), ``broadband_coded_csv``
(``coded_csv``, ``legacy_csv``), ``broadband_mobile`` (``mobile_long``);
what a cell means in all of them is ``broadband_cells``.

Must not touch: the network (``fetching`` gets the bytes), CKAN, publishing
or validating files (``validation``), the columns of a single layout (its
module). Pure Python; decoding, CSV delimiters and XLSX cells are ``grids``'
job.

Area: an 8-digit AGS selects that municipality; a 5-digit key selects the
district's rows (key exactly those 5 digits), and when the file has none,
every municipality whose AGS starts with them, each under its own AGS. A
``Verwaltungsebene`` column keeps a municipality's selection from picking
district rows and vice versa. AGS cells that lost their leading zero
(5513000) are padded. Only the selected rows are checked: a broken cell of
another municipality must not stop the city's harvest. Without a name column
an area is named by the ``area_name`` argument (for the AGS asked for), else
by its AGS.

Reference date, first found wins: a ``Stichtag``/``Datum`` column of the
selected rows; a note above the header (``Festnetz: 12.2025`` preferred,
then ``Stand:``/``Stichtag:``, then ``Mobilfunk:``; for ``mobile_long``
Mobilfunk first); the ``reference_date`` argument. A month means its last
day. The schema has one date per row, so the fixed-line date stands for the
mobile columns of the XLSX as well.

Values: percent of households (``broadband_cells``); a "no value" is
counted in ``skipped``, the same technology and speed twice for one AGS is an
error. Unknown columns are skipped and counted, unless no known value column
exists at all.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from . import Format, grids, of_family
from .broadband_cells import (
    BroadbandFormatError,
    Cell,
    ags_key,
    date_note,
    date_of,
    given_date,
    key,
    level,
    percent,
    technology_order,
    wanted_ags,
)

__all__ = ["FAMILY", "GELSENKIRCHEN", "BroadbandFormatError", "BroadbandLayout", "Parsed",
           "detect_layout", "parse"]

FAMILY = "broadband"
GELSENKIRCHEN = "05513000"

# reasons in ``Parsed.skipped`` (``broadband_mobile`` adds its own)
NO_VALUE = "kein Wert"
UNKNOWN_COLUMN = "unbekannte Spalte"

_XLSX_MAGIC = b"PK"  # XLSX is a zip archive
_HEADER_SEARCH = 20  # CSV rows before the header: titles, notes
_MUNICIPALITY, _DISTRICT = 4, 3  # Verwaltungsebene "4 - Gemeinde", "3 - Kreis"

Column = grids.Column
AGS = Column("ags", ("AGS", "Gemeindeschlüssel", "Amtlicher Gemeindeschlüssel"))
#: the columns every layout may have besides its own
COLUMNS = (
    AGS,
    Column("name", ("Name", "Gemeinde", "Gemeindename", "Gebiet", "Gebietsname", "GEN")),
    Column("date", ("Stichtag", "Datum")),
    Column("level", ("Verwaltungsebene",)),
)


@dataclass(frozen=True)
class Parsed:
    """Rows of ``broadband.json`` for the selected area, and what was left out."""

    rows: list[dict[str, Any]]
    reference_date: str  # YYYY-MM-DD
    skipped: dict[str, int]  # German reason -> count


@dataclass(frozen=True)
class ValueColumn:
    position: int
    label: str  # as the file writes it, for messages
    technology: str
    min_mbit: int


@dataclass(frozen=True)
class Table:
    """Where the columns of a file are."""

    columns: dict[str, int]  # Column.key -> position
    labels: tuple[str, ...]  # the header as written
    values: tuple[ValueColumn, ...]  # empty for mobile_long
    unknown: int  # columns neither known nor values

    def cell(self, cells: Sequence[Cell], column: str) -> Cell:
        position = self.columns.get(column)
        # CSV rows may lack trailing empty cells
        return cells[position] if position is not None and position < len(cells) else None

    def label(self, column: str) -> str:
        return self.labels[self.columns[column]]


@dataclass(frozen=True)
class Selected:
    number: int  # row number in the sheet or file, for messages
    cells: list[Cell]
    ags: str


#: (where, technology, min_mbit, percent) of one value of a selected row
Value = tuple[str, str, int, float]


# --- layouts ----------------------------------------------------------------------
class BroadbandLayout(Format):
    """A registered layout of Breitbandatlas files; every layout is read alike
    (header row, AGS selection, reference date, rows) but for these methods."""

    family = FAMILY
    #: the kind of file it reads: ``csv`` (found by its header) or ``xlsx``
    reads: ClassVar[str] = "csv"
    #: how the message for an unrecognised CSV header names it
    hint: ClassVar[str] = ""
    #: its columns besides ``COLUMNS``
    columns: ClassVar[tuple[Column, ...]] = ()
    #: the date notes above the header (``broadband_cells.date_note``), trusted first first
    date_notes: ClassVar[tuple[str, ...]] = ("festnetz", "stand", "mobilfunk")

    def recognises(self, labels: Sequence[str]) -> bool:
        """Whether a CSV row with these labels (the non-empty cells) is its header."""
        return any(self.value_column(label, "") for label in labels)

    def value_column(self, label: str, group: str) -> tuple[str, int] | None:
        """(technology, min_mbit) of a value column under the group row's ``group``."""
        return None

    def sheet(self, data: bytes) -> tuple[list[list[Cell]], int, str]:
        """Not CSV: the grid, its header row, how messages name the sheet."""
        raise NotImplementedError

    def groups(self, grid: list[list[Cell]], header_at: int, width: int) -> list[str]:
        """The group label above each header cell (XLSX: the technology)."""
        return [""] * width

    def shown(self, label: str, group: str) -> str:
        """A value column as messages name it."""
        return label

    def check(self, table: Table) -> None:
        """An error if ``table`` lacks what the layout reads."""
        if not table.values:
            present = ", ".join(text for text in table.labels if text)
            raise BroadbandFormatError(
                f"Keine bekannte Spalte mit Verfügbarkeiten für das Layout „{self.name}“ "
                f"(gefundene Spalten: {present}).")

    def values(self, row: Selected, table: Table, sheet: str,
               skipped: Counter[str]) -> Iterable[Value]:
        """The values of one selected row; a "no value" is counted in ``skipped``."""
        for column in table.values:
            where = f"{sheet}Zeile {row.number}, Spalte „{column.label}“"
            value = row.cells[column.position] if column.position < len(row.cells) else None
            found = percent(value, where)
            if found is None:
                skipped[NO_VALUE] += 1
            else:
                yield where, column.technology, column.min_mbit, found


def _layouts() -> dict[str, type[BroadbandLayout]]:
    return {name: cls for name, cls in of_family(FAMILY).items()
            if issubclass(cls, BroadbandLayout)}


def _named(layout: str) -> BroadbandLayout:
    found = _layouts().get(layout)
    if found is None:
        raise BroadbandFormatError(
            f"Unbekanntes Layout „{layout}“ (bekannt: {', '.join(_layouts())}).")
    return found()


def _reading(kind: str) -> list[BroadbandLayout]:
    """The layouts that read ``kind`` files, in detection order."""
    return [cls() for cls in _layouts().values() if cls.reads == kind]


def _kind(data: bytes) -> str:
    return "xlsx" if data.startswith(_XLSX_MAGIC) else "csv"


def has_ags(cells: Sequence[Cell]) -> bool:
    names = {key(name) for name in AGS.headers}
    return any(key(grids.cell_text(cell)) in names for cell in cells)


def _table(grid: list[list[Cell]], header_at: int, layout: BroadbandLayout) -> Table:
    header = tuple(grids.cell_text(cell) for cell in grid[header_at])
    columns = grids.header_index(header, COLUMNS + layout.columns, BroadbandFormatError,
                                 normalise=key, alternatives=True)
    if "ags" not in columns:
        raise BroadbandFormatError(grids.missing_column(AGS.headers, header))
    group = layout.groups(grid, header_at, len(header))
    values: list[ValueColumn] = []
    unknown = 0
    for position, label in enumerate(header):
        if not label or position in columns.values():
            continue
        found = layout.value_column(label, group[position])
        if found is None:
            unknown += 1
        else:
            values.append(ValueColumn(position, layout.shown(label, group[position]), *found))
    table = Table(columns, header, tuple(values), unknown)
    layout.check(table)
    return table


# --- reading ----------------------------------------------------------------------
def detect_layout(data: bytes) -> str:
    """The name of the registered layout that recognises the content: XLSX by
    its zip magic, CSV by its header."""
    kind = _kind(data)
    if kind != "csv":
        return _first(kind).name
    return _csv_header(grids.csv_grid(data), None)[1].name


def _first(kind: str) -> BroadbandLayout:
    found = _reading(kind)
    if not found:
        raise BroadbandFormatError(f"Unbekanntes Layout: keines liest {kind.upper()}-Dateien.")
    return found[0]


def _recognised(cells: Sequence[Cell], layouts: Sequence[BroadbandLayout],
                ) -> BroadbandLayout | None:
    """The first CSV layout whose header ``cells`` are; None if none."""
    labels = [grids.cell_text(cell) for cell in cells if grids.cell_text(cell)]
    return next((layout for layout in layouts if layout.recognises(labels)), None)


def _csv_header(grid: list[list[Cell]], forced: BroadbandLayout | None,
                ) -> tuple[int, BroadbandLayout]:
    """The header row and layout; a ``forced`` layout takes the first row with
    an AGS column, so the error names what is missing."""
    layouts = _reading("csv")
    for index, cells in enumerate(grid[:_HEADER_SEARCH]):
        found = _recognised(cells, layouts)
        if found is not None and (forced is None or found.name == forced.name):
            return index, found
    non_empty = [index for index, cells in enumerate(grid)
                 if any(grids.cell_text(c) for c in cells)]
    if forced is not None and non_empty:
        with_ags = (index for index in non_empty[:_HEADER_SEARCH] if has_ags(grid[index]))
        return next(with_ags, non_empty[0]), forced
    if not non_empty:
        raise BroadbandFormatError("Unbekanntes Layout: die Datei ist leer.")
    first = "; ".join(grids.cell_text(cell) for cell in grid[non_empty[0]])[:200]
    hints = [layout.hint for layout in layouts if layout.hint]
    expected = ", ".join(hints[:-1]) + f" oder {hints[-1]}" if len(hints) > 1 else "".join(hints)
    raise BroadbandFormatError(
        "Unbekanntes Layout: keine Kopfzeile des Breitbandatlas erkannt (erwartet z. B. "
        f"{expected}; erste Zeile: {first}).")


def _read(data: bytes, layout: str | None,
          ) -> tuple[list[list[Cell]], int, BroadbandLayout, str]:
    """The grid, its header row, the layout and how messages name the sheet."""
    forced = None if layout is None else _named(layout)
    kind = _kind(data)
    if forced is not None and forced.reads != kind:
        article = "eine" if kind == "xlsx" else "keine"
        raise BroadbandFormatError(
            f"Die Datei passt nicht zum Layout „{layout}“: sie ist {article} XLSX-Datei.")
    if kind != "csv":
        reader = forced or _first(kind)
        grid, header_at, sheet = reader.sheet(data)
        return grid, header_at, reader, sheet
    grid = grids.csv_grid(data)
    header_at, reader = _csv_header(grid, forced)
    return grid, header_at, reader, ""


# --- selecting the area -----------------------------------------------------------
def _select(grid: list[list[Cell]], header_at: int, table: Table,
            wanted: str) -> list[Selected]:
    """The rows of ``wanted``, in one pass over the file."""
    own_level = _MUNICIPALITY if len(wanted) == 8 else _DISTRICT
    exact: list[Selected] = []
    within: list[Selected] = []  # municipalities of the district ``wanted``
    ags_at = table.columns["ags"]
    for number, cells in enumerate(grid[header_at + 1:], header_at + 2):
        if ags_at >= len(cells):
            continue
        found = ags_key(cells[ags_at])
        if not found.startswith(wanted):
            continue
        stated = level(table.cell(cells, "level"))
        if found == wanted and stated in (None, own_level):
            exact.append(Selected(number, cells, found))
        elif len(wanted) == 5 and len(found) == 8 and stated in (None, _MUNICIPALITY):
            within.append(Selected(number, cells, found))
    chosen = exact or within
    if not chosen:
        kind = "Gemeindeschlüssel" if len(wanted) == 8 else "Kreisschlüssel"
        raise BroadbandFormatError(f"Der {kind} „{wanted}“ kommt in der Datei nicht vor.")
    return chosen


# --- rows --------------------------------------------------------------------------
def _reference_date(selected: Sequence[Selected], table: Table, note: date | None,
                    given: date | None, sheet: str) -> date:
    found: set[date] = set()
    if "date" in table.columns:
        for row in selected:
            text = grids.cell_text(table.cell(row.cells, "date"))
            when = date_of(text) if text else None
            if text and when is None:
                raise BroadbandFormatError(f"{sheet}Zeile {row.number}, Spalte "
                                           f"„{table.label('date')}“: „{text}“ ist kein Datum.")
            found |= {when} if when else set()
    if len(found) > 1:
        dates = ", ".join(sorted(when.isoformat() for when in found))
        raise BroadbandFormatError(
            f"Die gewählten Zeilen nennen mehrere Stichtage ({dates}); je Stichtag eine Datei.")
    when = next(iter(found), None) or note or given
    if when is None:
        raise BroadbandFormatError(
            "Kein Stichtag: die Datei nennt keinen (Spalte „Stichtag“ oder ein Vermerk wie "
            "„Festnetz: 12.2025“), und es ist keiner angegeben.")
    return when


def parse(data: bytes, *, ags: str = GELSENKIRCHEN, layout: str | None = None,
          reference_date: str | None = None, source: str = "",
          area_name: str | None = None) -> Parsed:
    """Rows of ``broadband.json`` for ``ags`` (8 digits: a municipality, 5: a
    district) from a Breitbandatlas file; ``layout`` (a registered layout of
    the family) is detected when not given, ``reference_date`` (YYYY-MM-DD)
    is used when the file states none, ``area_name`` names the area ``ags``
    when the file does not."""
    wanted = wanted_ags(ags)
    given = given_date(reference_date)
    grid, header_at, reader, sheet = _read(data, layout)
    table = _table(grid, header_at, reader)
    selected = _select(grid, header_at, table, wanted)
    note = date_note(grid[:header_at], reader.date_notes)
    when = _reference_date(selected, table, note, given, sheet)
    skipped: Counter[str] = Counter()
    if table.unknown:
        skipped[UNKNOWN_COLUMN] = table.unknown
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, int], str] = {}
    for row in selected:
        name = grids.cell_text(table.cell(row.cells, "name")) or (
            area_name if area_name and row.ags == wanted else row.ags)
        for where, technology, min_mbit, households in reader.values(row, table, sheet,
                                                                     skipped):
            seen_key = (row.ags, technology, min_mbit)
            if seen_key in seen:
                raise BroadbandFormatError(
                    f"AGS {row.ags}: Technologie „{technology}“ mit Mindestwert {min_mbit} "
                    f"steht doppelt ({seen[seen_key]}; {where}).")
            seen[seen_key] = where
            # the fields in the schema's order
            rows.append({"ags": row.ags, "area_name": name, "reference_date": when.isoformat(),
                         "technology": technology, "min_mbit": min_mbit,
                         "households_pct": households, "source": source})
    order = technology_order()
    rows.sort(key=lambda r: (r["ags"], order[r["technology"]], r["min_mbit"]))
    return Parsed(rows=rows, reference_date=when.isoformat(), skipped=dict(skipped))
