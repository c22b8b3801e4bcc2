"""Smart-city rankings: from published documents to rows of ``ranking.json``.

Owns: reading the Bitkom Smart City Index web pages and the CSV/XLSX tables
stewards upload (Bitkom, Haselhorst Associates), and turning them into rows of
the Table Schema ``schemas/tables/ranking.json`` (its field names, enums and
limits are read from that file, not repeated here). A document that is not
such a ranking raises ``RankingFormatError`` with a German message.

Must not touch: the network (``fetching`` gets the bytes), CKAN, publishing
or validating files (``validation``). Pure Python: lxml.html for HTML,
openpyxl for XLSX.

Bitkom pages (bitkom.org, Drupal): each edition is one page holding a table
per area (``Platz``, ``Tendenz``, ``Stadt``, ``Index``), each under a heading
naming the area; all tables are paged together, ten rows each, with
``?page=0, 1, ...`` (e.g. ``smart-city-index-2022?page=4``: places 41-50 of
every area).
A page is parsed for one area: the table whose caption or nearest preceding
heading names it; a page with a single ranking table and no area heading is
taken as that area's page.

Next page: a page has one when it contains an ``<a>`` or ``<link>`` with an
``href`` and the ``rel`` token ``next`` (Drupal's pager writes
``<a href="?page=2" rel="next">``). The caller fetches pages until
``has_next`` is false.

Trend (``Tendenz``), first match wins: a rank change as bitkom.org writes it,
``+3`` → up, ``-2`` (also with the minus sign U+2212) → down, ``0`` or ``±0``
→ same; the signs ▲ ↑ ⬆ ↗ → up, ▼ ↓ ⬇ ↘ → down, ● = - → ↔ and en/em dash →
same; the words steigend, gestiegen, aufsteiger, up → up; fallend, gefallen,
absteiger, down → down; gleich, gleichbleibend, unverändert, konstant, same →
same; neu, neueinsteiger, new → new. An icon without text is read from its
``title``, ``alt``, ``aria-label``, ``data-trend`` or class names (e.g.
``icon-arrow-up``). An empty cell has no trend; anything else unrecognised is
an error, because a silently dropped trend would hide a changed page layout.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath
from typing import Any, TypeVar

import lxml.html
from lxml import etree

from ... import resources
from . import grids

__all__ = ["BITKOM", "HASELHORST", "BitkomPage", "BitkomRow", "RankingFormatError",
           "bitkom_rows", "parse_bitkom_page", "parse_table"]


BITKOM = "Bitkom Smart City Index"
HASELHORST = "Haselhorst Smart City Ranking"
#: The area of a table without an area column.
OVERALL = "Gesamt"

Cell = grids.Cell
T = TypeVar("T")

_DIGITS = re.compile(r"[0-9]+")
_MINUS, _EN_DASH, _EM_DASH = "\u2212", "\u2013", "\u2014"
_RANK_CHANGE = re.compile(rf"(±|[+\-{_MINUS}])?([0-9]+)")
_WORD = re.compile(r"[a-zäöüß]+")
_HEADINGS = "self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6"
_REL_NEXT = "[@href][contains(concat(' ', normalize-space(@rel), ' '), ' next ')]"
_NEXT_LINKS = f"//a{_REL_NEXT} | //link{_REL_NEXT}"
_TREND_SIGNS = {"▲": "up", "↑": "up", "⬆": "up", "↗": "up",
                "▼": "down", "↓": "down", "⬇": "down", "↘": "down",
                "●": "same", "=": "same", _EN_DASH: "same", _EM_DASH: "same", "-": "same",
                "→": "same", "↔": "same"}
_TREND_WORDS = {"steigend": "up", "gestiegen": "up", "aufsteiger": "up", "up": "up",
                "fallend": "down", "gefallen": "down", "absteiger": "down", "down": "down",
                "gleich": "same", "gleichbleibend": "same", "unverändert": "same",
                "konstant": "same", "same": "same",
                "neu": "new", "neueinsteiger": "new", "new": "new"}
#: Where an icon says what it shows.
_TREND_ATTRIBUTES = ("title", "alt", "aria-label", "data-trend")


class RankingFormatError(grids.FormatError):
    """The document is not the expected ranking table (German message)."""


@dataclass(frozen=True)
class BitkomRow:
    """One line of a Bitkom table."""

    rank: int
    trend: str | None  # up, down, same, new
    city: str
    score: float | None


@dataclass(frozen=True)
class BitkomPage:
    """The rows of one area's table on one page, and whether a next page exists."""

    rows: tuple[BitkomRow, ...]
    has_next: bool


