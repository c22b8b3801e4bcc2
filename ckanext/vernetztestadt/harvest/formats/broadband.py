"""Broadband coverage: from Breitbandatlas files to rows of ``broadband.json``.

Owns: recognising the layouts in which the Breitbandatlas (Bundesnetzagentur,
formerly the federal transport ministry) publishes coverage, selecting one
area and turning its figures into rows of the Table Schema
``schemas/tables/broadband.json`` (long format: one row per area, reference
date, technology and speed class; the field names, the technology enum and
the percent limits are read from that file, not repeated here). A file that
is not such a table raises ``BroadbandFormatError`` with a German message
naming row and column.

Must not touch: the network (``fetching`` gets the bytes), CKAN, publishing
or validating files (``validation``). Pure Python; decoding, CSV delimiters
and XLSX cells are ``grids``' job.

Layouts, recognised from the content (``detect_layout``):

- ``xlsx``: the workbook ``bba_MM_YYYY.xlsx`` (zip magic ``PK``). Only the
  sheet ``Privathaushalte`` is read; ``Fläche``, ``Schulen``, ... count other
  things than households. Its header row holds ``AGS``, ``Name`` and
  ``Verwaltungsebene``; a value column is either labelled with technology and
  speed (``FTTH/B ≥ 1000 Mbit/s``) or with the speed only (``≥ 16 Mbit/s``)
  under a group row naming the technology of its block (merged cells: the
  label stands over the first column of the block and holds until the next).
- ``german_csv``: one row per municipality, headers like
  ``alle Technologien ≥ 16 Mbit/s`` (also ``>=``), any delimiter. The
  published municipality tables of households (end of 2018: quoted AGS,
  whole percents; end of 2020: unquoted AGS, two decimals, also ≥ 8 and
  ≥ 10 Mbit/s and the districts of Berlin and Hamburg as 8-digit rows) have
  no name column and label wired, wireless and cable columns
  ``leitungsg. Technologien``, ``mobile Technologien`` and ``CATV``.
- ``coded_csv``: ``verf_<tech>_<n>`` columns; ``<tech>`` is 300 (all
  technologies), 100 (wired), 200 (wireless) or a named technology (ftth,
  fttc, hfc, dsl, lte, 5g, 5gsa, wimax), ``<n>`` the minimum Mbit/s, for
  mobile the coverage class.
- ``legacy_csv``: the older export, the same codes without ``verf_``
  (``300_16``, ``WiMAX_50``), decimal comma, CRLF.
- ``mobile_long``: one row per AGS, technology and area type (``Technologie``,
  ``Flaechenart``, ``Flaechen Gruppe``, ``Flaechen Gruppe Name``,
  ``Verfügbarkeit``). Only rows whose ``Flaechenart`` or ``Flaechen Gruppe
  Name`` names households (contains "Haushalt": Haushalte, Privathaushalte)
  are kept, because the table counts households; rows for the area (Fläche)
  are skipped and counted. 4G/LTE, 5G and 5G SA become lte, 5g, 5g_sa; 2G/3G
  have no technology in the schema and are skipped and counted. ``min_mbit``
  is 0 (coverage without a speed class) unless the group name states one
  (``≥ 100 Mbit/s``, ``Klasse 2``).

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

Values: percent of households, 0-100, decimal point or comma. ``-``, en or
em dash and empty cells mean "no value" and are counted in ``skipped``;
any other text is an error, as is a value outside 0-100 or the same
technology and speed twice for one AGS. Unknown columns are skipped and
counted, unless no known value column exists at all.
"""
from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from ... import resources
from . import grids

__all__ = ["GELSENKIRCHEN", "LAYOUTS", "BroadbandFormatError", "Parsed", "detect_layout",
           "parse"]


GELSENKIRCHEN = "05513000"
LAYOUTS = ("german_csv", "coded_csv", "legacy_csv", "xlsx", "mobile_long")
HOUSEHOLDS_SHEET = "Privathaushalte"

# reasons in ``Parsed.skipped``
NO_VALUE = "kein Wert"
UNKNOWN_COLUMN = "unbekannte Spalte"
NOT_HOUSEHOLDS = "keine Haushalte"
OTHER_TECHNOLOGY = "Technologie nicht im Schema"