@dataclass(frozen=True)
class _Column:
    key: str
    headers: tuple[str, ...]  # as written in messages; matched by ``_normal``
    required: bool = False


_BITKOM_COLUMNS = (
    _Column("rank", ("Platz",), required=True),
    _Column("trend", ("Tendenz",)),
    _Column("city", ("Stadt",), required=True),
    _Column("score", ("Index",), required=True),
)
_TABLE_COLUMNS = (
    _Column("rank", ("Platz", "rank"), required=True),
    _Column("city", ("Stadt", "city"), required=True),
    _Column("score", ("Index", "Punkte", "score", "Smart-City-Grad"), required=True),
    _Column("area", ("Bereich", "area")),
    _Column("trend", ("Tendenz", "trend")),
    _Column("edition", ("Jahr", "Ausgabe", "edition")),
    _Column("ags", ("AGS",)),
    _Column("cities_ranked", ("Städte", "cities_ranked")),
)


@dataclass(frozen=True)
class _Layout:
    """Where each known column is, and the headers as the document writes them."""

    index: dict[str, int]
    header: tuple[str, ...]

    def label(self, key: str) -> str:
        return self.header[self.index[key]] if key in self.index else key

    def cell(self, cells: Sequence[T], key: str) -> T | None:
        position = self.index.get(key)
        # CSV rows may lack trailing empty cells
        return cells[position] if position is not None and position < len(cells) else None


@dataclass(frozen=True)
class _HtmlTable:
    layout: _Layout
    rows: list[list[lxml.html.HtmlElement]]
    area: str | None  # from its caption or heading, if that names an area


# --- the Table Schema -------------------------------------------------------
def _constraints(name: str) -> dict[str, Any]:
    return resources.field_constraints("ranking", name)


@cache
def _areas() -> dict[str, str]:
    """Normalised area label -> the schema's area; Bitkom calls the overall
    ranking "Gesamtwertung"."""
    areas = {_normal(area): area for area in _constraints("area")["enum"]}
    return {**areas, _normal("Gesamtwertung"): OVERALL}


def _area(label: str) -> str:
    area = _areas().get(_normal(label))
    if area is None:
        known = ", ".join(["Gesamtwertung", *_constraints("area")["enum"]])
        raise RankingFormatError(f"Unbekannter Bereich „{label}“ (bekannt: {known}).")
    return area


def _check_ranking(ranking: str) -> None:
    known = _constraints("ranking")["enum"]
    if ranking not in known:
        raise RankingFormatError(
            f"Unbekanntes Ranking „{ranking}“ (bekannt: {', '.join(known)}).")


def _check_range(value: float, field: str, label: str, where: str) -> None:
    limits = _constraints(field)
    low, high = limits.get("minimum"), limits.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        allowed = f"{low} bis {high}" if high is not None else f"mindestens {low}"
        raise RankingFormatError(
            f"{where}: {label} {grids.german(value)} ist nicht erlaubt ({allowed}).")