Cell = grids.Cell

_XLSX_MAGIC = b"PK"  # XLSX is a zip archive
_HEADER_SEARCH = 20  # CSV rows before the header: titles, notes
_GROUP_SEARCH = 3  # rows above the XLSX header that may name the technologies
_MUNICIPALITY, _DISTRICT = 4, 3  # Verwaltungsebene "4 - Gemeinde", "3 - Kreis"
_DASHES = frozenset({"", "-", "\u2013", "\u2014"})
_DIGITS = re.compile(r"[0-9]+")
_SPEED = re.compile(r"(?P<tech>.*?)\s*(?P<ge>≥|>=)?\s*(?P<n>[0-9]+)\s*"
                    r"(?:(?P<unit>[mg])\s*bit(?:\s*/\s*s|s)?)?", re.IGNORECASE)
_CODE = re.compile(r"(?P<prefix>verf_)?(?P<tech>[a-z0-9_]+?)_(?P<n>[0-9]+)")
_CLASS = re.compile(r"(?:≥|>=)\s*(?P<n>[0-9]+)\s*(?P<unit>[mg])\s*bit|klasse\s*(?P<k>[0-9]+)",
                    re.IGNORECASE)
_DATE_NOTE = re.compile(r"(festnetz|mobilfunk|datenstand|stichtag|stand)\s*:?\s*"
                        r"([0-9][0-9./-]*[0-9])", re.IGNORECASE)
_LEVEL_DIGIT = re.compile(r"\s*([0-9])\b")
_LEVEL_WORDS = (("gemeinde", 4), ("kreis", 3), ("land", 2), ("bund", 1))

#: Technology labels as the Breitbandatlas writes them; compared by ``_key``.
_TECHNOLOGY_LABELS = {
    "all": ("alle Technologien", "alle"),
    "wired": ("leitungsgebunden", "leitungsg. Technologien", "leitungsgebundene Technologien"),
    "wireless": ("drahtlos", "mobil", "drahtlos/mobil", "Mobilfunk", "mobile Technologien",
                 "drahtlose Technologien"),
    "ftth_b": ("FTTH/B", "FTTH", "FTTB", "FTTH/FTTB"),
    "fttc": ("FTTC/VDSL", "FTTC", "VDSL"),
    "hfc": ("HFC/Kabel", "HFC", "Kabel", "Kabel (HFC)", "CATV"),
    "dsl": ("DSL", "ADSL"),
    "lte": ("LTE", "4G"),
    "5g": ("5G", "5G NSA"),
    "5g_sa": ("5G SA", "5G Standalone"),
    "wimax": ("WiMAX",),
}
#: The numeric technology codes of the coded exports.
_TECHNOLOGY_CODES = {"300": "all", "100": "wired", "200": "wireless"}
_MOBILE_TECHNOLOGIES = ("lte", "5g", "5g_sa")
#: Mobile generations the schema has no technology for.
_OTHER_MOBILE = ("2G", "GSM", "3G", "UMTS")


class BroadbandFormatError(grids.FormatError):
    """The file is not the expected coverage table (German message)."""


@dataclass(frozen=True)
class Parsed:
    """Rows of ``broadband.json`` for the selected area, and what was left out."""

    rows: list[dict[str, Any]]
    reference_date: str  # YYYY-MM-DD
    skipped: dict[str, int]  # German reason -> count


@dataclass(frozen=True)
class _Column:
    key: str
    headers: tuple[str, ...]  # as written in messages; matched by ``_key``


_AGS = _Column("ags", ("AGS", "Gemeindeschlüssel", "Amtlicher Gemeindeschlüssel"))
_COLUMNS = (
    _AGS,
    _Column("name", ("Name", "Gemeinde", "Gemeindename", "Gebiet", "Gebietsname", "GEN")),
    _Column("date", ("Stichtag", "Datum")),
    _Column("level", ("Verwaltungsebene",)),
)
_MOBILE_COLUMNS = (
    _Column("technology", ("Technologie",)),
    _Column("area_type", ("Flaechenart",)),
    _Column("group", ("Flaechen Gruppe",)),
    _Column("group_name", ("Flaechen Gruppe Name",)),
    _Column("availability", ("Verfügbarkeit",)),
)