def _ranking_row(*, ranking: str, edition: int, city: str, area: str, rank: int,
                 score: float | None, source: str, ags: str | None = None,
                 cities_ranked: int | None = None, trend: str | None = None) -> dict[str, Any]:
    """A row of ``ranking.json``, its fields in the schema's order."""
    return {"ranking": ranking, "edition": edition, "city": city, "ags": ags, "area": area,
            "rank": rank, "score": score, "cities_ranked": cities_ranked, "trend": trend,
            "source": source}


def _check_unique(rows: Iterable[dict[str, Any]]) -> None:
    """The schema's primary key; city names compared ignoring case."""
    seen: set[tuple[Any, ...]] = set()
    for row in rows:
        key = (row["ranking"], row["edition"], row["area"], row["city"].casefold())
        if key in seen:
            raise RankingFormatError(
                f"Die Stadt „{row['city']}“ steht im Bereich „{row['area']}“ der Ausgabe "
                f"{row['edition']} mehrfach.")
        seen.add(key)


# --- values -------------------------------------------------------------------
def _normal(text: str) -> str:
    """For comparing headers and area names: case, spacing, -, _ and & ignored."""
    return " ".join(re.split(r"[\s_\-]+", text.casefold().replace("&", " und "))).strip()


def _integer(value: Cell, label: str, where: str) -> int | None:
    """A whole number (also the German ordinal ``17.``); None for an empty cell."""
    text = grids.cell_text(value)
    if not text:
        return None
    if not _DIGITS.fullmatch(text.removesuffix(".")):
        raise RankingFormatError(f"{where}: {label} „{text}“ ist keine ganze Zahl.")
    return int(text.removesuffix("."))


def _present(value: T | None, label: str, where: str) -> T:
    if value is None or value == "":
        raise RankingFormatError(f"{where}: {label} fehlt.")
    return value


def _rank(value: Cell, label: str, where: str) -> int:
    rank = _present(_integer(value, label, where), label, where)
    _check_range(rank, "rank", label, where)
    return rank


def _cities_ranked(value: Cell, label: str, where: str) -> int | None:
    count = _integer(value, label, where)
    if count is not None:
        _check_range(count, "cities_ranked", label, where)
    return count


def _score(value: Cell, label: str, where: str) -> float | None:
    """Index or percentage; empty where the ranking did not publish one."""
    text = grids.cell_text(value)
    if not text:
        return None
    score = grids.number(value)
    if score is None:
        raise RankingFormatError(f"{where}: {label} „{text}“ ist keine Zahl.")
    _check_range(score, "score", label, where)
    return score


def _city(value: Cell, where: str) -> str:
    return _present(grids.cell_text(value), "Stadt", where)


def _ags(value: Cell, where: str) -> str | None:
    text = grids.cell_text(value)
    if not text:
        return None
    # Excel drops the leading zero of Länder 01-09; seven digits are unambiguous
    if len(text) == 7 and _DIGITS.fullmatch(text):
        text = "0" + text
    if not (len(text) == 8 and _DIGITS.fullmatch(text)):
        raise RankingFormatError(
            f"{where}: AGS „{text}“ ist kein achtstelliger Gemeindeschlüssel.")
    return text


def _trend_of(label: str) -> str | None:
    text = label.strip().casefold()
    change = _RANK_CHANGE.fullmatch("".join(text.split()))
    if change:
        sign, digits = change.groups()
        if int(digits) == 0:
            return "same"
        # an unsigned number could be a rank as well as a change
        return {"+": "up", "-": "down", _MINUS: "down"}.get(sign or "")
    if text in _TREND_SIGNS:
        return _TREND_SIGNS[text]
    return next((_TREND_WORDS[w] for w in _WORD.findall(text) if w in _TREND_WORDS), None)


def _trend(labels: Iterable[str], where: str) -> str | None:
    """The first label that names a trend; None if all are empty."""
    labels = [label for label in labels if label.strip()]
    for label in labels:
        trend = _trend_of(label)
        if trend:
            return trend
    if labels:
        raise RankingFormatError(
            f"{where}: Tendenz „{labels[0]}“ ist unbekannt "
            "(erwartet z. B. +3, -2, 0, ▲, ▼, ●, steigend, fallend, neu).")
    return None