@dataclass(frozen=True)
class _ValueColumn:
    position: int
    label: str  # as the file writes it, for messages
    technology: str
    min_mbit: int


@dataclass(frozen=True)
class _Table:
    """Where the columns of a file are."""

    layout: str
    columns: dict[str, int]  # _Column.key -> position
    labels: tuple[str, ...]  # the header as written
    values: tuple[_ValueColumn, ...]  # empty for mobile_long
    unknown: int  # columns neither known nor values

    def cell(self, cells: Sequence[Cell], key: str) -> Cell:
        position = self.columns.get(key)
        # CSV rows may lack trailing empty cells
        return cells[position] if position is not None and position < len(cells) else None

    def label(self, key: str) -> str:
        return self.labels[self.columns[key]]


@dataclass(frozen=True)
class _Selected:
    number: int  # row number in the sheet or file, for messages
    cells: list[Cell]
    ags: str


# --- the Table Schema -------------------------------------------------------
def _constraints(name: str) -> dict[str, Any]:
    return resources.field_constraints("broadband", name)


@cache
def _technology_order() -> dict[str, int]:
    return {name: order for order, name in enumerate(_constraints("technology")["enum"])}


@cache
def _technologies() -> dict[str, str]:
    """``_key`` of a label -> the schema's technology."""
    labels = {_key(label): technology for technology, names in _TECHNOLOGY_LABELS.items()
              for label in names}
    unknown = set(labels.values()) - set(_technology_order())
    if unknown:  # a mapping the schema does not allow would only fail at validation
        raise RuntimeError(f"Technologien fehlen im Schema: {sorted(unknown)}")
    return labels


def _row(selected: _Selected, name: str, when: date, technology: str, min_mbit: int,
         percent: float, source: str) -> dict[str, Any]:
    """A row of ``broadband.json``, its fields in the schema's order."""
    return {"ags": selected.ags, "area_name": name, "reference_date": when.isoformat(),
            "technology": technology, "min_mbit": min_mbit, "households_pct": percent,
            "source": source}


# --- values -------------------------------------------------------------------
def _key(text: str) -> str:
    """Labels compared without spaces (``FTTH/B`` = ``FTTHB``)."""
    return grids.key(text).replace(" ", "")


def _percent(value: Cell, where: str) -> float | None:
    """Percent of households, rounded to 2 decimals; None for a dash or empty cell."""
    text = grids.cell_text(value)
    if text in _DASHES:
        return None
    number = grids.number(value)
    if number is None:
        raise BroadbandFormatError(f"{where}: „{text}“ ist keine Zahl.")
    limits = _constraints("households_pct")
    low, high = limits["minimum"], limits["maximum"]
    if not low <= number <= high:
        raise BroadbandFormatError(
            f"{where}: {grids.german(number)} % liegt nicht zwischen {low} und {high} %.")
    return round(number, 2)


def _ags_key(value: Cell) -> str:
    """The AGS of a cell, padded: 5513000 -> 05513000, 5513 -> 05513.

    A cell that is no key stays as written and so matches no selection.
    """
    text = grids.cell_text(value).strip("=\"' ")  # ="05513000" and '05513000 keep Excel's zeros
    if not _DIGITS.fullmatch(text):
        return text
    # Länder 01-09 lose one leading zero as a number; more cannot go missing
    width = {7: 8, 4: 5}.get(len(text), len(text))
    return text.zfill(width)


def _wanted_ags(ags: str) -> str:
    key = _ags_key(ags)
    if not (_DIGITS.fullmatch(key) and len(key) in (5, 8)):
        raise BroadbandFormatError(
            f"„{ags}“ ist weder ein Gemeindeschlüssel (8 Stellen) noch ein "
            "Kreisschlüssel (5 Stellen).")
    return key


def _level(value: Cell) -> int | None:
    """The Verwaltungsebene: ``4 - Gemeinde`` -> 4; None if not stated."""
    text = grids.cell_text(value)
    digit = _LEVEL_DIGIT.match(text)
    if digit:
        return int(digit[1])
    key = _key(text)
    return next((level for word, level in _LEVEL_WORDS if word in key), None)


def _date_of(text: str) -> date | None:
    """``2025-12-31``, ``31.12.2025``, or a month (``12.2025``, ``12/2025``,
    ``2025-12``) as its last day; None if not a date."""
    text = text.strip()
    patterns = ((r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T].*)?", (0, 1, 2)),
                (r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})", (2, 1, 0)),
                (r"([0-9]{1,2})[./]([0-9]{4})", (1, 0, None)),
                (r"([0-9]{4})-([0-9]{1,2})", (0, 1, None)))
    for pattern, (year_at, month_at, day_at) in patterns:
        match = re.fullmatch(pattern, text)
        if not match:
            continue
        parts = match.groups()
        year, month = int(parts[year_at]), int(parts[month_at])
        try:
            day = int(parts[day_at]) if day_at is not None else (
                calendar.monthrange(year, month)[1])
            return date(year, month, day)
        except ValueError:  # month 13, 31 February; IllegalMonthError is one too
            return None
    return None


def _given_date(text: str | None) -> date | None:
    if not text:
        return None
    found = _date_of(text) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) else None
    if found is None:
        raise BroadbandFormatError(f"Der Stichtag „{text}“ ist kein Datum (JJJJ-MM-TT).")
    return found


def _date_note(rows: Iterable[Sequence[Cell]], layout: str) -> date | None:
    """The date of a note like ``Festnetz: 12.2025`` in ``rows``."""
    found: dict[str, date] = {}
    for cells in rows:
        # a label cell "Stand:" next to a date cell reads as one note
        for match in _DATE_NOTE.finditer(" ".join(grids.cell_text(cell) for cell in cells)):
            kind = match[1].casefold()
            kind = kind if kind in ("festnetz", "mobilfunk") else "stand"
            when = _date_of(match[2])
            if when is not None:
                found.setdefault(kind, when)
    order = ("mobilfunk", "stand", "festnetz") if layout == "mobile_long" else (
        "festnetz", "stand", "mobilfunk")
    return next((found[kind] for kind in order if kind in found), None)


# --- columns -----------------------------------------------------------------
def _technology(label: str) -> str | None:
    return _technologies().get(_key(label))


def _speed_column(label: str, group: str) -> tuple[str, int] | None:
    """``FTTH/B ≥ 1000 Mbit/s``, or ``≥ 16 Mbit/s`` under the group ``FTTH/B``."""
    match = _SPEED.fullmatch(" ".join(label.split()))
    if not match or not (match["ge"] or match["unit"]):
        return None
    technology = _technology(match["tech"] or group)
    if technology is None:
        return None
    gigabit = (match["unit"] or "").casefold() == "g"
    return technology, int(match["n"]) * (1000 if gigabit else 1)


def _code_column(label: str, prefixed: bool) -> tuple[str, int] | None:
    """``verf_300_16`` (coded) or ``300_16`` (legacy)."""
    match = _CODE.fullmatch(label.strip().casefold())
    if not match or bool(match["prefix"]) != prefixed:
        return None
    code = match["tech"].replace("_", "")
    technology = _TECHNOLOGY_CODES.get(code) or _technology(code)
    return None if technology is None else (technology, int(match["n"]))


def _value_column(label: str, group: str, layout: str) -> tuple[str, int] | None:
    if layout == "coded_csv":
        return _code_column(label, prefixed=True)
    if layout == "legacy_csv":
        return _code_column(label, prefixed=False)
    return _speed_column(label, group)


def _detect(header: Sequence[Cell]) -> str | None:
    """The CSV layout whose columns ``header`` holds; None if none."""
    labels = [grids.cell_text(cell) for cell in header if grids.cell_text(cell)]
    keys = {_key(label) for label in labels}
    if {"technologie", "verfuegbarkeit"} <= keys:
        return "mobile_long"
    for layout in ("coded_csv", "legacy_csv", "german_csv"):
        if any(_value_column(label, "", layout) for label in labels):
            return layout
    return None