# --- columns -----------------------------------------------------------------
def _layout(header: Sequence[str], columns: Sequence[_Column]) -> _Layout:
    """The known columns in ``header``; error if a required one is missing."""
    positions: dict[str, list[int]] = {}
    for position, text in enumerate(header):
        positions.setdefault(_normal(text), []).append(position)
    index = {}
    for column in columns:
        hits = [p for name in column.headers for p in positions.get(_normal(name), [])]
        if len(hits) > 1:
            raise RankingFormatError(f"Die Spalte „{column.headers[0]}“ kommt mehrfach vor.")
        if hits:
            index[column.key] = hits[0]
        elif column.required:
            raise RankingFormatError(_missing_column(column, header))
    return _Layout(index, tuple(header))


def _missing_column(column: _Column, header: Sequence[str]) -> str:
    names = "“, „".join(column.headers)
    found = ", ".join(text for text in header if text) or "keine"
    return f"Die Spalte „{names}“ fehlt (gefundene Spalten: {found})."


def _known_headers(header: Sequence[str], columns: Sequence[_Column]) -> int:
    names = {_normal(name) for column in columns for name in column.headers}
    return sum(_normal(text) in names for text in header)


# --- Bitkom web pages -------------------------------------------------------------
def parse_bitkom_page(html: bytes | str, area: str | None = None) -> BitkomPage:
    """The rows of the table of ``area`` (e.g. "Gesamtwertung") on a Bitkom page.

    Without ``area`` the page must hold a single ranking table.
    """
    document = _html_document(html)
    table = _select_table(_ranking_tables(document), area)
    rows = tuple(_bitkom_row(cells, table.layout, f"Zeile {number}")
                 for number, cells in enumerate(table.rows, 1))
    if not rows:
        raise RankingFormatError("Die Ranking-Tabelle enthält keine Zeilen.")
    return BitkomPage(rows=rows, has_next=bool(document.xpath(_NEXT_LINKS)))


def bitkom_rows(pages: Mapping[str, Sequence[bytes | str]], edition: int,
                cities_ranked: int | None, source: str) -> list[dict[str, Any]]:
    """Rows of ``ranking.json`` from the pages of each area, in page order.

    ``pages`` maps the area as Bitkom names it ("Gesamtwertung", "Mobilität",
    ...) to its pages; ``cities_ranked`` defaults to the rows of each area.
    """
    _check_range(edition, "edition", "Ausgabe", "Bitkom")
    if cities_ranked is not None:
        _check_range(cities_ranked, "cities_ranked", "Bewertete Städte", "Bitkom")
    rows: list[dict[str, Any]] = []
    for label, documents in pages.items():
        area = _area(label)
        entries = _area_entries(label, documents)
        rows += [_ranking_row(ranking=BITKOM, edition=edition, city=entry.city, area=area,
                              rank=entry.rank, score=entry.score, trend=entry.trend,
                              cities_ranked=cities_ranked or len(entries), source=source)
                 for entry in entries]
    _check_unique(rows)
    return rows


def _area_entries(label: str, documents: Sequence[bytes | str]) -> list[BitkomRow]:
    if not documents:
        raise RankingFormatError(f"Für den Bereich „{label}“ liegt keine Seite vor.")
    entries: list[BitkomRow] = []
    for number, document in enumerate(documents, 1):
        try:
            page = parse_bitkom_page(document, area=label)
        except RankingFormatError as error:
            raise RankingFormatError(
                f"Bereich „{label}“, Seite {number}: {error.message_de}") from error
        entries += page.rows
    if page.has_next:
        # counting the rows of an incomplete ranking would give a wrong cities_ranked
        raise RankingFormatError(f"Bereich „{label}“: Seite {number} verweist auf eine "
                                 "weitere Seite; es fehlen Seiten.")
    return entries