def _known_columns(header: Sequence[str], columns: Sequence[_Column]) -> dict[str, int]:
    """Position of each column in ``header``; of several names the first in
    ``headers`` wins, the same name twice is an error."""
    positions: dict[str, list[int]] = {}
    for position, text in enumerate(header):
        if text:
            positions.setdefault(_key(text), []).append(position)
    found = {}
    for column in columns:
        for name in column.headers:
            hits = positions.get(_key(name), [])
            if len(hits) > 1:
                raise BroadbandFormatError(f"Die Spalte „{header[hits[0]]}“ kommt mehrfach vor.")
            if hits:
                found[column.key] = hits[0]
                break
    return found


def _missing(names: Sequence[str], header: Sequence[str]) -> BroadbandFormatError:
    wanted = "“, „".join(names)
    present = ", ".join(text for text in header if text) or "keine"
    return BroadbandFormatError(f"Die Spalte „{wanted}“ fehlt (gefundene Spalten: {present}).")


def _group_row(grid: list[list[Cell]], header_at: int, width: int) -> list[str]:
    """The technology of each column from a group row above the XLSX header:
    a merged label stands over the first column of its block."""
    for cells in reversed(grid[max(0, header_at - _GROUP_SEARCH):header_at]):
        labels = [grids.cell_text(cell) for cell in cells]
        if not any(_technology(label) for label in labels):
            continue
        group, current = [], ""
        for position in range(width):
            label = labels[position] if position < len(labels) else ""
            current = label or current
            group.append(current)
        return group
    return [""] * width


def _table(grid: list[list[Cell]], header_at: int, layout: str) -> _Table:
    header = tuple(grids.cell_text(cell) for cell in grid[header_at])
    mobile = layout == "mobile_long"
    columns = _known_columns(header, _COLUMNS + (_MOBILE_COLUMNS if mobile else ()))
    if "ags" not in columns:
        raise _missing(_AGS.headers, header)
    group = _group_row(grid, header_at, len(header)) if layout == "xlsx" else [""] * len(header)
    values: list[_ValueColumn] = []
    unknown = 0
    for position, label in enumerate(header):
        if not label or position in columns.values():
            continue
        found = None if mobile else _value_column(label, group[position], layout)
        if found is None:
            unknown += 1
        else:
            # a speed label under a group row reads "FTTH/B ≥ 1000 Mbit/s" in messages
            named = layout != "xlsx" or _speed_column(label, "") is not None
            shown = label if named else f"{group[position]} {label}"
            values.append(_ValueColumn(position, shown, *found))
    if mobile:
        for column in _MOBILE_COLUMNS:
            if column.key in ("technology", "availability") and column.key not in columns:
                raise _missing(column.headers, header)
        if "area_type" not in columns and "group_name" not in columns:
            raise _missing(("Flaechenart", "Flaechen Gruppe Name"), header)
    elif not values:
        present = ", ".join(text for text in header if text)
        raise BroadbandFormatError(
            f"Keine bekannte Spalte mit Verfügbarkeiten für das Layout „{layout}“ "
            f"(gefundene Spalten: {present}).")
    return _Table(layout, columns, header, tuple(values), unknown)


# --- reading ----------------------------------------------------------------------
def detect_layout(data: bytes) -> str:
    """One of ``LAYOUTS``, from the content: XLSX by its zip magic, CSV by its header."""
    if data.startswith(_XLSX_MAGIC):
        return "xlsx"
    return _csv_header(grids.csv_grid(data), None)[1]


def _csv_header(grid: list[list[Cell]], layout: str | None) -> tuple[int, str]:
    """The header row and layout; a forced ``layout`` takes the first row with
    an AGS column, so the error names what is missing."""
    for index, cells in enumerate(grid[:_HEADER_SEARCH]):
        found = _detect(cells)
        if found is not None and layout in (None, found):
            return index, found
    non_empty = [index for index, cells in enumerate(grid)
                 if any(grids.cell_text(c) for c in cells)]
    if layout is not None and non_empty:
        with_ags = (index for index in non_empty[:_HEADER_SEARCH] if _has_ags(grid[index]))
        return next(with_ags, non_empty[0]), layout
    if not non_empty:
        raise BroadbandFormatError("Unbekanntes Layout: die Datei ist leer.")
    first = "; ".join(grids.cell_text(cell) for cell in grid[non_empty[0]])[:200]
    raise BroadbandFormatError(
        "Unbekanntes Layout: keine Kopfzeile des Breitbandatlas erkannt (erwartet z. B. "
        f"„alle Technologien ≥ 16 Mbit/s“, „verf_300_16“, „300_16“ oder „Technologie“ und "
        f"„Verfügbarkeit“; erste Zeile: {first}).")


def _households_sheet(data: bytes) -> list[list[Cell]]:
    try:
        sheets = grids.xlsx_sheets(data)
    except grids.GridError as error:
        raise BroadbandFormatError(str(error)) from error
    for name, grid in sheets.items():
        if _key(name) == _key(HOUSEHOLDS_SHEET):
            return grid
    found = ", ".join(sheets) or "keine"
    raise BroadbandFormatError(
        f"Das Tabellenblatt „{HOUSEHOLDS_SHEET}“ fehlt (gefundene Blätter: {found}); "
        "nur dieses Blatt zählt Haushalte.")


def _has_ags(cells: Sequence[Cell]) -> bool:
    names = {_key(name) for name in _AGS.headers}
    return any(_key(grids.cell_text(cell)) in names for cell in cells)


def _xlsx_header(grid: list[list[Cell]]) -> int:
    """The row holding ``AGS`` (with ``Name`` and ``Verwaltungsebene``)."""
    found = next((index for index, cells in enumerate(grid) if _has_ags(cells)), None)
    if found is None:
        raise BroadbandFormatError(
            f"Blatt „{HOUSEHOLDS_SHEET}“: keine Kopfzeile mit der Spalte „AGS“.")
    return found


def _read(data: bytes, layout: str | None) -> tuple[list[list[Cell]], int, str, str]:
    """The grid, its header row, the layout and how messages name the sheet."""
    if layout is not None and layout not in LAYOUTS:
        raise BroadbandFormatError(
            f"Unbekanntes Layout „{layout}“ (bekannt: {', '.join(LAYOUTS)}).")
    is_xlsx = data.startswith(_XLSX_MAGIC)
    if layout is not None and (layout == "xlsx") != is_xlsx:
        kind = "eine" if is_xlsx else "keine"
        raise BroadbandFormatError(
            f"Die Datei passt nicht zum Layout „{layout}“: sie ist {kind} XLSX-Datei.")
    if is_xlsx:
        grid = _households_sheet(data)
        return grid, _xlsx_header(grid), "xlsx", f"Blatt „{HOUSEHOLDS_SHEET}“, "
    grid = grids.csv_grid(data)
    header_at, found = _csv_header(grid, layout)
    return grid, header_at, found, ""


# --- selecting the area -----------------------------------------------------------
def _select(grid: list[list[Cell]], header_at: int, table: _Table,
            wanted: str) -> list[_Selected]:
    """The rows of ``wanted``, in one pass over the file."""
    own_level = _MUNICIPALITY if len(wanted) == 8 else _DISTRICT
    exact: list[_Selected] = []
    within: list[_Selected] = []  # municipalities of the district ``wanted``
    ags_at = table.columns["ags"]
    for number, cells in enumerate(grid[header_at + 1:], header_at + 2):
        if ags_at >= len(cells):
            continue
        key = _ags_key(cells[ags_at])
        if not key.startswith(wanted):
            continue
        level = _level(table.cell(cells, "level"))
        if key == wanted and level in (None, own_level):
            exact.append(_Selected(number, cells, key))
        elif len(wanted) == 5 and len(key) == 8 and level in (None, _MUNICIPALITY):
            within.append(_Selected(number, cells, key))
    chosen = exact or within
    if not chosen:
        kind = "Gemeindeschlüssel" if len(wanted) == 8 else "Kreisschlüssel"
        raise BroadbandFormatError(f"Der {kind} „{wanted}“ kommt in der Datei nicht vor.")
    return chosen


# --- rows --------------------------------------------------------------------------
def _reference_date(selected: Sequence[_Selected], table: _Table, note: date | None,
                    given: date | None, sheet: str) -> date:
    found: set[date] = set()
    if "date" in table.columns:
        for row in selected:
            text = grids.cell_text(table.cell(row.cells, "date"))
            when = _date_of(text) if text else None
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