def _html_document(html: bytes | str) -> lxml.html.HtmlElement:
    text = grids.decode(html) if isinstance(html, bytes) else html
    if not text.strip():
        raise RankingFormatError("Die Seite ist leer.")
    try:
        return lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as error:
        raise RankingFormatError("Die Seite lässt sich nicht als HTML lesen.") from error


def _ranking_tables(document: lxml.html.HtmlElement) -> list[_HtmlTable]:
    """The tables with Bitkom's headers; otherwise the error of the table that
    comes closest."""
    found: list[_HtmlTable] = []
    errors: list[tuple[int, RankingFormatError]] = []
    for table in document.iter("table"):
        rows = table.xpath("./thead/tr | ./tbody/tr | ./tr")  # no tfoot: notes, not cities
        if not rows:
            continue
        header = [_element_text(cell) for cell in rows[0].xpath("./th | ./td")]
        try:
            layout = _layout(header, _BITKOM_COLUMNS)
        except RankingFormatError as error:
            errors.append((_known_headers(header, _BITKOM_COLUMNS), error))
            continue
        cells = [row.xpath("./td | ./th") for row in rows[1:] if row.xpath("./td")]
        found.append(_HtmlTable(layout, cells, _table_area(table)))
    if found:
        return found
    if not errors:
        raise RankingFormatError("Die Seite enthält keine Tabelle.")
    closest, error = max(errors, key=lambda item: item[0])
    if closest == 0:
        required = ", ".join(f"„{c.headers[0]}“" for c in _BITKOM_COLUMNS if c.required)
        raise RankingFormatError(f"Die Seite enthält keine Ranking-Tabelle (Spalten {required}).")
    raise error


def _table_area(table: lxml.html.HtmlElement) -> str | None:
    # the caption first, then the nearest heading before the table
    titles = [*table.xpath("./caption"), *table.xpath(f"preceding::*[{_HEADINGS}][1]")]
    return next((_areas()[_normal(_element_text(t))] for t in titles
                 if _normal(_element_text(t)) in _areas()), None)


def _select_table(tables: list[_HtmlTable], area: str | None) -> _HtmlTable:
    if area is None:
        if len(tables) > 1:
            raise RankingFormatError(f"Die Seite enthält {len(tables)} Ranking-Tabellen; "
                                     "der Bereich muss angegeben werden.")
        return tables[0]
    wanted = _area(area)
    matching = [table for table in tables if table.area == wanted]
    if len(matching) > 1:
        raise RankingFormatError(f"Die Seite enthält mehrere Tabellen für „{area}“.")
    if matching:
        return matching[0]
    if len(tables) == 1 and tables[0].area is None:
        return tables[0]  # a page of one area, without a heading naming it
    raise RankingFormatError(f"Die Seite enthält keine Tabelle für den Bereich „{area}“.")


def _bitkom_row(cells: list[lxml.html.HtmlElement], layout: _Layout, where: str) -> BitkomRow:
    if len(cells) <= max(layout.index.values()):
        raise RankingFormatError(f"{where}: Die Zeile hat nur {len(cells)} Zellen.")
    text = {key: _element_text(layout.cell(cells, key)) for key in layout.index}
    trend_cell = layout.cell(cells, "trend")
    return BitkomRow(
        rank=_rank(text["rank"], layout.label("rank"), where),
        trend=None if trend_cell is None else _trend(_trend_labels(trend_cell), where),
        city=_city(text["city"], where),
        score=_score(text["score"], layout.label("score"), where))


def _element_text(element: lxml.html.HtmlElement | None) -> str:
    return "" if element is None else " ".join(element.text_content().split())


def _trend_labels(cell: lxml.html.HtmlElement) -> list[str]:
    """The cell's text, then what icons in it say. The cell's own class is left
    out: it styles the column, not the value."""
    labels = [_element_text(cell)]
    for element in cell.iter(etree.Element):
        labels += [element.get(name, "") for name in _TREND_ATTRIBUTES]
        if element is not cell:
            labels.append(element.get("class", ""))
    return labels