def _households(row: _Selected, table: _Table) -> bool:
    kinds = (grids.cell_text(table.cell(row.cells, key)) for key in ("area_type", "group_name"))
    return any("haushalt" in _key(kind) for kind in kinds)


def _mobile_technology(label: str, where: str) -> str | None:
    """lte, 5g, 5g_sa; None for 2G/3G, which the schema has no technology for."""
    technology = _technology(label)
    if technology in _MOBILE_TECHNOLOGIES:
        return technology
    if _key(label) in {_key(other) for other in _OTHER_MOBILE}:
        return None
    raise BroadbandFormatError(f"{where}: Technologie „{label}“ ist unbekannt (erwartet "
                               "z. B. 4G, LTE, 5G, 5G SA).")


def _coverage_class(group_name: str) -> int:
    """The speed class a group name states (``≥ 100 Mbit/s``, ``Klasse 2``); else 0."""
    match = _CLASS.search(group_name)
    if not match:
        return 0
    if match["k"]:
        return int(match["k"])
    return int(match["n"]) * (1000 if match["unit"].casefold() == "g" else 1)


def _values(row: _Selected, table: _Table, sheet: str,
            skipped: Counter[str]) -> Iterable[tuple[str, str, int, float]]:
    """(where, technology, min_mbit, percent) of one selected row."""
    if table.layout == "mobile_long":
        where = f"{sheet}Zeile {row.number}"
        if not _households(row, table):
            skipped[NOT_HOUSEHOLDS] += 1
            return
        technology = _mobile_technology(grids.cell_text(table.cell(row.cells, "technology")), where)
        if technology is None:
            skipped[OTHER_TECHNOLOGY] += 1
            return
        where += f", Spalte „{table.label('availability')}“"
        percent = _percent(table.cell(row.cells, "availability"), where)
        min_mbit = _coverage_class(grids.cell_text(table.cell(row.cells, "group_name")))
        if percent is None:
            skipped[NO_VALUE] += 1
        else:
            yield where, technology, min_mbit, percent
        return
    for column in table.values:
        where = f"{sheet}Zeile {row.number}, Spalte „{column.label}“"
        value = row.cells[column.position] if column.position < len(row.cells) else None
        percent = _percent(value, where)
        if percent is None:
            skipped[NO_VALUE] += 1
        else:
            yield where, column.technology, column.min_mbit, percent


def parse(data: bytes, *, ags: str = GELSENKIRCHEN, layout: str | None = None,
          reference_date: str | None = None, source: str = "",
          area_name: str | None = None) -> Parsed:
    """Rows of ``broadband.json`` for ``ags`` (8 digits: a municipality, 5: a
    district) from a Breitbandatlas file; ``layout`` (one of ``LAYOUTS``) is
    detected when not given, ``reference_date`` (YYYY-MM-DD) is used when the
    file states none, ``area_name`` names the area ``ags`` when the file
    does not."""
    wanted = _wanted_ags(ags)
    given = _given_date(reference_date)
    grid, header_at, found, sheet = _read(data, layout)
    table = _table(grid, header_at, found)
    selected = _select(grid, header_at, table, wanted)
    when = _reference_date(selected, table, _date_note(grid[:header_at], found), given, sheet)
    skipped: Counter[str] = Counter()
    if table.unknown:
        skipped[UNKNOWN_COLUMN] = table.unknown
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, int], str] = {}
    for row in selected:
        name = grids.cell_text(table.cell(row.cells, "name")) or (
            area_name if area_name and row.ags == wanted else row.ags)
        for where, technology, min_mbit, percent in _values(row, table, sheet, skipped):
            key = (row.ags, technology, min_mbit)
            if key in seen:
                raise BroadbandFormatError(
                    f"AGS {row.ags}: Technologie „{technology}“ mit Mindestwert {min_mbit} "
                    f"steht doppelt ({seen[key]}; {where}).")
            seen[key] = where
            rows.append(_row(row, name, when, technology, min_mbit, percent, source))
    order = _technology_order()
    rows.sort(key=lambda r: (r["ags"], order[r["technology"]], r["min_mbit"]))
    return Parsed(rows=rows, reference_date=when.isoformat(), skipped=dict(skipped))