# --- CSV and XLSX tables ----------------------------------------------------------
def parse_table(data: bytes, filename: str, ranking: str, edition: int | None,
                source: str) -> list[dict[str, Any]]:
    """Rows of ``ranking.json`` from a CSV or XLSX file a steward provides.

    Columns by German or English header (any case): Platz/rank, Stadt/city,
    Index/Punkte/score/Smart-City-Grad are required; Bereich/area (default
    "Gesamt"), Tendenz/trend, Jahr/Ausgabe/edition (required without
    ``edition``; must agree with it), AGS, Städte/cities_ranked are optional.
    ``cities_ranked`` stays empty unless given: an upload may be an excerpt.
    """
    _check_ranking(ranking)
    layout, records = _table_records(_read_grid(data, filename))
    if edition is None and "edition" not in layout.index:
        raise RankingFormatError("Die Spalte „Jahr“ (oder „Ausgabe“, „edition“) fehlt, "
                                 "und es ist keine Ausgabe angegeben.")
    rows = [_table_row(cells, layout, f"Zeile {number}", ranking=ranking, edition=edition,
                       source=source) for number, cells in records]
    _check_unique(rows)
    return rows


def _read_grid(data: bytes, filename: str) -> list[list[Cell]]:
    suffix = PurePath(filename).suffix.casefold()
    if suffix in (".csv", ".txt"):
        return grids.csv_grid(data)
    if suffix == ".xlsx":
        try:
            return grids.xlsx_grid(data)
        except grids.GridError as error:
            raise RankingFormatError(str(error)) from error
    raise RankingFormatError(
        f"Das Dateiformat von „{filename}“ wird nicht unterstützt (CSV oder XLSX).")


def _table_records(grid: list[list[Cell]]) -> tuple[_Layout, list[tuple[int, list[Cell]]]]:
    """The layout from the first non-empty row, and the numbered rows after it."""
    records = [(number, row) for number, row in enumerate(grid, 1)
               if any(grids.cell_text(cell) for cell in row)]
    if not records:
        raise RankingFormatError("Die Datei ist leer.")
    (_, header), *rows = records
    layout = _layout([grids.cell_text(cell) for cell in header], _TABLE_COLUMNS)
    if not rows:
        raise RankingFormatError("Die Tabelle enthält keine Zeilen.")
    return layout, rows


def _table_row(cells: list[Cell], layout: _Layout, where: str, *, ranking: str,
               edition: int | None, source: str) -> dict[str, Any]:
    def value(key: str) -> Cell:
        return layout.cell(cells, key)

    area = grids.cell_text(value("area"))
    return _ranking_row(
        ranking=ranking, edition=_edition(value("edition"), edition, layout, where),
        city=_city(value("city"), where), ags=_ags(value("ags"), where),
        area=_area_in_row(area, where) if area else OVERALL,
        rank=_rank(value("rank"), layout.label("rank"), where),
        score=_score(value("score"), layout.label("score"), where),
        cities_ranked=_cities_ranked(value("cities_ranked"), layout.label("cities_ranked"),
                                     where),
        trend=_trend([grids.cell_text(value("trend"))], where), source=source)


def _area_in_row(label: str, where: str) -> str:
    try:
        return _area(label)
    except RankingFormatError as error:
        raise RankingFormatError(f"{where}: {error.message_de}") from error


def _edition(value: Cell, given: int | None, layout: _Layout, where: str) -> int:
    label = layout.label("edition")
    edition = _integer(value, label, where)
    if edition is not None and given is not None and edition != given:
        raise RankingFormatError(
            f"{where}: {label} {edition} widerspricht der angegebenen Ausgabe {given}.")
    edition = _present(given if edition is None else edition, label, where)
    _check_range(edition, "edition", label, where)
    return edition
